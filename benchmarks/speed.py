"""Training speed of shallowlab against the hardware's limit and other pipelines, side by side.

Run: ``python -m benchmarks.speed [--epochs N] [--threads N] [--models M..] [--pipelines P..]
[--json PATH]`` from the repository root.

Two models with the book's settings: softmax regression (Flatten + Linear(784, 10)) and the MLP
(784-256-10, ReLU), each trained by the pipelines of :mod:`benchmarks.pipelines` (shallowlab,
autograd, the book, scikit-learn) and set against the hardware's limit of :mod:`benchmarks.limits`
(the MLP's roofline, softmax regression's memory limit), on this one machine.

What is timed: the **training pass** of an epoch only (for the book that includes starting its
DataLoader workers, which it does every epoch). The data load is done once, before, and not timed.
Each pipeline, and the limit's measurement, runs in a process of its own, their epochs
interleaved (:mod:`benchmarks.processes`); the first epoch of each is a warm-up, and the figure
reported is the median of the epochs after it. The limit is the fastest of its measurements.
Evaluation on the 10000 test images is timed separately, once, after the last epoch, and its
accuracy printed so that no speed is bought with accuracy: every pipeline trains the same epochs.
The share of the CPUs that other processes use in the second before the run and during it is
printed and recorded (noisy above 10%).

Output: a table on stdout with each pipeline's epoch as a multiple of the limit and of
shallowlab's, and the targets (MLP within 1.3x its roofline, softmax within 3x its memory limit,
both at least 15x faster than the book); JSON with the machine, the settings, the limits and
every epoch time to ``--json PATH`` (default ``results.json`` beside this script; ``-`` prints
it). Exit status 1, with a one-line message, when the Fashion-MNIST files are not installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time

import torch

from benchmarks import common
from benchmarks.book import get_dataloader_workers
from benchmarks.pipelines import MODELS, PIPELINES
from benchmarks.processes import bench

PROG = "benchmarks.speed"
TARGET_X_LIMIT = {"mlp": 1.3, "softmax": 3.0}  # epoch / roofline, epoch / memory limit
TARGET_X_BOOK = 15.0  # book epoch / shallowlab epoch
HEADER = (
    "\nTraining pass per epoch: median (and best) of {timed} epochs after 1 warm-up; each "
    "pipeline in its own process, their epochs interleaved;\neval: once after training, on the "
    "10000 test images. x limit: epoch s / the hardware limit, the fastest of its measurements"
    "\n(mlp: roofline of its matrix products; softmax: its bytes at memory bandwidth); x faster: "
    "the pipeline's epoch s / shallowlab's.\n"
    f"{'model':8s} {'pipeline':11s} {'epoch s':>8s} {'(best)':>8s} {'eval s':>7s} "
    f"{'test acc':>8s} {'x limit':>8s} {'x faster':>9s}")
MEASURED = ("training pass per epoch (the book's includes starting its DataLoader workers), "
            "median after one warm-up epoch; each pipeline and the limit in a process of its "
            "own, their epochs and the limit's measurements interleaved; the limit is the "
            "fastest of its measurements; evaluation timed separately, once, after training")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--epochs", type=int, default=6,
                        help="epochs per model and pipeline, the first a warm-up (default 6)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads of this process (default: torch's choice)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--pipelines", nargs="+", choices=list(PIPELINES),
                        default=list(PIPELINES), help="default: all (sklearn where installed)")
    common.add_json_option(parser, "results.json")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: one warm-up and one timed")
    args.pipelines = list(args.pipelines)
    if "sklearn" in args.pipelines and importlib.util.find_spec("sklearn") is None:
        print(f"{PROG}: scikit-learn is not installed; its row is left out", file=sys.stderr)
        args.pipelines.remove("sklearn")
    if "shallowlab" not in args.pipelines:
        parser.error("--pipelines must include shallowlab, the yardstick of the ratios")
    return args


def _find(rows: list[dict], model: str, pipeline: str) -> dict | None:
    return next((r for r in rows if r["model"] == model and r["pipeline"] == pipeline), None)


def compare(rows: list[dict], limits: dict) -> None:
    """Each row's epoch as a multiple of its model's limit and of shallowlab's epoch."""
    for row in rows:
        ours = _find(rows, row["model"], "shallowlab")
        row["x_limit"] = row["median_epoch_seconds"] / limits[row["model"]]["seconds"]
        row["x_slower_than_shallowlab"] = \
            row["median_epoch_seconds"] / ours["median_epoch_seconds"]


def verdict(name: str, rows: list[dict]) -> dict:
    """shallowlab's ratios for model ``name`` against the targets."""
    ours, book = _find(rows, name, "shallowlab"), _find(rows, name, "book")
    return {
        "x_limit": ours["x_limit"], "target_x_limit": TARGET_X_LIMIT[name],
        "x_limit_met": ours["x_limit"] <= TARGET_X_LIMIT[name],
        "x_faster_than_book": book["x_slower_than_shallowlab"] if book else None,
        "target_x_faster_than_book": TARGET_X_BOOK,
        "x_faster_than_book_met": book["x_slower_than_shallowlab"] >= TARGET_X_BOOK
        if book else None,
    }


def print_table(epochs: int, rows: list[dict], limits: dict) -> None:
    print(HEADER.format(timed=epochs - 1))
    for name, limit in limits.items():
        print(f"{name:8s} {limit['kind']:11s} {limit['seconds']:8.3f}" + (
            f"   ({limit['flops'] / 1e9:.1f} GFLOP at {limit['gflops_per_s']:.0f} GFLOP/s)"
            if name == "mlp" else
            f"   ({limit['bytes'] / 1e6:.0f} MB at {limit['gb_per_s']:.1f} GB/s)"))
        for row in (r for r in rows if r["model"] == name):
            print(f"{name:8s} {row['pipeline']:11s} {row['median_epoch_seconds']:8.3f} "
                  f"{row['best_epoch_seconds']:8.3f} {row['eval_seconds']:7.3f} "
                  f"{row['test_acc']:8.4f} {row['x_limit']:7.2f}x "
                  f"{row['x_slower_than_shallowlab']:8.1f}x")


def targets_line(verdicts: dict, limits: dict) -> str:
    def met(ok: bool) -> str:
        return "met" if ok else "MISSED"

    return "targets: " + "; ".join(
        f"{name} {v['x_limit']:.2f}x {limits[name]['kind']} (<= {v['target_x_limit']}: "
        f"{met(v['x_limit_met'])})" + (
            f", {v['x_faster_than_book']:.1f}x faster than the book (>= {TARGET_X_BOOK}: "
            f"{met(v['x_faster_than_book_met'])})" if v["x_faster_than_book"] else "")
        for name, v in verdicts.items())


def gpu_note() -> str:
    if not torch.cuda.is_available():
        return "not measured: no CUDA device on this machine"
    return f"not measured by this script: run python -m {PROG} on the GPU machine"


def report(args: argparse.Namespace, results: tuple[list[dict], dict, dict],
           loads: tuple[float | None, float | None], seconds: float) -> dict:
    """The JSON: the machine and its load, the settings, the limits, the rows, the targets."""
    rows, limits, verdicts = results
    load = {"others_load_before": loads[0], "others_load_during": loads[1]}
    settings = {"epochs": args.epochs, "batch_size": common.BATCH, "lr": common.LR,
                "init_std": common.STD, "seed": common.SEED,
                "book_num_workers": get_dataloader_workers(), "threads": torch.get_num_threads()}
    return {"machine": {**common.machine(), **load}, "measured": MEASURED, "settings": settings,
            "limits": limits, "results": rows, "targets": verdicts, "gpu": gpu_note(),
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
    for name in args.models:
        model_rows, limits[name] = bench(name, args.epochs, args.pipelines, args.threads)
        rows += model_rows
    compare(rows, limits)
    verdicts = {name: verdict(name, rows) for name in args.models}
    print_table(args.epochs, rows, limits)
    print(targets_line(verdicts, limits))
    print(f"GPU: {gpu_note()}")
    loads = (others_before, others())
    if note := common.load_note(loads[1], loads[0]):
        print(note)
    seconds = time.perf_counter() - started
    common.write_report(report(args, (rows, limits, verdicts), loads, seconds), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
