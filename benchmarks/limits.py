"""The hardware's limits on an epoch of each model, measured at the epoch's own shapes.

* the **roofline**: the epoch's matrix products, counted (per batch of B and layer
  n_in -> n_out: forward ``2 B n_in n_out``, ``dW`` the same, ``dA`` for all but the first
  layer), each timed on its own at its own shapes (the 234 full batches and the short one);
  their sum is the time the epoch would take if it were nothing but its products. Measured with
  float32 operands (``roofline``) and with bfloat16 ones (``roofline bf16``, the products of a
  bf16 epoch; on a CPU without bf16 instructions torch converts them, and this is slow);
* the **memory limit**: the bytes an epoch must read (the images as they are held, float32,
  ``4 n 784`` bytes, and the int64 labels, ``8 n``, once) over the read bandwidth measured by
  summing a 1 GiB buffer.

Every model gets all three; an epoch is bound by the slowest, the one that **binds**
(:func:`binding`): the MLP by its products, softmax regression, whose products have 10 outputs,
by its products too on a small CPU, by its memory traffic where products are cheap.

Each is measured twice a round (the bf16 roofline once: it is slow where bf16 is) and the fastest
measurement of the run kept: the best the machine showed (the first of a round wakes the cores
up).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.common import BATCH

WIDTHS = {"softmax": (784, 10), "mlp": (784, 256, 10)}
PIXEL_BYTES = 4  # the images are held as float32, converted once (benchmarks.held: uint8 is slower)
LABEL_BYTES = 8  # int64
KINDS = ("memory limit", "roofline", "roofline bf16")
PRECISION_OF = {"memory limit": None, "roofline": "fp32", "roofline bf16": "bf16"}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def seconds_per_call(f: Callable[[], object], calls: int = 10, blocks: int = 5) -> float:
    """Median over ``blocks`` of the mean time of ``calls`` back-to-back calls, after a warm-up."""
    for _ in range(3):
        f()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def products(widths: tuple[int, ...], B: int, dtype: torch.dtype = torch.float32
             ) -> list[tuple[int, Callable[[], object]]]:
    """The matrix products of one SGD step on a batch of B: ``(flops, call)`` each.

    Per layer k (``n_in -> n_out``): forward ``addmm(b, A, W^T)``, 2 B n_in n_out flops;
    backward ``dW = G^T A``, the same; and ``dA = G W`` for every layer but the first (the
    input needs no gradient). Elementwise work (bias, relu, softmax, the update) is not counted.
    The operands are ``dtype``.
    """
    g = torch.Generator().manual_seed(0)
    calls = []
    for k, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        A, W, b, G = (torch.rand(*shape, generator=g).to(dtype)
                      for shape in ((B, n_in), (n_out, n_in), (n_out,), (B, n_out)))
        flops = 2 * B * n_in * n_out
        calls += [(flops, lambda A=A, W=W, b=b: torch.addmm(b, A, W.t())),
                  (flops, lambda A=A, G=G: G.t() @ A)]
        if k > 0:
            calls.append((flops, lambda G=G, W=W: G @ W))
    return calls


def roofline(widths: tuple[int, ...], n: int, batch: int, precision: str = "fp32",
             calls: int = 10) -> dict:
    """The epoch's counted matrix-product flops over the throughput measured at its shapes,
    with operands in ``precision``; ``calls`` per timed block."""
    sizes = [batch] * (n // batch) + ([n % batch] if n % batch else [])
    per_batch = {}
    for B in set(sizes):
        timed_calls = [(flops, seconds_per_call(call, calls))
                       for flops, call in products(widths, B, DTYPES[precision])]
        per_batch[B] = (sum(f for f, _ in timed_calls), sum(t for _, t in timed_calls))
    flops = sum(per_batch[B][0] for B in sizes)
    seconds = sum(per_batch[B][1] for B in sizes)
    return {"flops": flops, "seconds": seconds, "gflops_per_s": flops / seconds / 1e9,
            "precision": precision}


def memory_limit(nbytes: int, buffer_bytes: int = 1 << 30) -> dict:
    """The bytes an epoch must read over the read bandwidth measured by summing a 1 GiB buffer.

    1 GiB is larger than the caches, so the bandwidth is main memory's.
    """
    buf = torch.ones(buffer_bytes // 4)
    seconds = seconds_per_call(buf.sum, calls=1)
    del buf
    bandwidth = buffer_bytes / seconds
    return {"bytes": nbytes, "seconds": nbytes / bandwidth, "gb_per_s": bandwidth / 1e9}


def epoch_bytes(n: int) -> int:
    """What an epoch must read: ``n`` float32 images of 784 pixels and ``n`` int64 labels."""
    return n * (784 * PIXEL_BYTES + LABEL_BYTES)


def measure_once(name: str, n: int, kind: str) -> dict:
    """The limit ``kind`` of an epoch of model ``name`` on ``n`` examples, measured once."""
    if kind == "memory limit":
        return {**memory_limit(epoch_bytes(n)), "pixels": "float32"}
    precision = PRECISION_OF[kind]
    # bf16 where it is slow takes seconds a measurement: fewer calls, still a median of 5
    return roofline(WIDTHS[name], n, BATCH, precision, calls=10 if precision == "fp32" else 2)


def measure(name: str, n: int) -> dict[str, dict]:
    """One round's limits of model ``name``: each kind the faster of two measurements (the
    first wakes the cores up), the bf16 roofline measured once."""
    return {kind: min((measure_once(name, n, kind)
                       for _ in range(1 if kind == "roofline bf16" else 2)),
                      key=lambda x: x["seconds"]) for kind in KINDS}


def best(measurements: list[dict[str, dict]]) -> dict[str, dict]:
    """The limits of the run: per kind its fastest measurement, with every measurement's time."""
    limits = {}
    for kind in KINDS:
        runs = [m[kind] for m in measurements]
        limits[kind] = {**min(runs, key=lambda x: x["seconds"]),
                        "all_seconds": [x["seconds"] for x in runs]}
    return limits


def binding(limits: dict[str, dict], precision: str) -> str:
    """The limit that binds an epoch computed in ``precision``: the slower of the memory limit
    and that precision's roofline."""
    roof = "roofline" if precision == "fp32" else "roofline bf16"
    return max(("memory limit", roof), key=lambda kind: limits[kind]["seconds"])
