"""What the benchmarks share: the book's settings, timing, the machine, the load, the report.

Timings are only as good as the machine is quiet, so each benchmark measures the share of the
CPUs that *other* processes take while it runs (:class:`OtherLoad`; noisy above 10%) and
records it beside the machine's description in its JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from shallowlab.core.devices import cpu_flags
from shallowlab.data import fashion_mnist
from shallowlab.errors import DataError, ShallowlabError

BATCH, LR, STD, SEED = 256, 0.1, 0.01, 0  # the book's batch, learning rate and init std; a seed
NOISY = 0.1  # others' share of the CPUs above which timings are called noisy
MISSING = ("Fashion-MNIST not found; install it with `sudo apt-get install "
           "dataset-fashion-mnist` (or set SHALLOWLAB_DATA=DIR)")


def timed(f: Callable[[], object]) -> tuple[float, object]:
    """``f()``'s wall-clock seconds and its result."""
    start = time.perf_counter()
    result = f()
    return time.perf_counter() - start, result


class OtherLoad:
    """Share of the machine's CPU time used by *other* processes between ``start()`` and ``()``.

    All CPUs' busy time (``/proc/stat``) less this process's and its reaped children's (the
    book's DataLoader workers): what others took from the machine while we were timing.
    """

    def start(self) -> OtherLoad:
        self.t0, self.busy0, self.own0 = time.perf_counter(), *self._sample()
        return self

    def __call__(self) -> float | None:
        try:
            busy, own = self._sample()
        except (OSError, ValueError):
            return None
        capacity = (time.perf_counter() - self.t0) * (os.cpu_count() or 1)
        return max(0.0, (busy - self.busy0) - (own - self.own0)) / capacity

    @staticmethod
    def _sample() -> tuple[float, float]:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
        own = sum(getattr(resource.getrusage(who), f) for f in ("ru_utime", "ru_stime")
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return busy, own


def watch_load(settle: float = 0.0) -> tuple[float | None, Callable[[], float | None]]:
    """Others' load over the ``settle`` seconds before (None when 0), and a watch started now.

    Calling the watch gives others' share since; without ``/proc/stat`` (not Linux), None.
    """
    try:
        others = OtherLoad().start()
        before = None
        if settle:
            time.sleep(settle)
            before = others()
            others.start()
    except (OSError, ValueError):
        return None, lambda: None
    return before, others


def load_note(during: float | None, before: float | None = None) -> str | None:
    """The line that says how busy the machine was, or None when it could not be measured."""
    if during is None:
        return None
    when = f"{during:.0%} of the CPUs during the run" if before is None else \
        f"{before:.0%} of the CPUs in the second before the run and {during:.0%} during it"
    noisy = max(before or 0, during) > NOISY
    return f"other processes used {when}" + ("; timings are noisy" if noisy else "")


SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
               "amx_tile", "amx_bf16")  # the flags that decide how fast fp32 and bf16 multiply


def speed_flags() -> list[str]:
    """Which of :data:`SPEED_FLAGS` this CPU has, as ``/proc/cpuinfo`` names them."""
    have = cpu_flags()
    return [f for f in SPEED_FLAGS if f in have]


def cpu_line() -> str:
    """The CPU named with its cores and the flags that decide its speed, for a table's head."""
    m = machine()
    return f"{m['cpu']}, {m['cores']} cores, flags: {' '.join(m['flags']) or 'unknown'}"


def machine() -> dict:
    """The CPU model, its speed flags, cores, torch version and threads, Python, the
    platform."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "flags": speed_flags(), "cores": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "platform": platform.platform()}


def data_found(script: str) -> bool:
    """Whether the real Fashion-MNIST is installed; if not, one line on stderr that says how."""
    try:
        fashion_mnist.locate(allow_download=False)
    except ShallowlabError as e:  # DataError: not there; ConfigError: a bad SHALLOWLAB_DATA
        print(f"{script}: {MISSING if isinstance(e, DataError) else e}", file=sys.stderr)
        return False
    return True


def add_json_option(parser: argparse.ArgumentParser, name: str) -> None:
    """``--json PATH``, by default ``name`` beside the benchmarks; ``-`` for stdout."""
    parser.add_argument("--json", default=str(Path(__file__).with_name(name)),
                        help="where to write the JSON (default %(default)s; '-' for stdout)")


def write_report(report: dict, dest: str) -> None:
    """The benchmark's JSON to ``dest``, or to stdout when ``dest`` is ``-``."""
    text = json.dumps(report, indent=2)
    if dest == "-":
        print(text)
    else:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        Path(dest).write_text(text + "\n")
        print(f"JSON: {dest}")
