"""Training speed of shallowlab against the hardware's limits and other pipelines, and what a
command costs around its training: everything in one run.

Run: ``python -m benchmarks.speed [--epochs N] [--bf16-epochs N] [--threads N] [--models M..]
[--pipelines P..] [--no-startup] [--startup-repeats N] [--accuracy-seeds N] [--json PATH]`` from
the repository root.

Two models with the book's settings: softmax regression (Flatten + Linear(784, 10)) and the MLP
(784-256-10, ReLU), each trained by the pipelines of :mod:`benchmarks.pipelines` (shallowlab in
fp32 and in bf16, autograd, the book, scikit-learn) and set against the hardware's limits of
:mod:`benchmarks.limits`, measured for both: the roofline of the epoch's matrix products, each
at the fastest of its layouts, for an fp32 step and for a bf16 one, and the memory limit for the
bytes an epoch reads (float32 images and int64 labels). A row's ``x limit`` is against the
limit that binds it, the slower of the memory limit and its precision's roofline, and the table
names it.

What is timed: the **training pass** of an epoch only (for the book that includes starting its
DataLoader workers, which it does every epoch). The data load is done once, before, and not timed.
Each pipeline, and the limits' measurement, runs in a process of its own, their epochs
interleaved (:mod:`benchmarks.processes`); the first epoch of each is a warm-up, and the figure
reported is the median of the epochs after it. A limit is the fastest of its measurements.
Evaluation on the 10000 test images is timed separately, once, after the last epoch, and its
accuracy printed so that no speed is bought with accuracy. Every pipeline trains ``--epochs``
epochs but ``shallowlab-bf16`` where this CPU has no bf16 instructions
(:func:`shallowlab.core.devices.slow_bf16`): there torch converts every bf16 product, several times
slower than fp32, and it trains ``--bf16-epochs`` (default 3), which the table says beside its
accuracy. Then, unless ``--no-startup``, the start-up split of :mod:`benchmarks.startup`
(``--startup-repeats`` rounds of fresh processes). The share of the CPUs that other processes
use in the second before the run and during it is printed and recorded (noisy above 10%).

Output: the CPU named with the flags that decide its speed (AVX2, AVX-512, AVX-512 BF16, AMX);
the limits; a table with each pipeline's epoch as a multiple of its binding limit and of
shallowlab's, and the time it spends outside its products (the epoch less the roofline of its
precision); then the targets of :mod:`benchmarks.targets`, one line each, met, MISSED, or not
measured and why (the bf16 ones where this CPU has no bf16 instructions). Where bf16 is fast,
``--accuracy-seeds`` (default 3) seeds of the book's 10 epochs in fp32 and in bf16
(:mod:`benchmarks.accuracy`, some 20 s) for the accuracy target. Then the start-up table; JSON
with the machine, the settings, the limits, every epoch time, the targets and the start-up rows to
``--json PATH`` (default ``results.json`` beside this script; ``-`` prints it).
Exit status 1, with a one-line message, when the Fashion-MNIST files are not installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time

import torch

from benchmarks import accuracy, common, startup, targets
from benchmarks.book import get_dataloader_workers
from benchmarks.limits import binding
from benchmarks.pipelines import MODELS, PIPELINES, PRECISION
from benchmarks.processes import bench
from shallowlab.core.devices import slow_bf16
from shallowlab.data import fashion_mnist

PROG = "benchmarks.speed"
SLOW_BF16_EPOCHS = 3  # one warm-up and two timed, where a bf16 epoch takes several fp32 ones
HEADER = (
    "\nTraining pass per epoch: median (and best) of the epochs after 1 warm-up (ep: epochs "
    "trained); each pipeline in its own process, their epochs interleaved;\neval: once after "
    "training, on the 10000 test images. x limit: epoch s / the limit that binds (the slower of "
    "the memory limit and the roofline of the pipeline's precision),\neach limit the fastest of "
    "its measurements; x faster: the pipeline's epoch s / shallowlab's; outside: epoch s less "
    "the roofline of its precision, the time spent outside the products.\n")
COLUMNS = (f"{'model':8s} {'pipeline':15s} {'ep':>3s} {'epoch s':>8s} {'(best)':>8s} "
           f"{'eval s':>7s} {'test acc':>8s} {'x limit':>8s} {'(binding)':14s} {'x faster':>8s} "
           f"{'outside':>8s}")
MEASURED = ("training pass per epoch (the book's includes starting its DataLoader workers), "
            "median after one warm-up epoch; each pipeline and the limits in a process of its "
            "own, their epochs and the limits' measurements interleaved; a limit is the "
            "fastest of its measurements; evaluation timed separately, once, after training")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--epochs", type=int, default=6,
                        help="epochs per model and pipeline, the first a warm-up (default 6)")
    parser.add_argument("--bf16-epochs", type=int, default=None,
                        help="epochs of shallowlab-bf16 (default: --epochs where bf16 is fast, "
                        f"else {SLOW_BF16_EPOCHS})")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads of this process (default: torch's choice)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--pipelines", nargs="+", choices=list(PIPELINES),
                        default=list(PIPELINES), help="default: all (sklearn where installed)")
    parser.add_argument("--no-startup", dest="startup", action="store_false",
                        help="leave out the start-up split (benchmarks.startup)")
    parser.add_argument("--startup-repeats", type=int, default=5,
                        help="rounds of the start-up commands (default 5)")
    parser.add_argument("--accuracy-seeds", type=int, default=3,
                        help="seeds of the book's 10 epochs in fp32 and bf16, where bf16 is "
                        "fast (default 3; 0 leaves the accuracy target out)")
    common.add_json_option(parser, "results.json")
    args = parser.parse_args(argv)
    args.slow_bf16 = slow_bf16(torch.device("cpu"))
    if args.bf16_epochs is None:
        args.bf16_epochs = min(args.epochs, SLOW_BF16_EPOCHS) if args.slow_bf16 else args.epochs
    if min(args.epochs, args.bf16_epochs) < 2:
        parser.error("--epochs and --bf16-epochs must be at least 2: one warm-up and one timed")
    if args.startup_repeats < 1:
        parser.error("--startup-repeats must be at least 1")
    args.pipelines = list(args.pipelines)
    if "sklearn" in args.pipelines and importlib.util.find_spec("sklearn") is None:
        print(f"{PROG}: scikit-learn is not installed; its row is left out", file=sys.stderr)
        args.pipelines.remove("sklearn")
    if "shallowlab" not in args.pipelines:
        parser.error("--pipelines must include shallowlab, the yardstick of the ratios")
    return args


def compare(rows: list[dict], limits: dict) -> None:
    """Each row's epoch as a multiple of the limit that binds it and of shallowlab's epoch, and
    its time outside the products (the epoch less its precision's roofline)."""
    for row in rows:
        ours = targets.find(rows, row["model"], "shallowlab")
        model = limits[row["model"]]
        row["precision"] = PRECISION.get(row["pipeline"], "fp32")
        row["binding_limit"] = binding(model, row["precision"])
        row["x_limit"] = row["median_epoch_seconds"] / model[row["binding_limit"]]["seconds"]
        row["x_slower_than_shallowlab"] = \
            row["median_epoch_seconds"] / ours["median_epoch_seconds"]
        roof = model["roofline" if row["precision"] == "fp32" else "roofline bf16"]
        row["outside_products_seconds"] = row["median_epoch_seconds"] - roof["seconds"]


def limit_lines(name: str, limits: dict) -> list[str]:
    """One line per limit of model ``name``: its seconds, what it counts, which epochs it binds."""
    lines = []
    for kind, limit in limits.items():
        binds = [p for p in ("fp32", "bf16") if binding(limits, p) == kind]
        what = (f"{limit['bytes'] / 1e6:.0f} MB, {limit['pixels']} images and int64 labels, at "
                f"{limit['gb_per_s']:.1f} GB/s" if kind == "memory limit" else
                f"{limit['flops'] / 1e9:.2f} GFLOP at {limit['gflops_per_s']:.1f} GFLOP/s")
        lines.append(f"{name:8s} {kind:15s} {'':>3s} {limit['seconds']:8.3f}   ({what})"
                     + (f"  binds {' and '.join(binds)}" if binds else ""))
    return lines


def print_table(rows: list[dict], limits: dict) -> None:
    print(HEADER + COLUMNS)
    for name, model_limits in limits.items():
        print("\n".join(limit_lines(name, model_limits)))
        for row in (r for r in rows if r["model"] == name):
            print(f"{name:8s} {row['pipeline']:15s} {row['epochs']:3d} "
                  f"{row['median_epoch_seconds']:8.3f} {row['best_epoch_seconds']:8.3f} "
                  f"{row['eval_seconds']:7.3f} {row['test_acc']:8.4f} {row['x_limit']:7.2f}x "
                  f"{row['binding_limit']:14s} {row['x_slower_than_shallowlab']:7.1f}x "
                  f"{row['outside_products_seconds']:8.3f}")


def bf16_line(args: argparse.Namespace) -> str:
    if not args.slow_bf16:
        return "bf16: this CPU computes bf16 products natively"
    return (f"bf16: {args.slow_bf16}: torch converts every bf16 product, slower than fp32 (a run "
            "with --precision bf16 trains in fp32 here); shallowlab-bf16 forces bf16 for "
            f"{args.bf16_epochs} epochs")


def gpu_note() -> str:
    if not torch.cuda.is_available():
        return "not measured: no CUDA device on this machine"
    return f"not measured by this script: run python -m {PROG} on the GPU machine"


def bf16_accuracy(args: argparse.Namespace, verdicts: dict) -> dict | None:
    """The book's 10 epochs in fp32 and bf16 over ``--accuracy-seeds`` seeds where bf16 is
    fast, and its target added to the MLP's verdict (unmeasured, with the reason, elsewhere)."""
    if "mlp" not in verdicts or not args.accuracy_seeds:
        return None
    result = None
    if not args.slow_bf16:
        print(f"bf16 accuracy: the book's MLP, 10 epochs, {args.accuracy_seeds} seeds, in fp32 "
              "and bf16", file=sys.stderr, flush=True)
        result = accuracy.compare(fashion_mnist.load(allow_download=False), args.accuracy_seeds)
    verdicts["mlp"]["bf16_acc_gap"] = targets.accuracy_check(result and result["gap"],
                                                             args.slow_bf16)
    return result


def report(args: argparse.Namespace, results: tuple[list[dict], dict, dict, dict | None,
                                                    dict | None],
           loads: tuple[float | None, float | None], seconds: float) -> dict:
    """The JSON: the machine and its load, the settings, the limits, the rows, the targets, the
    start-up rows."""
    rows, limits, verdicts, accuracies, startup_rows = results
    load = {"others_load_before": loads[0], "others_load_during": loads[1]}
    settings = {"epochs": args.epochs, "bf16_epochs": args.bf16_epochs,
                "batch_size": common.BATCH, "lr": common.LR, "init_std": common.STD,
                "seed": common.SEED, "book_num_workers": get_dataloader_workers(),
                "threads": torch.get_num_threads(), "startup_repeats":
                args.startup_repeats if args.startup else None}
    return {"machine": {**common.machine(), **load, "slow_bf16": args.slow_bf16},
            "measured": MEASURED, "settings": settings, "limits": limits, "results": rows,
            "targets": verdicts, "bf16_accuracy": accuracies, "startup": startup_rows,
            "gpu": gpu_note(),
            "total_seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)  # the book's workers use 1 thread each regardless
    if not common.data_found(PROG):  # here, so that it is one line, not one per worker process
        return 1
    others_before, others = common.watch_load(settle=1.0)
    started = time.perf_counter()
    rows, limits = [], {}
    epochs = {p: args.bf16_epochs if PRECISION.get(p) == "bf16" else args.epochs
              for p in args.pipelines}
    for name in args.models:
        model_rows, limits[name] = bench(name, epochs, args.threads)
        rows += model_rows
    compare(rows, limits)
    verdicts = {name: targets.verdict(name, rows, limits, args.slow_bf16)
                for name in args.models}
    accuracies = bf16_accuracy(args, verdicts)
    print(f"{PROG}: {common.cpu_line()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print_table(rows, limits)
    print("\n".join(targets.lines(verdicts)))
    if "shallowlab-bf16" in args.pipelines:
        print(bf16_line(args))
    print(f"GPU: {gpu_note()}")
    startup_rows = None
    if args.startup:
        print(f"\nStart-up: median of {args.startup_repeats} rounds of fresh processes "
              f"({startup.PROG})")
        startup_rows = startup.measure(args.startup_repeats)
        print("\n".join(startup.table(startup_rows)))
    loads = (others_before, others())
    if note := common.load_note(loads[1], loads[0]):
        print(note)
    seconds = time.perf_counter() - started
    common.write_report(report(args, (rows, limits, verdicts, accuracies, startup_rows), loads,
                               seconds), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
