"""The hardware's limit on an epoch of each model, measured at the epoch's own shapes.

* MLP, the **roofline**: the epoch's matrix products, counted (per batch of B and layer
  n_in -> n_out: forward ``2 B n_in n_out``, ``dW`` the same, ``dA`` for all but the first
  layer), each timed on its own at its own shapes (the 234 full batches and the short one);
  their sum is the time the epoch would take if it were nothing but its products;
* softmax regression, the **memory limit**: the bytes an epoch must read (the float32 images and
  int64 labels, once) over the read bandwidth measured by summing a 1 GiB buffer.

Each is measured twice a round and the fastest measurement of the run kept: the best the
machine showed (the first of a round wakes the cores up).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.common import BATCH

WIDTHS = {"softmax": (784, 10), "mlp": (784, 256, 10)}
KINDS = {"softmax": "memory limit", "mlp": "roofline"}


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


def products(widths: tuple[int, ...], B: int) -> list[tuple[int, Callable[[], object]]]:
    """The matrix products of one SGD step on a batch of B: ``(flops, call)`` each.

    Per layer k (``n_in -> n_out``): forward ``addmm(b, A, W^T)``, 2 B n_in n_out flops;
    backward ``dW = G^T A``, the same; and ``dA = G W`` for every layer but the first (the
    input needs no gradient). Elementwise work (bias, relu, softmax, the update) is not counted.
    """
    g = torch.Generator().manual_seed(0)
    calls = []
    for k, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        A, W = torch.rand(B, n_in, generator=g), torch.rand(n_out, n_in, generator=g)
        b, G = torch.rand(n_out, generator=g), torch.rand(B, n_out, generator=g)
        flops = 2 * B * n_in * n_out
        calls += [(flops, lambda A=A, W=W, b=b: torch.addmm(b, A, W.t())),
                  (flops, lambda A=A, G=G: G.t() @ A)]
        if k > 0:
            calls.append((flops, lambda G=G, W=W: G @ W))
    return calls


def roofline(widths: tuple[int, ...], n: int, batch: int) -> dict:
    """The epoch's counted matrix-product flops over the throughput measured at its shapes."""
    sizes = [batch] * (n // batch) + ([n % batch] if n % batch else [])
    per_batch = {}
    for B in set(sizes):
        timed_calls = [(flops, seconds_per_call(call)) for flops, call in products(widths, B)]
        per_batch[B] = (sum(f for f, _ in timed_calls), sum(t for _, t in timed_calls))
    flops = sum(per_batch[B][0] for B in sizes)
    seconds = sum(per_batch[B][1] for B in sizes)
    return {"flops": flops, "seconds": seconds, "gflops_per_s": flops / seconds / 1e9}


def memory_limit(nbytes: int, buffer_bytes: int = 1 << 30) -> dict:
    """The bytes an epoch must read over the read bandwidth measured by summing a 1 GiB buffer.

    1 GiB is larger than the caches, so the bandwidth is main memory's.
    """
    buf = torch.ones(buffer_bytes // 4)
    seconds = seconds_per_call(buf.sum, calls=1)
    del buf
    bandwidth = buffer_bytes / seconds
    return {"bytes": nbytes, "seconds": nbytes / bandwidth, "gb_per_s": bandwidth / 1e9}


def measure_once(name: str, n: int) -> dict:
    """The limit of an epoch of model ``name`` on ``n`` examples, measured once."""
    if name == "mlp":
        return roofline(WIDTHS[name], n, BATCH)
    return memory_limit(n * 784 * 4 + n * 8)  # the float32 images and int64 labels, once


def measure(name: str, n: int) -> dict:
    """One round's limit: the faster of two measurements (the first wakes the cores up)."""
    return min((measure_once(name, n) for _ in range(2)), key=lambda x: x["seconds"])


def best(name: str, measurements: list[dict]) -> dict:
    """The limit of the run: its fastest measurement, with its kind and every measurement's time."""
    limit = dict(min(measurements, key=lambda x: x["seconds"]))
    limit["kind"] = KINDS[name]
    limit["all_seconds"] = [x["seconds"] for x in measurements]
    return limit
