"""``d2l.train_ch3`` of softmax regression through ``shallowlab.d2l``, against the book's loaders.

Run: ``python -m benchmarks.book_layer [--epochs N] [--repeats R] [--json PATH]`` from the
repository root.

Both sides run the very same code, the book's section 3.7 through ``from shallowlab import d2l``:
``nn.Sequential(nn.Flatten(), nn.Linear(784, 10))`` with weights N(0, 0.01) from one seed,
``nn.CrossEntropyLoss(reduction="none")``, ``torch.optim.SGD(lr=0.1)``, batch 256, and
``d2l.train_ch3`` (train pass, test accuracy after each epoch, Animator, the book's checks).
They differ only in the ``train_iter, test_iter`` they are given:

* ``layer``: ``d2l.load_data_fashion_mnist(256)``: the images in memory, a batch one index slice;
* ``book``: the replica of d2l 0.17's ``load_data_fashion_mnist`` (``benchmarks.book``): a
  per-item ``Dataset`` that makes a PIL image of each picture and converts it to a float tensor (as
  torchvision's ``FashionMNIST`` + ``ToTensor`` do), in ``DataLoader(batch_size=256,
  shuffle=True, num_workers=4)``, for the training and the test set.

Timed: each whole ``train_ch3`` call (``--epochs``, default 6, so the book's checks pass).
Reading the files is done before and not timed (for the layer it is reported apart). The calls
of the two sides alternate, ``--repeats`` times (default 2); the figure is the median per side,
and the speed-up is book / layer. The animator's PNGs go to a temporary folder. The share of the
CPUs that other processes used is printed, as in ``benchmarks.speed``: above 10%, timings are noisy
(``--threads 1`` then degrades far less; the book's workers use one thread each anyway).

Exit status 1, with a one-line message, when the Fashion-MNIST files are not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import warnings

import torch
from torch import nn

from benchmarks import common
from benchmarks.book import book_loaders
from benchmarks.common import BATCH, LR, SEED
from shallowlab import d2l
from shallowlab.data import fashion_mnist

PROG = "benchmarks.book_layer"


def layer_loaders(ds, batch_size: int) -> tuple:
    """shallowlab's: built as ``d2l.load_data_fashion_mnist`` builds them, from ``ds``."""
    train = d2l.FashionMNISTSplit(ds.train_images, ds.train_labels)
    test = d2l.FashionMNISTSplit(ds.test_images, ds.test_labels)
    return (d2l.TensorLoader(train, batch_size, shuffle=True),
            d2l.TensorLoader(test, batch_size, shuffle=False))


def train_ch3_seconds(loaders: tuple, epochs: int) -> tuple[float, float, str]:
    """One ``d2l.train_ch3`` run of the book's 3.7 on ``loaders``: seconds, test acc, checks."""
    torch.manual_seed(SEED)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.normal_(net[1].weight, std=0.01)
    nn.init.zeros_(net[1].bias)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    printed, checks = io.StringIO(), "passed"
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        try:
            d2l.train_ch3(net, *loaders, loss, epochs, trainer)
        except d2l.TrainingCheckError as e:
            checks = str(e)
    seconds = time.perf_counter() - start
    d2l.plt.close("all")
    last = [line for line in printed.getvalue().splitlines() if line.startswith("epoch")][-1]
    return seconds, float(last.rsplit("test acc ", 1)[1]), checks


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--epochs", type=int, default=6, help="epochs per train_ch3 (default 6)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="train_ch3 calls per side, alternating (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads in this process (default: torch's own); "
                             "1 is steadier on a small, busy machine")
    common.add_json_option(parser, "book_layer.json")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    return args


def alternate(ds, epochs: int, repeats: int) -> dict[str, list[tuple[float, float, str]]]:
    """``repeats`` train_ch3 runs per side, the sides alternating: (seconds, test acc, checks)."""
    sides = {"layer": layer_loaders, "book": book_loaders}
    runs: dict[str, list] = {side: [] for side in sides}
    for i in range(repeats):
        for side, loaders in sides.items():
            print(f"{side} train_ch3 {i + 1}/{repeats}", file=sys.stderr, flush=True)
            runs[side].append(train_ch3_seconds(loaders(ds, BATCH), epochs))
    return runs


def print_table(args: argparse.Namespace, runs: dict, median: dict, read_seconds: float) -> None:
    print(f"\nd2l.train_ch3, softmax regression (3.7), {args.epochs} epochs, batch {BATCH}: "
          f"median of {args.repeats} runs per side, alternating")
    print(f"{'loaders':8s} {'seconds':>8s} {'s/epoch':>8s} {'test acc':>8s}  checks")
    for side, rs in runs.items():
        print(f"{side:8s} {median[side]:8.2f} {median[side] / args.epochs:8.3f} "
              f"{rs[-1][1]:8.3f}  {rs[-1][2]}")
    print(f"speed-up: {median['book'] / median['layer']:.1f}x (book / layer); reading the files "
          f"once, before: {read_seconds:.2f} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if not common.data_found(PROG):
        return 1
    read_seconds, ds = common.timed(lambda: fashion_mnist.load(allow_download=False))
    # The book's 4 workers on a small machine warn; that is its design, kept and silenced.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    os.environ["SHALLOWLAB_FIGURES"] = tempfile.mkdtemp(prefix="book-layer-figures-")
    _, others = common.watch_load()
    runs = alternate(ds, args.epochs, args.repeats)
    others_during = others()
    median = {side: statistics.median(r[0] for r in rs) for side, rs in runs.items()}
    print_table(args, runs, median, read_seconds)
    if note := common.load_note(others_during):
        print(note)
    report = {
        "machine": {**common.machine(), "others_load_during": others_during},
        "measured": "seconds of one d2l.train_ch3 call (train passes, test accuracy after each "
                    "epoch, Animator), the two sides alternating; files read before, untimed",
        "settings": {"epochs": args.epochs, "repeats": args.repeats, "batch_size": BATCH,
                     "lr": LR, "seed": SEED, "book_num_workers": d2l.get_dataloader_workers()},
        "runs": {side: [{"seconds": s, "test_acc": a, "checks": c} for s, a, c in rs]
                 for side, rs in runs.items()},
        "median_seconds": median, "speedup_book_over_layer": median["book"] / median["layer"],
        "read_seconds": read_seconds,
    }
    common.write_report(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
