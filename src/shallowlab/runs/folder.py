"""The run folder: what a run leaves on disk, every file written atomically.

A run folder holds ``config.json``, ``history.json`` and ``history.csv`` (one record per epoch),
``summary.json`` (status ``running``, ``completed``, ``failed`` or ``interrupted``, the final and
best metrics, total seconds), ``model.safetensors`` and the figures. Each file is written to a
temporary name in the same folder, flushed to disk and renamed over the real name, so a reader
sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from shallowlab.core.loop import HISTORY_KEYS
from shallowlab.errors import ConfigError
from shallowlab.figures import painter
from shallowlab.files import atomic_write


def _finite(obj):
    """JSON has no NaN or infinity: a non-finite number is stored as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def json_text(obj) -> str:
    """``obj`` as a run folder's JSON files hold it: indented, non-finite numbers as null."""
    return json.dumps(_finite(obj), indent=2, allow_nan=False) + "\n"


def default_dir(experiment: str, root: str | os.PathLike = "runs") -> Path:
    """``runs/<experiment>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``... if that one exists."""
    stem = Path(root) / f"{experiment}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, k = stem, 1
    while path.exists():
        k += 1
        path = stem.with_name(f"{stem.name}-{k}")
    return path


class RunDir:
    """A run folder: created (and checked writable) on construction."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.path):
                pass
        except OSError as e:
            raise ConfigError(f"cannot write the run folder {self.path} ({e.strerror}); "
                              "choose another with --out DIR") from None

    def remove_temporaries(self) -> None:
        """Delete what a write cut short left behind (the real files are whole, or absent)."""
        for stale in self.path.glob(".*.tmp"):
            stale.unlink()

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, obj) -> None:
        atomic_write(self.path / name, json_text(obj))

    def write_history(self, history: list[dict]) -> None:
        self.write_json("history.json", history)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=HISTORY_KEYS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
        atomic_write(self.path / "history.csv", buf.getvalue())

    def write_summary(self, status: str, history: list[dict], seconds: float,
                      error: str | None = None, **extra) -> dict:
        summary = {"status": status, "epochs": len(history), "seconds": round(seconds, 3)}
        if history:
            last = history[-1]
            summary.update({f"final_{k}": last[k] for k in HISTORY_KEYS[1:5]})
            tested = [r for r in history if r["test_acc"] is not None]
            if tested:
                best = max(tested, key=lambda r: r["test_acc"])
                summary.update(best_test_acc=best["test_acc"], best_epoch=best["epoch"])
        if error is not None:
            summary["error"] = error
        summary = _finite({**summary, **extra})
        self.write_json("summary.json", summary)
        return summary

    def save_figure(self, name: str, draw: Callable, *args, **kwargs) -> None:
        """Draw ``draw(*args, **kwargs)``, a function of plain data that returns a matplotlib
        Figure (:mod:`shallowlab.figures.plots`, :mod:`shallowlab.figures.lessons`), into the
        PNG file ``name`` (``"curves.png"``), atomically. The painter draws it when the process
        has one (:func:`shallowlab.figures.painter.wait` before the run is called completed),
        else it is drawn here; tensors among the arguments arrive as numpy arrays.
        """
        painter.draw(self.path / name, draw, *args, **kwargs)

    def save_weights(self, model: torch.nn.Module, name: str = "model.safetensors") -> None:
        tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        atomic_write(self.path / name, st_save(tensors))

    def load_weights(self, name: str = "model.safetensors") -> dict[str, torch.Tensor]:
        return st_load((self.path / name).read_bytes())
