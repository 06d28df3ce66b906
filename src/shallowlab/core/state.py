"""What the training loop shares with its callbacks and with a checkpoint: where a run stands
(:class:`State`), where an interrupted epoch stopped (:class:`ResumePoint`), and the exception
that says a signal stopped it (:class:`Interrupted`).

Words, used one way throughout: a *step* is the object that computes a batch
(:mod:`shallowlab.core.steps`); a *batch* is counted from 1 within its epoch.
"""

from __future__ import annotations

import signal as signals
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResumePoint:
    """Where an interrupted epoch stood: enough to continue it as if it had never stopped.

    ``batches_done`` batches of epoch ``epoch`` were trained in ``seconds``; ``sums`` and
    ``guard`` are the state dicts of the epoch's running sums and of the divergence guard.
    """

    epoch: int
    batches_done: int
    seconds: float
    sums: dict
    guard: dict

    def as_dict(self) -> dict:
        """The plain form a checkpoint holds (format 2 names the count ``step``)."""
        return {"epoch": self.epoch, "step": self.batches_done, "seconds": self.seconds,
                "sums": self.sums, "guard": self.guard}

    @classmethod
    def from_dict(cls, saved: dict) -> ResumePoint:
        return cls(saved["epoch"], saved["step"], saved["seconds"], saved["sums"],
                   saved["guard"])


@dataclass
class State:
    """Where a run stands, as every callback hook sees it.

    ``epochs`` is the run's length and ``history`` its per-epoch records so far; within an
    epoch, ``batch`` counts from 1 up to ``batches`` (None when the batches have no length),
    ``loss`` is the last batch's mean loss (a number on the CPU, a 0-d tensor on an
    accelerator, where reading it waits for the device) and ``sums`` the epoch's running
    :class:`shallowlab.core.loop.Sums`. ``stopped`` is set when a signal stopped the run.
    """

    epochs: int
    history: list[dict] = field(default_factory=list)
    epoch: int = 0
    batch: int = 0
    batches: int | None = None
    loss: object = None
    sums: object = None
    stopped: ResumePoint | None = None

    @property
    def progress(self) -> float:
        """How far through the run the current batch starts, in [0, 1):
        ``(epoch - 1 + (batch - 1) / batches) / epochs``."""
        within = (self.batch - 1) / self.batches if self.batches else 0.0
        return (self.epoch - 1 + within) / self.epochs


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGINT, Ctrl-C; or SIGTERM): ``signal`` says which.

    A ``KeyboardInterrupt``, so that whatever ends a process on Ctrl-C ends it here too.
    """

    def __init__(self, signum: int = signals.SIGINT) -> None:
        self.signal = signals.Signals(signum).name
        super().__init__(f"interrupted by {self.signal}")
