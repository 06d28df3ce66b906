"""Each pipeline, and the limit's measurement, in a process of its own, their epochs interleaved.

A process of its own, so that none inherits another's leftovers: the book's forked DataLoader
workers and scikit-learn's spinning BLAS threads each slowed whatever ran next in a shared
process by 20% or more. Interleaved, one epoch of each in turn, so that all see the same
machine. The first epoch of each is a warm-up; a row reports the median of the epochs after it.
A pipeline may train fewer epochs than the others (bf16 where this CPU computes it slowly): it
takes part in the first rounds only.
"""

from __future__ import annotations

import functools
import multiprocessing
import statistics
import sys
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection

import torch

from benchmarks import limits
from benchmarks.common import timed
from benchmarks.pipelines import PIPELINES
from shallowlab.data import fashion_mnist

Worker = tuple[Connection, multiprocessing.Process]


def _requests(what: str, name: str, ds) -> tuple[Callable[[], object], Callable[[], object]]:
    """What the process answers to "epoch" (an epoch's seconds, or the limit's measurement)
    and to "eval" (the seconds and the test accuracy of one evaluation)."""
    if what == "limit":
        return functools.partial(limits.measure, name, len(ds.train_images)), lambda: None
    epoch, test_acc = PIPELINES[what](name, ds)
    return (lambda: timed(epoch)[0]), functools.partial(timed, test_acc)


def serve(conn: Connection, what: str, name: str, threads: int | None) -> None:
    """A pipeline (or the limit) in a process of its own, one epoch per request."""
    # Started by spawn, this process would spawn the book's DataLoader workers too (pickling
    # the dataset for each); the book runs them forked, Linux's default, and so do we.
    multiprocessing.set_start_method("fork", force=True)
    if threads is not None:
        torch.set_num_threads(threads)
    # The book's 4 workers on a 2-core machine, and its float(l.sum()) of a tensor that
    # requires grad, each warn; both are the book's own behaviour, kept and silenced.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    epoch, evaluate = _requests(what, name, fashion_mnist.load(allow_download=False))
    conn.send("ready")
    for request in iter(conn.recv, "stop"):
        conn.send(evaluate() if request == "eval" else epoch())


def _ask(worker: Worker, request: str):
    conn, _ = worker
    conn.send(request)
    return conn.recv()


def _start(name: str, whats: list[str], threads: int | None) -> dict[str, Worker]:
    context = multiprocessing.get_context("spawn")
    workers = {}
    for what in whats:
        ours, theirs = context.Pipe()
        process = context.Process(target=serve, args=(theirs, what, name, threads))
        process.start()
        workers[what] = (ours, process)
    for ours, _ in workers.values():
        ours.recv()  # every process has loaded the data
    return workers


def _row(name: str, pipeline: str, seconds: list[float], eval_seconds: float, acc: float
         ) -> dict:
    return {"model": name, "pipeline": pipeline, "epochs": len(seconds),
            "epoch_seconds": seconds, "median_epoch_seconds": statistics.median(seconds[1:]),
            "best_epoch_seconds": min(seconds[1:]), "eval_seconds": eval_seconds,
            "test_acc": acc}


def bench(name: str, epochs: dict[str, int], threads: int | None
          ) -> tuple[list[dict], dict[str, dict]]:
    """The rows of the pipelines on model ``name``, each trained ``epochs[pipeline]`` epochs
    (those with fewer stop early: rounds after their last go on without them), and the
    hardware's limits for it, measured every round."""
    rounds = max(epochs.values())
    workers = _start(name, ["limit", *epochs], threads)
    answers: dict[str, list] = {what: [] for what in workers}
    for i in range(rounds):
        for what, worker in workers.items():
            if i < epochs.get(what, rounds):
                print(f"{name} {what} epoch {i + 1}/{epochs.get(what, rounds)}",
                      file=sys.stderr, flush=True)
                answers[what].append(_ask(worker, "epoch"))
    rows = [_row(name, p, answers[p], *_ask(workers[p], "eval")) for p in epochs]
    for conn, process in workers.values():
        conn.send("stop")
        process.join()
    return rows, limits.best(answers["limit"])
