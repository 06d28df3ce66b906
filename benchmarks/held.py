"""How the training images are held: float32, converted once (what ``shallowlab run`` does),
against uint8 with each batch converted as it is gathered (``Batches(..., transform=to_unit)``).

Run: ``python -m benchmarks.held [--rounds 9] [--models gather softmax mlp]`` from the
repository root.

Both give the same floats (``tests/test_batches.py``), so the choice is speed and memory: uint8
reads a quarter of the bytes per epoch (47 MB against 188 MB) and holds 141 MB less, but adds a
conversion per batch, ``x.float().div_(255)`` on data already in cache. In one process, the two
side by side, their epochs interleaved (the order alternating each round): ``gather`` only
iterates the batches, ``softmax`` and ``mlp`` train an epoch with ``fit`` and the default step.
A row is the median (and best) of the rounds after the first, in ms, and uint8's as a multiple
of float32's. Timings are only as good as the machine is quiet: the share of the CPUs other
processes used is printed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from benchmarks.common import BATCH, LR, SEED, STD, load_note, watch_load
from shallowlab.core.loop import fit
from shallowlab.core.steps import make_step
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches, to_unit
from shallowlab.models import nets

BUILD = {"softmax": nets.softmax_regression, "mlp": lambda: nets.mlp(784, (256,), 10)}


def epoch(ds, held: str, model: str):
    """One epoch's work for ``model`` (``gather``: the batches alone) on images held ``held``."""
    X, transform = (to_unit(ds.train_images), None) if held == "float32" else \
        (ds.train_images, to_unit)
    batches = Batches(X, ds.train_labels, BATCH, transform=transform,
                      generator=torch.Generator().manual_seed(SEED + 1))
    if model == "gather":
        return lambda: sum(1 for _ in batches)
    net = nets.init_(BUILD[model](), "normal", STD, generator=torch.Generator().manual_seed(SEED))
    step = make_step(net, nn.CrossEntropyLoss(reduction="none"),
                     torch.optim.SGD(net.parameters(), lr=LR))
    return lambda: fit(step, batches, epochs=1, progress=False, log=lambda s: None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.held", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="epochs of each, the first a warm-up")
    parser.add_argument("--models", nargs="+", choices=["gather", *BUILD],
                        default=["gather", *BUILD])
    args = parser.parse_args(argv)
    ds = fashion_mnist.load(allow_download=False)
    _, others = watch_load()
    print(f"{'':8s} {'float32 ms':>11s} {'uint8 ms':>11s} {'uint8/float32':>14s}   (median; best)"
          f"  threads {torch.get_num_threads()}")
    for model in args.models:
        runs = {held: epoch(ds, held, model) for held in ("float32", "uint8")}
        times: dict[str, list[float]] = {held: [] for held in runs}
        for r in range(args.rounds):
            for held in sorted(runs, reverse=r % 2 == 1):
                start = time.perf_counter()
                runs[held]()
                times[held].append(time.perf_counter() - start)
        med = {k: statistics.median(v[1:]) * 1e3 for k, v in times.items()}
        best = {k: min(v[1:]) * 1e3 for k, v in times.items()}
        print(f"{model:8s} {med['float32']:11.1f} {med['uint8']:11.1f} "
              f"{med['uint8'] / med['float32']:14.3f}   ({best['float32']:.1f}; "
              f"{best['uint8']:.1f}; {best['uint8'] / best['float32']:.3f})")
    if note := load_note(others()):
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
