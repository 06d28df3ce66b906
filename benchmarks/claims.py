"""Timing claims the unit tests leave to a benchmark: each a ratio of two things timed side by
side in one process, their repeats interleaved (the order alternating each round), so that
whatever else the machine does weighs on both alike.

Run: ``python -m benchmarks.claims [--rounds 9] [--json PATH]`` from the repository root.

* ``vectorize``: d2l 3.1's claim, adding two 10000-vectors in a Python loop against one
  ``a + b`` (the two ways of the ``vectorize`` experiment, whose unit test checks that they
  agree). The loop costs an indexing, an addition
  and an assignment per element: orders of magnitude slower.
* ``idx-reject``: an IDX file whose header promises 2^62 bytes and holds 16 is rejected
  (``DataError``) as fast as a valid 60-byte file is read: the reader asks for the promised
  bytes and finds the file short, it never allocates or waits for them. The ratio stays near 1;
  proportional to the promise it would be astronomical.

A row is the median of the rounds after the first (a warm-up) of each side, in microseconds,
and their ratio; the machine's load by other processes is printed beside.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.common import add_json_option, load_note, machine, watch_load, write_report
from shallowlab.data.idx import read_idx
from shallowlab.errors import DataError

N = 10000

# claim -> (the slower side's name, the faster side's name, the bound its ratio keeps)
CLAIMS = {"vectorize": ("loop", "vectorised", "> 1"),
          "idx-reject": ("reject 2^62", "read 60 B", "< 10")}


def holds(ratio: float, bound: str) -> bool:
    """Whether ``ratio`` keeps ``bound`` (``"> 1"``, ``"< 10"``)."""
    op, value = bound.split()
    return ratio > float(value) if op == ">" else ratio < float(value)


def loop_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``c[i] = a[i] + b[i]``, one element at a time (d2l 3.1.1)."""
    c = torch.zeros_like(a)
    for i in range(len(a)):
        c[i] = a[i] + b[i]
    return c


def _idx(path: Path, dims: tuple[int, ...], payload: bytes) -> Path:
    path.write_bytes(bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
                     + payload)
    return path


def _reject(path: Path) -> None:
    try:
        read_idx(path)
    except DataError:
        return
    raise AssertionError(f"{path} was read, not rejected")


def sides(folder: Path) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """Each claim's two sides, as calls: (the slower, the faster)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(N, generator=g), torch.randn(N, generator=g)
    huge = _idx(folder / "huge", (2**31, 2**31), bytes(range(16)))  # 2^62 bytes promised
    small = _idx(folder / "small", (3, 4, 4), bytes(48))
    return {"vectorize": (lambda: loop_add(a, b), lambda: a + b),
            "idx-reject": (lambda: _reject(huge), lambda: read_idx(small))}


def measure(calls: tuple[Callable, Callable], rounds: int) -> dict:
    """Both sides ``rounds`` times, interleaved; medians (the first round left out), ratio."""
    times: list[list[float]] = [[], []]
    for r in range(rounds):
        for i in ((0, 1) if r % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            calls[i]()
            times[i].append(time.perf_counter() - start)
    slow, fast = (statistics.median(t[1:] if rounds > 1 else t) for t in times)
    return {"slower_us": slow * 1e6, "faster_us": fast * 1e6, "ratio": slow / fast}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.claims", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="repeats of each side, the first "
                        "a warm-up")
    add_json_option(parser, "claims.json")
    args = parser.parse_args(argv)
    _, others = watch_load()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, calls in sides(Path(folder)).items():
            results[name] = measure(calls, args.rounds)
    print(f"{'claim':11s} {'slower':>12s} {'us':>10s} {'faster':>12s} {'us':>10s} {'ratio':>9s}"
          "  bound  holds")
    for name, r in results.items():
        slow, fast, bound = CLAIMS[name]
        r.update(bound=bound, holds=holds(r["ratio"], bound))
        print(f"{name:11s} {slow:>12s} {r['slower_us']:10.1f} {fast:>12s} {r['faster_us']:10.1f}"
              f" {r['ratio']:9.2f}  {bound:5s}  {'yes' if r['holds'] else 'NO'}")
    load = others()
    if note := load_note(load):
        print(note)
    write_report({"machine": machine(), "rounds": args.rounds, "other_load": load,
                  "claims": results}, args.json)
    return 0 if all(r["holds"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
