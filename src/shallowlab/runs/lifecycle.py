"""A run carried out: ``execute`` runs an experiment into its run folder and keeps
``summary.json`` true to what happened (running, then completed, failed or interrupted), with
the likely cause named for a run that diverged or ran out of memory."""

from __future__ import annotations

import json
import os
import platform
import re
import time

import torch

import shallowlab
from shallowlab.core.devices import cpu_name
from shallowlab.errors import DivergedError, ShallowlabError
from shallowlab.figures import painter
from shallowlab.runs.folder import RunDir
from shallowlab.runs.settings import gb, option
from shallowlab.term import Log, reader_gone

OOM = r"out of memory|allocate memory"  # torch's words when CUDA, MPS or its CPU allocator fail


def execute(experiment, config: dict, run: RunDir, log: Log = print) -> dict:
    """Run ``experiment`` in ``run``, keeping ``summary.json`` true to what happened.

    The summary says ``running`` while it runs, then ``completed``, ``failed`` (with the error)
    or ``interrupted``. Exceptions propagate after the summary is written.
    """
    meta = {"experiment": experiment.name, "shallowlab": shallowlab.__version__,
            "torch": torch.__version__, "python": platform.python_version(),
            "cpu": cpu_name(), "cores": os.cpu_count()}
    run.write_json("config.json", {**meta, **config})
    start = time.perf_counter()
    run.write_summary("running", [], 0.0)
    try:
        extra = experiment.run(config, run, log)
        painter.wait()  # its figures are part of the run: on disk before it is completed
    except DivergedError as e:
        _settle()
        if "lr" in config:
            e.args = (f"{e}; likely cause: the learning rate {config['lr']:g} is too high for "
                      f"these settings, try --lr {config['lr'] / 10:g} or lower",)
        run.write_summary("failed", _history(run), time.perf_counter() - start, error=str(e))
        raise
    except KeyboardInterrupt:  # the process ends: the figures drawn so far are on disk
        run.write_summary("interrupted", _history(run), time.perf_counter() - start)
        raise
    except Exception as e:
        _settle()
        if isinstance(e, BrokenPipeError) and reader_gone():  # `| head` has its lines
            run.write_summary("interrupted", _history(run), time.perf_counter() - start)
            raise
        failure = _out_of_memory(e, config) or e
        run.write_summary("failed", _history(run), time.perf_counter() - start,
                          error=str(failure))
        if failure is not e:
            raise failure from e
        raise
    return run.write_summary("completed", _history(run), time.perf_counter() - start, **extra)


def _settle() -> None:
    """Let the figures already asked for finish, whatever became of them, so that a run after
    this one (``run all``) starts with none outstanding."""
    try:
        painter.wait()
    except Exception:
        pass


def _history(run: RunDir) -> list[dict]:
    """The epochs the run has saved so far (experiments write history.json after each)."""
    path = run / "history.json"
    return json.loads(path.read_text()) if path.exists() else []


def _out_of_memory(error: Exception, config: dict) -> ShallowlabError | None:
    """The one line for an allocation that failed at run time (torch's CPU allocator, CUDA or
    MPS out of memory, Python's MemoryError), or None for any other error."""
    text = str(error)
    failed = isinstance(error, RuntimeError) and re.search(OOM, text, re.IGNORECASE)
    if not (failed or isinstance(error, MemoryError)):
        return None
    size = re.search(r"tried to allocate ([\d.]+) ?(\w+)", text, re.IGNORECASE)
    if size is None:
        what = "an allocation failed"
    elif size.group(2) == "bytes":  # the CPU allocator counts bytes, CUDA says "2.00 GiB"
        what = f"an allocation of {gb(float(size.group(1)))} failed"
    else:
        what = f"an allocation of {size.group(1)} {size.group(2)} failed"
    smaller = [f"a smaller {option(k)}" for k in ("batch_size", "hidden") if k in config]
    advice = f"try {' or '.join(smaller)}, or" if smaller else "try again after you"
    return ShallowlabError(f"out of memory while training: {what} ({type(error).__name__}); "
                           f"{advice} free memory on the device")
