"""A trial as work to do: its folder, and the ``shallowlab run`` command that does it.

A trial's folder is an ordinary run folder. Where it holds a run that stopped part-way
(status ``running`` after a kill, or ``interrupted``), the job continues it with
``shallowlab run --resume``; a run that failed, or a folder without a run, starts over.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from shallowlab.sweep.spec import Trial, run_flags

UNFINISHED = ("running", "interrupted")
KEEP = {".lock"}  # a trial folder's files that outlive a fresh start


def summary(folder: Path) -> dict:
    """``folder/summary.json``; empty where there is no readable one (a trial not yet run)."""
    try:
        found = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def status(folder: Path) -> str | None:
    """The run's status in ``folder/summary.json``; None where there is none."""
    return summary(folder).get("status")


@dataclass
class Job:
    trial: Trial
    folder: Path
    experiment: str
    fixed: dict
    threads: int
    resuming: bool = False

    def prepare(self) -> None:
        """Decide between resuming and starting over, and clear the folder for the latter."""
        self.resuming = status(self.folder) in UNFINISHED and \
            (self.folder / "config.json").exists()
        if not self.resuming and self.folder.exists():
            for path in self.folder.iterdir():
                if path.name not in KEEP:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()

    def argv(self, folder: Path) -> list[str]:
        """``shallowlab``'s arguments that run the trial into ``folder``."""
        threads = ["--threads", str(self.threads)]
        if self.resuming:
            return ["run", "--resume", str(folder), *threads]
        settings = {**self.fixed, **self.trial.settings, "seed": self.trial.seed}
        return ["run", self.experiment, "--out", str(folder), *threads, *run_flags(settings)]
