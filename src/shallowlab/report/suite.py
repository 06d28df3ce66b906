"""``shallowlab run all``: every experiment into one folder, then the report.

Each experiment runs with its ``quick`` settings (made to finish the set in minutes on a
laptop CPU) or, with ``full``, the book's. A failure is recorded in its run folder and its
report section, and the others still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from shallowlab.experiments import EXPERIMENTS
from shallowlab.report import Section, write
from shallowlab.runs.folder import RunDir
from shallowlab.runs.lifecycle import execute
from shallowlab.runs.settings import resolve
from shallowlab.runs.table import seconds
from shallowlab.term import indented


def run_all(out: Path, *, full: bool = False, data_dir: str | None = None,
            log: Callable[[str], None] = print) -> list[Section]:
    """Run every experiment into ``out/<name>``; write ``out/report.md`` and ``report.html``."""
    start = time.perf_counter()
    for name, experiment in EXPERIMENTS.items():
        overrides = {} if full else dict(experiment.quick)
        if data_dir and "data_dir" in experiment.defaults:
            overrides["data_dir"] = data_dir
        log(f"== {name}: {experiment.title}")
        run = RunDir(out / name)
        try:
            config = resolve(experiment, overrides)
            execute(experiment, config, run, log=indented(log, "   "))
        except KeyboardInterrupt:
            raise
        except Exception as e:  # recorded in the run folder's summary; go on with the rest
            log(f"   FAILED: {e}")
            if not (run / "summary.json").exists():  # it failed before it began
                run.write_json("config.json", {"experiment": name})
                run.write_summary("failed", [], 0.0, error=str(e))
    kind = "the book's settings" if full else "quick settings"
    settings = (f"shallowlab run all{' --full' if full else ''}: {kind}, {len(EXPERIMENTS)} "
                f"experiments in {seconds(time.perf_counter() - start)}")
    return write(out, list(EXPERIMENTS), settings)
