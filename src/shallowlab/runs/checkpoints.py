"""Checkpoints: everything a run needs to continue exactly, saved after each epoch and on an
interrupt, and restored on ``--resume``.

A checkpoint (``checkpoint.pt``, format 2) holds the model's and optimizer's state, the history
so far, every random state and, when a signal stopped an epoch in the middle, where it stopped
(:class:`shallowlab.core.state.ResumePoint`). :class:`Checkpointer` writes and reads it;
:class:`CheckpointEachEpoch` is the callback that keeps it current during training.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import numpy as np
import torch

from shallowlab.core.callbacks import Callback
from shallowlab.core.state import ResumePoint, State
from shallowlab.errors import ConfigError, DataError
from shallowlab.files import atomic_write
from shallowlab.runs.folder import RunDir
from shallowlab.term import Log

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

    def save(self, history: list[dict], partial: ResumePoint | None = None,
             generator_states: dict[str, torch.Tensor] | None = None) -> None:
        """``generator_states`` replaces the named generators' current states in the file."""
        rng = rng_states(self.generators)
        rng.update({f"gen:{name}": s for name, s in (generator_states or {}).items()})
        state = {"format": CHECKPOINT_FORMAT, "history": history,
                 "partial": partial.as_dict() if partial else None,
                 "model": {k: v.detach() for k, v in self.model.state_dict().items()},
                 "optimizer": self.optimizer.state_dict() if self.optimizer else None,
                 "rng": rng}
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write(self.run / CHECKPOINT, buf.getvalue())

    def restore(self) -> tuple[list[dict], ResumePoint | None]:
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
        partial = state.get("partial")
        return state["history"], ResumePoint.from_dict(partial) if partial else None


class CheckpointEachEpoch(Callback):
    """Keeps the run folder current: after each epoch the checkpoint, then the history (so
    ``history.json`` never runs ahead of the checkpoint); on an interrupt, a mid-epoch
    checkpoint. ``pass_states()`` gives the generators' states from the start of the pass
    under way (``{"order": batches.pass_state}``), so a resumed run draws the same order.
    """

    def __init__(self, run: RunDir, checkpointer: Checkpointer,
                 pass_states: Callable[[], dict[str, torch.Tensor]], log: Log = print) -> None:
        self.run, self.checkpointer, self.log = run, checkpointer, log
        self.pass_states = pass_states

    def on_epoch_end(self, state: State) -> None:
        self.checkpointer.save(state.history)
        self.run.write_history(state.history)

    def on_interrupt(self, state: State) -> None:
        stopped = state.stopped
        self.checkpointer.save(state.history, stopped, self.pass_states())
        self.log(f"interrupted: checkpoint at epoch {stopped.epoch}, batch "
                 f"{stopped.batches_done}; continue with --resume {self.run.path}")
