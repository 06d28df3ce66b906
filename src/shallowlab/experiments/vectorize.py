"""A Python loop against one vectorised call, adding two 10000-vectors (d2l 3.1.1).

``c[i] = a[i] + b[i]`` one element at a time costs a Python-level indexing, an addition and an
assignment per element, each a tiny tensor operation with microseconds of overhead; ``a + b``
makes one call that runs a compiled loop over all n. Timed as the book's ``Timer`` does, with
``time.perf_counter``; each way runs ``repeats`` times and the fastest time counts (the least
disturbed by other work on the machine). Both must give the same vector, exactly.
"""

from __future__ import annotations

import torch

from shallowlab.core.timing import Timer
from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons

TITLE = title("vectorize")
N, REPEATS = 10000, 3


def loop_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    c = torch.zeros_like(a)
    for i in range(len(a)):
        c[i] = a[i] + b[i]
    return c


def run(config, run_dir, log):
    generator = torch.Generator().manual_seed(config["seed"])
    a, b = torch.randn(N, generator=generator), torch.randn(N, generator=generator)
    times = {}
    for name, add in (("loop", loop_add), ("vectorised", torch.add)):
        timer = Timer()
        for _ in range(REPEATS):
            timer.start()
            add(a, b)
            timer.stop()
        times[name] = min(timer.times)
        log(f"{name:10}: {times[name]:.6f} s (fastest of {REPEATS})")
    same = torch.equal(loop_add(a, b), a + b)
    ratio = times["loop"] / times["vectorised"]
    log(f"vectorised is {ratio:.0f} x faster; same result: {same}")
    run_dir.save_figure("vectorize.png", lessons.bars, {k: 1e3 * v for k, v in times.items()},
                        "milliseconds",
                        title=f"adding two {N}-vectors: {ratio:.0f} x faster vectorised")
    return {"seconds_loop": times["loop"], "seconds_vectorised": times["vectorised"],
            "speedup": ratio, "same_result": same, "n": N}


QUESTION = ('How much faster is one vectorised addition than a Python loop over elements?')


def answer(s: dict) -> str:
    same = "the same" if s["same_result"] else "a different"
    return (f"Adding {s['n']:,} numbers took {1e3 * s['seconds_loop']:.1f} ms in a loop and "
            f"{1e6 * s['seconds_vectorised']:.1f} \u00b5s vectorised: {s['speedup']:,.0f} "
            f"times faster, with {same} result.")


EXPERIMENT = Experiment(
    "vectorize", TITLE, {"seed": 0}, run,
    lesson="One vectorised call beats a Python loop over elements by orders of magnitude and "
           "gives the same numbers.",
    question=QUESTION, answer=answer)
