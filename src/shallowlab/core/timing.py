"""A stopwatch for timing repeated runs (the book's ``d2l.Timer``)."""

from __future__ import annotations

import itertools
import math
import time


class Timer:
    """Records the durations of several runs: ``start()``, ``stop()``, then their statistics."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self.tik = time.perf_counter()

    def stop(self) -> float:
        """Record and return the seconds since the last ``start()``."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        return math.fsum(self.times)

    def cumsum(self) -> list[float]:
        return list(itertools.accumulate(self.times))
