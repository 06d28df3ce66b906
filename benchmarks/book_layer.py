"""The book's sections through ``shallowlab.d2l``, against the same code on the book's own design.

Run: ``python -m benchmarks.book_layer [--sections 3.7 4.4 5.2] [--epochs N] [--repeats R]
[--json PATH]`` from the repository root. Three sections, each run as the book writes it, the
same code on both sides; the sides differ only in the d2l underneath:

* ``3.7`` (Chinese edition, d2l 0.17): ``nn.Sequential(nn.Flatten(), nn.Linear(784, 10))``,
  weights N(0, 0.01) from one seed, ``CrossEntropyLoss(reduction="none")``, ``SGD(lr=0.1)``,
  batch 256, ``d2l.train_ch3`` (train pass, test accuracy after each epoch, Animator, the book's
  checks). ``layer``: ``d2l.load_data_fashion_mnist(256)``, the images in memory, a batch one
  index slice. ``book``: the replica of d2l 0.17's loaders (``benchmarks.book``): a per-item
  ``Dataset`` making a PIL image of each picture and a float tensor of it (as torchvision's
  ``FashionMNIST`` + ``ToTensor``), in ``DataLoader(batch_size=256, shuffle, num_workers=4)``.
* ``4.4`` and ``5.2`` (English edition, d2l 1.0; ``benchmarks.book_en_sections``):
  ``d2l.Trainer(max_epochs=N).fit(model, d2l.FashionMNIST(batch_size=256))`` with section 4.4's
  ``SoftmaxRegressionScratch`` or section 5.2's concise ``MLP``, lr 0.1. ``layer``:
  ``shallowlab.d2l``. ``book``: the replica of the book's d2l 1.0 (``benchmarks.book_en``):
  torchvision-style ``FashionMNIST`` (``Resize`` + ``ToTensor`` per item) in a ``DataLoader``
  with 4 workers per split, ``Module.plot`` reading each batch's value to numpy, ``ProgressBoard``
  replotting every line through ``IPython.display``.

Timed: per epoch. For 3.7, the whole ``train_ch3`` call over ``--epochs`` (default 6, so the
book's checks pass); for 4.4 and 5.2 each epoch apart (default 10, the book's), the one-off
start-up (building the data and the model, ``fit``'s own start and end) reported apart.
Fashion-MNIST is read once before, untimed (reported apart), for 3.7's loaders and the accuracy
check; the book's d2l 1.0 ``FashionMNIST`` reads the files again, in its start-up, as
torchvision does. The runs of the two sides alternate, ``--repeats`` times (default 2); the
figure is the median per side, and the speed-up is book / layer. Each side's accuracy on the
10,000 test images after the run is reported; the same seed and epochs should give the same
accuracy within 0.01 (the two sides' batches come in different orders). Figures go to a
temporary folder. The share of the CPUs that other processes used is printed, as in
``benchmarks.speed``: above 10%, timings are noisy (``--threads 1`` then degrades far less).

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

from benchmarks import book_en_sections as en
from benchmarks import common
from benchmarks.book import book_loaders
from benchmarks.common import BATCH, LR, SEED
from shallowlab import d2l
from shallowlab.data import fashion_mnist

PROG = "benchmarks.book_layer"
SECTIONS = ("3.7", "4.4", "5.2")
EPOCHS = {"3.7": 6, "4.4": 10, "5.2": 10}  # 6 for train_ch3's checks; the book's 10 for 1.0
SIDES = ("layer", "book")
AGREE = 0.01  # the two sides' accuracies at equal epochs should be this close
TITLE = {"3.7": "d2l.train_ch3, softmax regression (3.7)",
         **{k: f"d2l.Trainer.fit, {v}" for k, v in en.TITLES.items()}}


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



def run_once(section: str, side: str, ds, epochs: int) -> dict:
    """One run of ``section`` on ``side``: seconds per epoch, start-up, accuracy and the rest."""
    if section == "3.7":
        loaders = (layer_loaders if side == "layer" else book_loaders)(ds, BATCH)
        seconds, acc, checks = train_ch3_seconds(loaders, epochs)
        return {"per_epoch": seconds / epochs, "seconds": seconds, "startup": None,
                "acc": acc, "checks": checks}
    X_val, y_val = ds.test_images.unsqueeze(1).float().div(255), ds.test_labels
    fit = en.timed_fit(section, side, epochs, X_val, y_val)
    d2l.plt.close("all")
    return {"per_epoch": fit.per_epoch, "seconds": fit.startup_seconds + sum(fit.epoch_seconds),
            "startup": fit.startup_seconds, "epoch_seconds": fit.epoch_seconds,
            "acc": fit.val_acc, "board_val_acc": fit.board_val_acc}


def alternate(ds, sections: list[str], epochs: dict, repeats: int) -> dict[str, dict]:
    """``repeats`` runs of each section per side, the sides alternating: section -> side -> runs."""
    runs = {section: {side: [] for side in SIDES} for section in sections}
    for i in range(repeats):
        for section in sections:
            for side in SIDES:
                print(f"{section} {side} {i + 1}/{repeats}", file=sys.stderr, flush=True)
                runs[section][side].append(run_once(section, side, ds, epochs[section]))
    return runs


def summarize(section: str, runs: dict, epochs: int) -> dict:
    """A section's medians per side, its speed-up book / layer, and its accuracies' agreement."""
    median = {side: statistics.median(r["per_epoch"] for r in rs) for side, rs in runs.items()}
    startup = {side: statistics.median(r["startup"] for r in rs) if rs[0]["startup"] is not None
               else None for side, rs in runs.items()}
    acc = {side: rs[-1]["acc"] for side, rs in runs.items()}
    diff = abs(acc["layer"] - acc["book"])
    return {"title": TITLE[section], "epochs": epochs, "runs": runs,
            "median_epoch_seconds": median, "median_startup_seconds": startup,
            "speedup_book_over_layer": median["book"] / median["layer"], "acc": acc,
            "acc_difference": diff, "acc_agree": diff <= AGREE}


def print_section(summary: dict, repeats: int) -> None:
    print(f"\n{summary['title']}, {summary['epochs']} epochs, batch {BATCH}: "
          f"median of {repeats} runs per side, alternating")
    print(f"{'side':6s} {'s/epoch':>8s} {'start-up':>8s} {'test acc':>8s}  notes")
    for side, rs in summary["runs"].items():
        startup = summary["median_startup_seconds"][side]
        notes = f"checks {rs[-1]['checks']}" if "checks" in rs[-1] else \
            f"board's last val_acc {rs[-1]['board_val_acc']:.3f}"
        print(f"{side:6s} {summary['median_epoch_seconds'][side]:8.3f} "
              f"{'-' if startup is None else f'{startup:.2f}':>8s} {rs[-1]['acc']:8.3f}  {notes}")
    agree = "within" if summary["acc_agree"] else "NOT within"
    print(f"per epoch: {summary['speedup_book_over_layer']:.1f}x faster (book / layer); test "
          f"accuracies {summary['acc_difference']:.4f} apart ({agree} {AGREE})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="the book's sections to time (default: all three)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default 6 for 3.7, 10 for 4.4 and 5.2)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs per section and side, alternating (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads in this process (default: torch's own); "
                             "1 is steadier on a small, busy machine")
    common.add_json_option(parser, "book_layer.json")
    args = parser.parse_args(argv)
    if (args.epochs is not None and args.epochs < 1) or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    args.sections = [s for s in SECTIONS if s in args.sections]  # the book's order, once each
    return args


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
    epochs = {s: args.epochs or EPOCHS[s] for s in args.sections}
    d2l.plt.figure().savefig(io.BytesIO())  # matplotlib's one-off start (fonts), untimed
    d2l.plt.close("all")
    _, others = common.watch_load()
    runs = alternate(ds, args.sections, epochs, args.repeats)
    others_during = others()
    sections = {s: summarize(s, runs[s], epochs[s]) for s in args.sections}
    for summary in sections.values():
        print_section(summary, args.repeats)
    print(f"reading the files once, before: {read_seconds:.2f} s")
    if note := common.load_note(others_during):
        print(note)
    report = {
        "machine": {**common.machine(), "others_load_during": others_during},
        "measured": "seconds per epoch, the two sides alternating: for 3.7 one d2l.train_ch3 "
                    "call over the epochs; for 4.4 and 5.2 each epoch of d2l.Trainer.fit, the "
                    "start-up (data, model, fit's own) apart; the files read before, untimed",
        "settings": {"repeats": args.repeats, "batch_size": BATCH, "lr": LR, "seed": SEED,
                     "book_num_workers": d2l.get_dataloader_workers()},
        "sections": sections, "read_seconds": read_seconds,
    }
    common.write_report(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
