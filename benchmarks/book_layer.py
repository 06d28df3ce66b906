"""``d2l.train_ch3`` of softmax regression through ``shallowlab.d2l``, against the book's loaders.

Run: ``.venv/bin/python benchmarks/book_layer.py [--epochs N] [--repeats R] [--json PATH]``

Both sides run the very same code, the book's section 3.7 through ``from shallowlab import d2l``:
``nn.Sequential(nn.Flatten(), nn.Linear(784, 10))`` with weights N(0, 0.01) from one seed,
``nn.CrossEntropyLoss(reduction="none")``, ``torch.optim.SGD(lr=0.1)``, batch 256, and
``d2l.train_ch3`` (train pass, test accuracy after each epoch, Animator, the book's checks).
They differ only in the ``train_iter, test_iter`` they are given:

* ``layer``: ``d2l.load_data_fashion_mnist(256)``: the images in memory, a batch one index slice;
* ``book``: the replica of d2l 0.17's ``load_data_fashion_mnist`` from ``speed.py``: a per-item
  ``Dataset`` that makes a PIL image of each picture and converts it to a float tensor (as
  torchvision's ``FashionMNIST`` + ``ToTensor`` do), in ``DataLoader(batch_size=256,
  shuffle=True, num_workers=4)``, for the training and the test set.

Timed: each whole ``train_ch3`` call (``--epochs``, default 6, so the book's checks pass).
Reading the files is done before and not timed (for the layer it is reported apart). The calls
of the two sides alternate, ``--repeats`` times (default 2); the figure is the median per side,
and the speed-up is book / layer. The animator's PNGs go to a temporary folder. The share of the
CPUs that other processes used is printed, as in ``speed.py``: above 10%, timings are noisy
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
from pathlib import Path

import torch
from torch import nn
from torch.utils import data

from shallowlab import d2l
from shallowlab.data import fashion_mnist
from shallowlab.errors import ShallowlabError

sys.path.insert(0, str(Path(__file__).parent))
from speed import FashionMNISTItems, OtherLoad, machine, write_report  # noqa: E402

BATCH, LR, SEED = 256, 0.1, 0


def layer_loaders(ds) -> tuple:
    """shallowlab's: built as ``d2l.load_data_fashion_mnist`` builds them, from ``ds``."""
    train = d2l.FashionMNISTSplit(ds.train_images, ds.train_labels)
    test = d2l.FashionMNISTSplit(ds.test_images, ds.test_labels)
    return d2l.TensorLoader(train, BATCH, shuffle=True), d2l.TensorLoader(test, BATCH, False)


def book_loaders(ds) -> tuple:
    """d2l 0.17's design: per-item PIL conversion, 4 worker processes started every pass."""
    workers = d2l.get_dataloader_workers()
    return (data.DataLoader(FashionMNISTItems(ds.train_images, ds.train_labels), BATCH,
                            shuffle=True, num_workers=workers),
            data.DataLoader(FashionMNISTItems(ds.test_images, ds.test_labels), BATCH,
                            shuffle=False, num_workers=workers))


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--epochs", type=int, default=6, help="epochs per train_ch3 (default 6)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="train_ch3 calls per side, alternating (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads in this process (default: torch's own); "
                             "1 is steadier on a small, busy machine")
    parser.add_argument("--json", default=str(Path(__file__).with_name("book_layer.json")),
                        help="where to write the JSON (default %(default)s; '-' for stdout)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        start = time.perf_counter()
        ds = fashion_mnist.load(allow_download=False)
        read_seconds = time.perf_counter() - start
    except ShallowlabError as e:
        print(f"book_layer.py: {e}", file=sys.stderr)
        return 1
    # The book's 4 workers on a small machine warn; that is its design, kept and silenced.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    os.environ["SHALLOWLAB_FIGURES"] = tempfile.mkdtemp(prefix="book-layer-figures-")

    sides = {"layer": layer_loaders, "book": book_loaders}
    runs: dict[str, list] = {side: [] for side in sides}
    try:
        others = OtherLoad().start()
    except (OSError, ValueError):  # no /proc/stat: not Linux
        others = lambda: None  # noqa: E731
    for i in range(args.repeats):
        for side, loaders in sides.items():
            print(f"{side} train_ch3 {i + 1}/{args.repeats}", file=sys.stderr, flush=True)
            runs[side].append(train_ch3_seconds(loaders(ds), args.epochs))
    others_during = others()

    median = {side: statistics.median(r[0] for r in rs) for side, rs in runs.items()}
    speedup = median["book"] / median["layer"]
    print(f"\nd2l.train_ch3, softmax regression (3.7), {args.epochs} epochs, batch {BATCH}: "
          f"median of {args.repeats} runs per side, alternating")
    print(f"{'loaders':8s} {'seconds':>8s} {'s/epoch':>8s} {'test acc':>8s}  checks")
    for side, rs in runs.items():
        print(f"{side:8s} {median[side]:8.2f} {median[side] / args.epochs:8.3f} "
              f"{rs[-1][1]:8.3f}  {rs[-1][2]}")
    print(f"speed-up: {speedup:.1f}x (book / layer); reading the files once, before: "
          f"{read_seconds:.2f} s")
    if others_during is not None:
        print(f"other processes used {others_during:.0%} of the CPUs during the run"
              + ("; timings are noisy" if others_during > 0.1 else ""))

    report = {
        "machine": {**machine(), "others_load_during": others_during},
        "measured": "seconds of one d2l.train_ch3 call (train passes, test accuracy after each "
                    "epoch, Animator), the two sides alternating; files read before, untimed",
        "settings": {"epochs": args.epochs, "repeats": args.repeats, "batch_size": BATCH,
                     "lr": LR, "seed": SEED, "book_num_workers": d2l.get_dataloader_workers()},
        "runs": {side: [{"seconds": s, "test_acc": a, "checks": c} for s, a, c in rs]
                 for side, rs in runs.items()},
        "median_seconds": median, "speedup_book_over_layer": speedup,
        "read_seconds": read_seconds,
    }
    write_report(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
