"""Where a training step's time goes: the fused step of the book's MLP, operation by operation.

Run: ``python -m benchmarks.profile_step [--precisions fp32 bf16] [--epochs N] [--threads N]
[--rows N] [--json PATH]`` from the repository root.

For each precision, the MLP 784-256-10 with the book's settings (batch 256, SGD lr 0.1,
N(0, 0.01) weights) trained by ``fit`` on Fashion-MNIST exactly as ``benchmarks.pipelines``
trains it (the images held as the step takes them, shuffled batches gathered by ``Batches``), so
the loop's own work (the gather, the loss sum, the accuracy count) is in the profile too.
First ``--epochs`` epochs of each precision, interleaved, timed without the profiler (the first a
warm-up; the step is the median epoch over its 235 steps), each beside two bare loops of the
same step, timed alike: one gathering its batches as it goes, one on batches gathered before
(what ``fit`` adds, and what the gather adds); then one epoch of each under ``torch.profiler``
(CPU). The table gives, per precision, each ATen operation's self time per
step in microseconds and its calls per step, the matrix products (``addmm``, ``addmm_``, ``mm``)
marked; then the products' sum, the rest, and the profiled and unprofiled step. The profiler
adds a microsecond or two to every operation: the rest it shows is an upper bound.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch
from torch.profiler import ProfilerActivity, profile

from benchmarks import common
from benchmarks.pipelines import shallowlab_pipeline
from shallowlab.data import fashion_mnist

PROG = "benchmarks.profile_step"
PRODUCTS = {"aten::addmm", "aten::addmm_", "aten::mm", "aten::bmm", "aten::baddbmm"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"],
                        default=["fp32", "bf16"])
    parser.add_argument("--epochs", type=int, default=4,
                        help="unprofiled epochs per precision, the first a warm-up (default 4)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--rows", type=int, default=25, help="operations shown (default 25)")
    common.add_json_option(parser, "profile_step.json")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: one warm-up and one timed")
    return args


def profiled(epoch, steps: int) -> dict[str, dict]:
    """One epoch of ``steps`` steps under the profiler: per operation its self microseconds
    and calls per step."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        epoch()
    ops = {e.key: {"us_per_step": e.self_cpu_time_total / steps, "calls_per_step":
                   e.count / steps, "product": e.key in PRODUCTS}
           for e in prof.key_averages() if e.self_cpu_time_total > 0}
    return dict(sorted(ops.items(), key=lambda kv: -kv[1]["us_per_step"]))


def bare(step, train) -> dict[str, callable]:
    """An epoch of ``step`` without ``fit`` around it: on batches gathered beforehand (the step
    alone), and gathering each batch as it goes (the step and the gather). ``fit`` adds to the
    second the loss and accuracy sums, the divergence guard and the callbacks."""
    batches = list(train)  # the same order and values; 188 MB in fp32

    def alone() -> None:
        for X, y in batches:
            step.forward(X, y)
            step.update()

    def gathered() -> None:
        for X, y in train:
            step.forward(X, y)
            step.update()

    return {"alone": alone, "gathered": gathered}


def summary(ops: dict[str, dict], step_us: float) -> dict:
    products = sum(o["us_per_step"] for o in ops.values() if o["product"])
    rest = sum(o["us_per_step"] for o in ops.values() if not o["product"])
    return {"products_us": products, "rest_us": rest, "profiled_step_us": products + rest,
            "step_us": step_us, "ops_per_step": sum(o["calls_per_step"] for o in ops.values())}


def table(results: dict[str, dict], rows: int) -> list[str]:
    """Side by side: each operation's microseconds per step (and calls) in each precision."""
    names = list(results)
    order = sorted({op for r in results.values() for op in r["ops"]},
                   key=lambda op: -max(r["ops"].get(op, {}).get("us_per_step", 0)
                                      for r in results.values()))
    lines = [f"{'operation (self time per step)':32s}" + "".join(f"{n + ' us':>10s}{'calls':>7s}"
                                                              for n in names)]
    for op in order[:rows]:
        cells = ""
        for n in names:
            o = results[n]["ops"].get(op)
            cells += f"{o['us_per_step']:10.1f}{o['calls_per_step']:7.1f}" if o else f"{'':17s}"
        mark = " *" if any(r["ops"].get(op, {}).get("product") for r in results.values()) else ""
        lines.append(f"{op + mark:32s}{cells}")
    for key, label in (("products_us", "products (*)"), ("rest_us", "everything else"),
                       ("profiled_step_us", "step, profiled"), ("step_us", "step, unprofiled"),
                       ("gathered_us", "  the step and the gather alone"),
                       ("alone_us", "  the step alone (batches ready)"),
                       ("ops_per_step", "operations per step")):
        lines.append(f"{label:32s}" + "".join(f"{results[n]['summary'][key]:10.1f}{'':7s}"
                                              for n in names))
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if not common.data_found(PROG):
        return 1
    ds = fashion_mnist.load(allow_download=False)
    epochs = {p: shallowlab_pipeline("mlp", ds, precision=p)[0] for p in args.precisions}
    # each pipeline's epoch is partial(train_one_epoch, step, train): its args are the two
    variants = {p: {"fit": epoch, **bare(*epoch.args)} for p, epoch in epochs.items()}
    _, others = common.watch_load()
    seconds = {(p, v): [] for p in variants for v in variants[p]}
    for _ in range(args.epochs):  # interleaved, so that all see the same machine
        for p, kinds in variants.items():
            for v, epoch in kinds.items():
                seconds[p, v].append(common.timed(epoch)[0])
    results, steps = {}, -(-len(ds.train_images) // common.BATCH)
    for p, epoch in epochs.items():
        ops = profiled(epoch, steps)
        us = {v: statistics.median(seconds[p, v][1:]) / steps * 1e6 for v in variants[p]}
        results[p] = {"ops": ops, "summary": {**summary(ops, us["fit"]),
                                              "alone_us": us["alone"],
                                              "gathered_us": us["gathered"]},
                      "epoch_seconds": seconds[p, "fit"]}
    print(f"{PROG}: MLP 784-256-10, batch {common.BATCH}, fused step, {common.cpu_line()}, "
          f"{torch.get_num_threads()} threads")
    print("\n".join(table(results, args.rows)))
    load = others()
    if note := common.load_note(load):
        print(note)
    common.write_report({"machine": {**common.machine(), "others_load_during": load},
                         "results": results}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
