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
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from shallowlab.errors import ConfigError
from shallowlab.train import HISTORY_KEYS


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _finite(obj):
    """JSON has no NaN or infinity: a non-finite number is stored as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _json(obj) -> str:
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
            atomic_write(self.path / ".write-test", b"")
            (self.path / ".write-test").unlink()
        except OSError as e:
            raise ConfigError(f"cannot write the run folder {self.path} ({e.strerror}); "
                              "choose another with --out DIR") from None

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, obj) -> None:
        atomic_write(self.path / name, _json(obj))

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

    def save_weights(self, model: torch.nn.Module, name: str = "model.safetensors") -> None:
        tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        atomic_write(self.path / name, st_save(tensors))

    def load_weights(self, name: str = "model.safetensors") -> dict[str, torch.Tensor]:
        return st_load((self.path / name).read_bytes())
