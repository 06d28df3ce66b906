"""Run folders found, read and listed: what ``shallowlab runs`` prints and the report reads.

A run folder is a folder with a ``summary.json`` (see docs/run-folder.md). Given a folder, the
runs are that folder if it is one, else the run folders in it and in its subfolders, two levels
down at most (a ``run all`` folder, a sweep's trials, a folder of a user's runs). A run folder
is not searched further: the sub-runs of ``dropout`` and ``label-smoothing`` belong to it.

Settings that differ are found within each experiment: between two runs of ``mlp`` that
differ only in ``lr``, the row says ``--lr 0.1``; a run alone of its experiment says nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shallowlab.errors import ConfigError, ShallowlabError
from shallowlab.runs.settings import as_flags

# config.json entries that say where and with what a run ran, not how it was set up
META = ("experiment", "shallowlab", "torch", "python", "cpu", "cores")


@dataclass
class Run:
    """One run folder, read: ``name`` is its path relative to the folder it was found in."""

    path: Path
    name: str
    config: dict
    summary: dict
    history: list[dict] = field(default_factory=list)

    @property
    def experiment(self) -> str:
        return str(self.config.get("experiment") or self.path.name)

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))

    @property
    def settings(self) -> dict:
        return {k: v for k, v in self.config.items() if k not in META}


def read_json(path: Path):
    """The JSON in ``path``, or None where there is no such file or it does not parse."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def load(path: Path, name: str) -> Run:
    """Read the run folder ``path``: its summary must be readable, the rest may be missing."""
    summary_path = path / "summary.json"
    try:
        summary = json.loads(summary_path.read_text())
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ShallowlabError(f"{summary_path} cannot be read ({reason}); remove that run "
                              "folder or list the others") from None
    if not isinstance(summary, dict):
        raise ShallowlabError(f"{summary_path} is not a run's summary (a JSON object); remove "
                              "that run folder or list the others")
    config = read_json(path / "config.json")
    history = read_json(path / "history.json")
    return Run(path, name, config if isinstance(config, dict) else {}, summary,
               history if isinstance(history, list) else [])


def _below(folder: Path, depth: int) -> list[Path]:
    found = []
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        if (child / "summary.json").is_file():
            found.append(child)
        elif depth > 1:
            found += _below(child, depth - 1)
    return found


def find(folders: Sequence[str | Path]) -> list[Run]:
    """The runs in ``folders`` (each a run folder, or a folder holding run folders)."""
    runs = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a folder; give a run folder or a folder that "
                              "holds run folders")
        if (folder / "summary.json").is_file():
            runs.append(load(folder, folder.name))
            continue
        found = _below(folder, 2)
        if not found:
            raise ConfigError(f"{folder} holds no run folders (none with a summary.json in it "
                              "or two levels below); give a folder that `shallowlab run` wrote")
        runs += [load(p, p.relative_to(folder).as_posix()) for p in found]
    return runs


def differing(runs: Sequence[Run]) -> list[dict]:
    """For each run, the settings whose values differ between the runs of its experiment."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.experiment, []).append(run)
    varying: dict[str, set[str]] = {}
    for name, group in groups.items():
        keys = {k for run in group for k in run.settings}
        varying[name] = {k for k in keys
                         if len({json.dumps(run.settings.get(k)) for run in group}) > 1}
    return [{k: v for k, v in run.settings.items() if k in varying[run.experiment]}
            for run in runs]


def flags(settings: dict) -> str:
    """Settings as the flags that give them: ``--lr 0.1 --hidden 256,128 --fast``."""
    return " ".join(as_flags(settings))


def rows(runs: Sequence[Run]) -> list[dict]:
    """One plain record per run: what ``shallowlab runs --json`` prints."""
    return [{"folder": run.name, "path": str(run.path), "experiment": run.experiment,
             "status": run.status, "settings": settings,
             "final_test_acc": run.summary.get("final_test_acc"),
             "best_test_acc": run.summary.get("best_test_acc"),
             "epochs": run.summary.get("epochs"), "seconds": run.summary.get("seconds"),
             "error": run.summary.get("error") if run.status != "completed" else None}
            for run, settings in zip(runs, differing(runs))]


def seconds(value: float | None) -> str:
    """A duration for people: ``0.3 s``, ``28.3 s``, ``4 min 05 s``, ``1 h 02 min``."""
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    if value < 3600:
        return f"{int(value // 60)} min {int(value % 60):02d} s"
    return f"{int(value // 3600)} h {int(value % 3600 // 60):02d} min"


def _acc(value) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "-"


def table(records: Sequence[dict]) -> str:
    """The records as aligned text columns, a header line first."""
    header = ["folder", "experiment", "status", "settings", "final acc", "best acc", "epochs",
              "time"]
    lines = [header] + [[r["folder"], r["experiment"], r["status"], flags(r["settings"]) or "-",
                         _acc(r["final_test_acc"]), _acc(r["best_test_acc"]),
                         str(r["epochs"] if r["epochs"] is not None else "-"),
                         seconds(r["seconds"])] for r in records]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {4, 5, 6, 7}
    return "\n".join("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
                     for line in lines)
