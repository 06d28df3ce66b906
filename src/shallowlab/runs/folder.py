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
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from shallowlab.figures import painter
from shallowlab.core.callbacks import Callback
from shallowlab.errors import ConfigError, DataError
from shallowlab.files import atomic_write
from shallowlab.core.loop import HISTORY_KEYS


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

    def save_figure(self, name: str, draw: Callable, *args, **kwargs) -> None:
        """Draw ``draw(*args, **kwargs)``, a function of plain data that returns a matplotlib
        Figure (:mod:`shallowlab.figures.plots`, :mod:`shallowlab.figures.lessons`), into the PNG
        file ``name`` (``"curves.png"``), atomically. The painter draws it when the process
        has one (:func:`shallowlab.figures.painter.wait` before the run is called completed), else it
        is drawn here; tensors among the arguments arrive as numpy arrays.
        """
        painter.draw(self.path / name, draw, *args, **kwargs)

    def save_weights(self, model: torch.nn.Module, name: str = "model.safetensors") -> None:
        tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        atomic_write(self.path / name, st_save(tensors))

    def load_weights(self, name: str = "model.safetensors") -> dict[str, torch.Tensor]:
        return st_load((self.path / name).read_bytes())


CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = 2  # 2: a mid-epoch partial holds its sums and guard as state dicts


def rng_states(generators: dict[str, torch.Generator]) -> dict:
    """Every random state a run draws from: torch's, numpy's, Python's and its own generators."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {"torch": torch.get_rng_state(),
              "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
              "python": random.getstate(),
              **{f"gen:{name}": g.get_state() for name, g in generators.items()}}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict, generators: dict[str, torch.Generator]) -> None:
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(_tuples(states["python"]))
    for name, g in generators.items():
        g.set_state(states[f"gen:{name}"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


class Checkpointer:
    """Saves and restores everything a training run needs to continue exactly.

    The checkpoint holds the model's and optimizer's state, the history so far and every
    random state (see :func:`rng_states`). It is written atomically after each epoch, and on
    an interrupt in the middle of one with ``partial``: where in the epoch the run stopped and
    its running sums, with the data-order generator's state from the start of that epoch so
    the same order can be drawn again. It is read with ``torch.load(weights_only=True)``,
    which unpickles tensors and plain data only.
    """

    def __init__(self, run: RunDir, model, optimizer: torch.optim.Optimizer | None,
                 generators: dict[str, torch.Generator]) -> None:
        self.run, self.model, self.optimizer, self.generators = run, model, optimizer, generators

    def save(self, history: list[dict], partial: dict | None = None,
             generator_states: dict[str, torch.Tensor] | None = None) -> None:
        """``generator_states`` replaces the named generators' current states in the file."""
        rng = rng_states(self.generators)
        rng.update({f"gen:{name}": s for name, s in (generator_states or {}).items()})
        state = {"format": CHECKPOINT_FORMAT, "history": history, "partial": partial,
                 "model": {k: v.detach() for k, v in self.model.state_dict().items()},
                 "optimizer": self.optimizer.state_dict() if self.optimizer else None,
                 "rng": rng}
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write(self.run / CHECKPOINT, buf.getvalue())

    def restore(self) -> tuple[list[dict], dict | None]:
        """Load the checkpoint into the model, optimizer and generators.

        Returns its history and its ``partial`` epoch (None when it was saved at an epoch's
        end); ``([], None)`` when there is no checkpoint.
        """
        path = self.run / CHECKPOINT
        if not path.exists():
            return [], None
        try:
            state = torch.load(path, weights_only=True, map_location="cpu")
        except Exception as e:  # a damaged file, or one with code in it: refuse either way
            raise DataError(f"{path} cannot be loaded safely ({type(e).__name__}); "
                            "delete it to start the run over") from None
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            found = state.get("format") if isinstance(state, dict) else "none"
            raise DataError(f"{path} has checkpoint format {found}, this shallowlab reads "
                            f"format {CHECKPOINT_FORMAT}; start a new run")
        ours = self.model.state_dict()
        theirs = state["model"]
        for name in sorted(set(ours) | set(theirs)):
            a = tuple(ours[name].shape) if name in ours else None
            b = tuple(theirs[name].shape) if name in theirs else None
            if a != b:
                raise ConfigError(f"{path} was written for another architecture: {name} is "
                                  f"{b or 'absent'} there and {a or 'absent'} in this model")
        with torch.no_grad():
            for name, tensor in ours.items():
                tensor.copy_(theirs[name])
        if self.optimizer is not None and state["optimizer"] is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        set_rng_states(state["rng"], self.generators)
        return state["history"], state.get("partial")


class Checkpointing(Callback):
    """Keeps the run folder current: after each epoch the checkpoint, then the history (so
    ``history.json`` never runs ahead of the checkpoint); on an interrupt, a mid-epoch
    checkpoint. ``pass_states()`` gives the generators' states from the start of the pass
    under way (``{"order": batches.pass_state}``), so a resumed run draws the same order.
    """

    def __init__(self, run: RunDir, checkpointer: Checkpointer,
                 pass_states, log=print) -> None:
        self.run, self.checkpointer, self.log = run, checkpointer, log
        self.pass_states = pass_states

    def on_epoch_end(self, history: list[dict]) -> None:
        self.checkpointer.save(history)
        self.run.write_history(history)

    def on_interrupt(self, history: list[dict], partial: dict) -> None:
        self.checkpointer.save(history, partial, self.pass_states())
        self.log(f"interrupted: checkpoint at epoch {partial['epoch']}, step {partial['step']}; "
                 f"continue with --resume {self.run.path}")
