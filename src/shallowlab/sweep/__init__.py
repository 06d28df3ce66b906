"""Sweeps: one experiment over a grid (or a random sample) of its settings, times seeds.

``plan`` checks a :class:`Spec` and writes ``sweep.json``; ``load`` reads it back for a resume;
``execute`` runs the trials not yet completed, each an ordinary run folder in the sweep's
folder, on this machine's cores (``shallowlab.sweep.local``) or a Ray cluster
(``shallowlab.sweep.cluster``), then writes the results: ``trials.csv`` / ``trials.json``
(after every trial), ``summary.csv``, ``sweep.png``, ``sweep.md`` and ``sweep.html``.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch

import shallowlab
from shallowlab.errors import ConfigError, ShallowlabError
from shallowlab.experiments import EXPERIMENTS
from shallowlab.figures import plots
from shallowlab.files import atomic_write
from shallowlab.sweep import figures, pages
from shallowlab.sweep.jobs import Job
from shallowlab.sweep.results import (
    configurations,
    score,
    table,
    trial_row,
    write_summary,
    write_trials,
)
from shallowlab.sweep.spec import Spec, Trial, check

SPEC_FILE = "sweep.json"
__all__ = ["Spec", "Trial", "cores", "execute", "load", "plan", "ranked"]


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1


def plan(spec: Spec, folder: Path, command: list[str]) -> list[Trial]:
    """Check every trial's settings (ConfigError before anything is written) and write
    ``folder/sweep.json``: the spec, its trials, the versions and the command."""
    trials = check(spec, EXPERIMENTS[spec.experiment])
    if (folder / SPEC_FILE).exists():
        raise ConfigError(f"--out {folder} already holds a sweep; continue it with "
                          f"--resume {folder}, or choose another --out")
    folder.mkdir(parents=True, exist_ok=True)
    record = {**spec.to_json(), "trials": [t.__dict__ for t in trials],
              "versions": {"shallowlab": shallowlab.__version__, "torch": torch.__version__,
                           "python": platform.python_version()},
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": command}
    atomic_write(folder / SPEC_FILE, json.dumps(record, indent=2) + "\n")
    return trials


def load(folder: Path) -> tuple[Spec, list[Trial]]:
    """The spec and trials ``folder/sweep.json`` holds; ConfigError if it holds none."""
    path = folder / SPEC_FILE
    try:
        record = json.loads(path.read_text())
        fields = {k: record[k] for k in Spec.__dataclass_fields__}
        spec = Spec(**fields)
        trials = [Trial(t["name"], t["settings"], t["seed"]) for t in record["trials"]]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"--resume {folder}: no readable {SPEC_FILE} of a shallowlab sweep "
                          "there; give the folder a sweep was started in") from None
    if spec.experiment not in EXPERIMENTS:
        raise ConfigError(f"{path}: \"experiment\": {json.dumps(spec.experiment)} is not one of "
                          "shallowlab's experiments (see `shallowlab list`)")
    return spec, trials


def _lock(folder: Path):
    lock = open(folder / ".sweep.lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise ShallowlabError(f"{folder} is being swept by another process now; wait for it, "
                              "or stop it first") from None
    return lock


def run_trials(spec: Spec, trials: list[Trial], folder: Path, *, workers: int = 1, ray=None,
               cpus_per_trial: float | None = None,
               log: Callable[[str], None] = print) -> list[dict]:
    """Run the trials not yet completed, ``workers`` at once here, or on the Ray cluster
    ``ray`` is connected to (:func:`shallowlab.sweep.cluster.connect`); return a row per trial
    (``trials.csv``'s). The results are written even when it stops early (Ctrl-C raises
    KeyboardInterrupt after)."""
    lock = _lock(folder)
    rows = {t.name: trial_row(t, folder / t.name) for t in trials}
    jobs = [Job(t, folder / t.name, spec.experiment, spec.fixed, spec.threads)
            for t in trials if rows[t.name]["status"] != "completed"]
    scored = score(list(rows.values()))
    finished = len(trials) - len(jobs)

    def done(job: Job, exit_status: int, error: str | None = None) -> None:
        nonlocal finished, scored
        finished += 1
        row = rows[job.trial.name] = trial_row(job.trial, job.folder, exit_status, error)
        scored = scored or score([row])
        what = row["error"] if row["status"] != "completed" else \
            f"{scored[1]} {row[scored[0]]:.4f}" if scored and row[scored[0]] is not None else ""
        seconds = f" ({row['seconds']:.1f} s)" if row["seconds"] is not None else ""
        log(f"[{finished}/{len(trials)}] {job.trial.name}: {row['status']}{seconds}"
            + (f": {what}" if what else ""))
        write_trials(folder, list(rows.values()))

    where = "Ray cluster" if ray else f"{workers} worker{'s' * (workers > 1)} here"
    log(f"{spec.experiment}: {len(trials)} trials ({finished} already completed) on the "
        f"{where}, {spec.threads} thread{'s' * (spec.threads > 1)} each -> {folder}")
    try:
        if ray:
            from shallowlab.sweep.cluster import run_ray

            run_ray(ray, jobs, cpus_per_trial or spec.threads, spec.threads, done, log)
        else:
            from shallowlab.sweep.local import run_local

            run_local(jobs, workers, spec.threads, done, log)
    finally:
        finish(spec, list(rows.values()), folder)
        lock.close()
    return list(rows.values())


def swept(spec: Spec) -> list[str]:
    return [*spec.grid, *spec.ranges]


def ranked(spec: Spec, rows: list[dict]) -> str:
    """The configurations ranked best first, as text, and a line naming the best."""
    return table(configurations(rows, swept(spec)), swept(spec), rows)


def finish(spec: Spec, rows: list[dict], folder: Path) -> None:
    """Write the results files, the figure and the pages."""
    keys = swept(spec)
    configs = configurations(rows, keys)
    write_trials(folder, rows)
    write_summary(folder, configs)
    scored = score(rows)
    figure = folder / "sweep.png"
    if scored is not None:
        seeds = f", mean ± std over {len(spec.seeds)} seeds" if len(spec.seeds) > 1 else ""
        fig = figures.draw(rows, configs, keys, scored[0], scored[1],
                           f"{spec.experiment}: {scored[1]}{seeds}")
        try:
            atomic_write(figure, plots.png_bytes(fig, dpi=110))
        finally:
            plots.close(fig)
    elif figure.exists():
        figure.unlink()
    pages.write(folder, spec.to_json(), rows, configs, keys)
