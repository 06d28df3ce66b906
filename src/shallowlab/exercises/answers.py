"""A run exercise answered: its run carried out with the machinery every experiment uses, then
its sentence and its folder.

An ``experiment`` or ``own`` run goes through :func:`shallowlab.runs.lifecycle.execute` into
a run folder (``config.json``, ``summary.json``, figures); a ``sweep`` through
:func:`shallowlab.sweep.plan` and :func:`shallowlab.sweep.run_trials` into a sweep folder
(its trials' run folders, ``trials.csv``, ``summary.csv``, ``sweep.png``, ``sweep.html``),
as many trials at once as the machine has cores, one torch thread each.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from shallowlab.exercises import text, verdicts
from shallowlab.exercises.catalog import Exercise
from shallowlab.exercises.runs import RUNS
from shallowlab.runs.folder import RunDir, default_dir
from shallowlab.term import colour, indented, silent

Log = Callable[[str], None]


def own_experiment(name: str):
    """The ``Experiment`` of own run ``name``."""
    module = importlib.import_module(f"shallowlab.exercises.runs.{RUNS[name].target}")
    return module.RUNS[name]


def settings_of(name: str, full: bool, data_dir: str | None) -> dict:
    run = RUNS[name]
    settings = dict(run.full if full else run.quick)
    if data_dir:
        settings["data_dir"] = data_dir
    return settings


def carry_out(name: str, folder: Path, *, full: bool = False, data_dir: str | None = None,
              log: Log = print, overrides: dict | None = None) -> dict:
    """Run ``name`` into ``folder``; ``{"summary", "history"}`` for an experiment or an own
    run, ``{"rows", "keys", "epochs"}`` for a sweep, with ``seconds`` either way.
    ``overrides`` change settings (a seed, a smaller size) on top of the quick or full ones."""
    from shallowlab.experiments import EXPERIMENTS
    from shallowlab.runs.lifecycle import execute
    from shallowlab.runs.settings import resolve

    start, run = time.perf_counter(), RUNS[name]
    settings = {**settings_of(name, full, data_dir), **(overrides or {})}
    if run.how == "sweep":
        found = _sweep(name, settings, folder, log)
    else:
        experiment = own_experiment(name) if run.how == "own" else EXPERIMENTS[run.target]
        settings = {k: v for k, v in settings.items() if k in experiment.defaults}
        summary = execute(experiment, resolve(experiment, settings), RunDir(folder), log)
        history = folder / "history.json"
        found = {"summary": summary,
                 "history": json.loads(history.read_text()) if history.exists() else []}
    return {**found, "seconds": time.perf_counter() - start}


def _sweep(name: str, settings: dict, folder: Path, log: Log) -> dict:
    from shallowlab import sweep
    from shallowlab.sweep.jobs import summary

    run = RUNS[name]
    spec = sweep.Spec(experiment=run.target, fixed=settings, grid=dict(run.grid), ranges={},
                      sample=None, sample_seed=0, seeds=list(range(run.seeds)), threads=1)
    trials = sweep.plan(spec, folder, ["shallowlab", "exercise", "(run)", name])
    rows = sweep.run_trials(spec, trials, folder, workers=sweep.cores(), log=log)
    for row in rows:  # what each trial's summary says beyond the table (numbers only)
        found = summary(folder / row["trial"])
        row.update({k: v for k, v in found.items() if k not in row
                    and isinstance(v, (int, float)) and not isinstance(v, bool)})
    return {"rows": rows, "keys": list(run.grid), "epochs": settings.get("epochs")}


def sentence(name: str, found: dict) -> str:
    """The answer, in a sentence or two with the run's numbers."""
    run = RUNS[name]
    if run.how == "sweep":
        return verdicts.sweep(name, found["rows"], found["keys"], found["epochs"])
    if name in verdicts.EXPERIMENTS:
        return verdicts.EXPERIMENTS[name](found["summary"], found["history"])
    if run.how == "own":
        return own_experiment(name).answer(found["summary"])
    from shallowlab.experiments import EXPERIMENTS

    return EXPERIMENTS[run.target].answer(found["summary"])


def run_one(exercise: Exercise, *, full: bool = False, out: str | None = None,
            data_dir: str | None = None, log: Log = print) -> bool:
    """Run ``exercise``'s answer and print it; False if the run failed."""
    folder = Path(out) if out else default_dir(f"exercise-{exercise.id}")
    settings = settings_of(exercise.run, full, None)
    log(f"\nRunning {RUNS[exercise.run].what()}"
        + (f" ({verdicts.label(settings)})" if settings else "") + f" -> {folder}")
    try:
        found = carry_out(exercise.run, folder, full=full, data_dir=data_dir,
                          log=indented(log, "   "))
    except KeyboardInterrupt:
        raise
    except Exception as e:
        print(f"{colour('failed:', 'red')} {e}\nrun folder: {folder}")
        return False
    print(f"\nAnswer: {sentence(exercise.run, found)}")
    log("\n".join(["", "Why:", *text.wrap(exercise.answer)]))
    print(f"run folder: {folder}  ({found['seconds']:.0f} s)")
    return True


def run_all(pairs: list[tuple[str, Exercise]], *, full: bool = False, out: str | None = None,
            data_dir: str | None = None, log: Log = print) -> int:
    """Every run answer among ``pairs`` once (several exercises can share one), each into
    ``out/<run>``; a line per run with its time and answer. Exit status 1 if any failed."""
    root = Path(out) if out else default_dir("exercises")
    names = list(dict.fromkeys(e.run for _, e in pairs if e.kind == "run"))
    failed, start = [], time.perf_counter()
    for name in names:
        ids = [i for i, e in pairs if e.run == name]
        log(f"== {name} ({', '.join(ids)}): {RUNS[name].what()}")
        try:
            found = carry_out(name, root / name, full=full, data_dir=data_dir, log=silent)
            print(f"{name:22} {found['seconds']:6.1f} s  {sentence(name, found)}")
        except KeyboardInterrupt:
            raise
        except Exception as e:
            failed.append(name)
            print(f"{name:22} {colour('failed', 'red')}: {e}")
    print(f"{len(names) - len(failed)} of {len(names)} run answers completed in "
          f"{time.perf_counter() - start:.0f} s ({'the book' if full else 'quick'} settings); "
          f"folders in {root}")
    return 1 if failed else 0
