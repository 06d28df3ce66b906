"""The hardware's limits on an epoch of each model, measured at the epoch's own shapes.

* the **roofline**: the epoch's matrix products, counted (per batch of B and layer
  n_in -> n_out: forward ``2 B n_in n_out``, ``dW`` the same, ``dA`` for all but the first
  layer), each timed on its own at its own shapes (the 234 full batches and the short one) and
  at the fastest of its **layouts**: ``C = A B`` with each operand stored as it is or
  transposed, or computed as ``C^T = B^T A^T``, the eight ways a step could hold the same
  product; their sum is the time the epoch would take if it were nothing but its products.
  Measured for an fp32 step (``roofline``) and for a bf16 one (``roofline bf16``: each layer in
  the dtype :func:`shallowlab.core.fused.layer_dtypes` gives it, bf16 where both its widths are at
  least 32, fp32 for the 10-column products; on a CPU without bf16 instructions torch converts
  the bf16 ones, and this is slow);
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

import itertools
import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.common import BATCH
from shallowlab.core.devices import slow_bf16
from shallowlab.core.fused import layer_dtypes

WIDTHS = {"softmax": (784, 10), "mlp": (784, 256, 10)}
PIXEL_BYTES = 4  # the images are held as float32, converted once (benchmarks.held: uint8 is slower)
LABEL_BYTES = 8  # int64
KINDS = ("memory limit", "roofline", "roofline bf16")
PRECISION_OF = {"memory limit": None, "roofline": "fp32", "roofline bf16": "bf16"}


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


def layouts(m: int, k: int, n: int, dtype: torch.dtype, g: torch.Generator
            ) -> list[Callable[[], torch.Tensor]]:
    """The eight calls that compute one product ``C = A B`` of ``(m x k)`` by ``(k x n)``
    random matrices: each operand held as it is or transposed (a transposed view of a
    contiguous copy), the result as ``C`` or as its transpose ``C^T = B^T A^T``."""
    A, B = torch.rand(m, k, generator=g).to(dtype), torch.rand(k, n, generator=g).to(dtype)
    calls = []
    for a, b in itertools.product((A, A.t().contiguous().t()), (B, B.t().contiguous().t())):
        calls += [lambda a=a, b=b: torch.mm(a, b), lambda a=a, b=b: torch.mm(b.t(), a.t())]
    return calls


def products(widths: tuple[int, ...], B: int, precision: str = "fp32"
             ) -> list[tuple[int, list[Callable[[], torch.Tensor]]]]:
    """The matrix products of one SGD step on a batch of B: ``(flops, layouts)`` each.

    Per layer k (``n_in -> n_out``): forward ``A W^T`` (B x n_in by n_in x n_out), 2 B n_in
    n_out flops; backward ``dW = G^T A`` (n_out x B by B x n_in), the same; and ``dA = G W``
    (B x n_out by n_out x n_in) for every layer but the first (the input needs no gradient).
    Element-wise work (bias, relu, softmax, the update) is not counted. Each product is given
    as its :func:`layouts`, in the dtype the fused step computes layer k in.
    """
    g = torch.Generator().manual_seed(0)
    shapes = list(itertools.pairwise(widths))
    dtypes = layer_dtypes([(n_out, n_in) for n_in, n_out in shapes], precision)
    calls = []
    for k, ((n_in, n_out), dtype) in enumerate(zip(shapes, dtypes, strict=True)):
        flops = 2 * B * n_in * n_out
        calls += [(flops, layouts(B, n_in, n_out, dtype, g)),
                  (flops, layouts(n_out, B, n_in, dtype, g))]
        if k > 0:
            calls.append((flops, layouts(B, n_out, n_in, dtype, g)))
    return calls


def roofline(widths: tuple[int, ...], n: int, batch: int, precision: str = "fp32",
             calls: int = 10) -> dict:
    """The epoch's counted matrix-product flops over the throughput measured at its shapes,
    each product at its fastest layout, in the dtypes of a ``precision`` step; ``calls`` per
    timed block."""
    sizes = [batch] * (n // batch) + ([n % batch] if n % batch else [])
    per_batch = {}
    for B in set(sizes):
        timed_calls = [(flops, min(seconds_per_call(call, calls, blocks=3) for call in ways))
                       for flops, ways in products(widths, B, precision)]
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
    # bf16 where it is slow takes seconds a measurement: fewer calls, still a median of 3
    slow = precision == "bf16" and slow_bf16(torch.device("cpu"))
    return roofline(WIDTHS[name], n, BATCH, precision, calls=2 if slow else 10)


def measure(name: str, n: int) -> dict[str, dict]:
    """One round's limits of model ``name``: each kind the faster of two measurements (the
    first wakes the cores up), the bf16 roofline measured once where bf16 is slow."""
    once = slow_bf16(torch.device("cpu")) is not None
    return {kind: min((measure_once(name, n, kind)
                       for _ in range(1 if kind == "roofline bf16" and once else 2)),
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
