"""Callbacks: what a training run does besides training, one concern each.

:func:`shallowlab.core.loop.fit` calls each hook of every callback in order; a callback overrides
the hooks it needs. ``epoch`` and ``step`` count from 1; ``loss`` is the batch's mean loss (a
Python number on the CPU, a 0-d tensor on an accelerator, where reading it waits for the
device); ``sums`` is the epoch's running :class:`shallowlab.core.loop.Sums`; ``history`` the list
of per-epoch records so far. A callback that defines ``on_interrupt`` makes the run
interruptible: a Ctrl-C or SIGTERM lets the step under way finish, then calls it with
``partial``, where the epoch stood (see :func:`shallowlab.core.loop.fit`).

Here: :class:`Progress` (a bar for the run on a terminal, a line per epoch elsewhere) and
:class:`LrSchedule`; :class:`shallowlab.runs.tensorboard.TensorBoardLogger` and the run folder's
:class:`shallowlab.runs.folder.Checkpointing` attach the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence


class Callback:
    """The hooks of a run; each does nothing until a subclass overrides it."""

    def on_epoch_begin(self, epoch: int, steps: int | None) -> None:
        """Before the epoch's first step; ``steps`` is its number of batches, if known."""

    def on_step_begin(self, epoch: int, step: int) -> None:
        """Before the step computes anything (to set its learning rate, say)."""

    def on_step_end(self, epoch: int, step: int, loss, sums) -> None:
        """After the step has updated the model and its sums are counted."""

    def on_epoch_end(self, history: list[dict]) -> None:
        """After the epoch's record (test metrics included) is appended to ``history``."""

    def on_interrupt(self, history: list[dict], partial: dict) -> None:
        """After a signal stopped the run between two steps (see the module docstring)."""

    def on_fit_end(self, history: list[dict]) -> None:
        """After the last epoch, or when the run stops early for any reason."""


class CallbackList:
    """Callbacks called as one, each hook only on the callbacks that override it."""

    HOOKS = ("on_epoch_begin", "on_step_begin", "on_step_end", "on_epoch_end",
             "on_interrupt", "on_fit_end")

    def __init__(self, callbacks: Sequence[Callback]) -> None:
        for hook in self.HOOKS:
            bound = [getattr(c, hook) for c in callbacks
                     if getattr(type(c), hook, None) is not getattr(Callback, hook)]
            setattr(self, hook, self._caller(bound))
        self.interruptible = any(type(c).on_interrupt is not Callback.on_interrupt
                                 for c in callbacks)

    @staticmethod
    def _caller(bound: list[Callable]) -> Callable:
        def call(*args) -> None:
            for hook in bound:
                hook(*args)
        return call


def format_record(record: dict, epochs: int) -> str:
    """One line for an epoch: ``epoch 3/10  train loss 0.5123 acc 0.812  test ...  1.2s``."""
    def part(split: str) -> str:
        text = f"  {split} loss {record[f'{split}_loss']:.4g}"
        acc = record[f"{split}_acc"]
        return text + (f" acc {acc:.3f}" if acc is not None else "")

    line = f"epoch {record['epoch']}/{epochs}" + part("train")
    if record["test_loss"] is not None:
        line += part("test")
    return line + f"  {record['seconds']:.1f}s"


class Progress(Callback):
    """How a run shows itself while it trains.

    With ``bar`` (on a terminal): one tqdm bar for the whole run, on stderr, reading
    ``epoch k/N  loss 0.5123 acc 0.812  42%|####      | [00:12 elapsed, 00:17 left]``: the
    epoch, the epoch's running loss and accuracy (read from the sums at most twice a second: on
    an accelerator a read waits for the device), and the time left for the run, not the epoch,
    with each finished epoch's :func:`format_record` line kept above the bar. Without: that
    line alone once per epoch through ``log``, plain text (no carriage return, no colour).
    """

    FORMAT = "{desc}  {percentage:3.0f}%|{bar}| [{elapsed} elapsed, {remaining} left]"

    def __init__(self, epochs: int, bar: bool, log: Callable[[str], None] = print) -> None:
        self.epochs, self.bar, self.log = epochs, bar, log
        self.pbar, self.shown, self.steps = None, 0.0, None

    def on_epoch_begin(self, epoch: int, steps: int | None) -> None:
        self.steps, self.shown = steps, 0.0  # the new epoch's first step shows its loss

    def on_step_begin(self, epoch: int, step: int) -> None:
        """Opens the bar before the first step, where a resumed run stands: the time left is
        reckoned from this process's pace alone."""
        if not self.bar or self.pbar is not None:
            return
        from tqdm import tqdm  # only on a terminal

        from shallowlab.term import colour_on

        steps = self.steps or 0
        done = epoch - 1 + (step - 1) / steps if steps else epoch - 1
        self.pbar = tqdm(total=self.epochs, initial=done, desc=f"epoch {epoch}/{self.epochs}",
                         bar_format=self.FORMAT, dynamic_ncols=True, leave=False,
                         file=sys.stderr, colour="green" if colour_on(sys.stderr) else None)

    def on_step_end(self, epoch: int, step: int, loss, sums) -> None:
        if not self.bar:
            return
        if time.perf_counter() - self.shown > 0.5:  # a host read, twice a second at most
            self.shown = time.perf_counter()
            running = " ".join(f"{k} {v}" for k, v in sums.shown().items())
            self.pbar.set_description_str(f"epoch {epoch}/{self.epochs}  {running}",
                                          refresh=False)
        if self.steps:
            self.pbar.update(epoch - 1 + step / self.steps - self.pbar.n)

    def on_epoch_end(self, history: list[dict]) -> None:
        line = format_record(history[-1], self.epochs)
        if self.pbar is None:
            self.log(line)
            return
        self.pbar.set_description_str("  ".join(line.split("  ")[:2]), refresh=False)
        self.pbar.update(history[-1]["epoch"] - self.pbar.n)
        with self.pbar.external_write_mode():  # the line above the bar, the bar redrawn
            self.log(line)

    def on_fit_end(self, history: list[dict]) -> None:
        if self.pbar is not None:
            self.pbar.close()
            self.pbar = None


class LrSchedule(Callback):
    """Sets every parameter group's learning rate before each step to ``lr_at(t)``, where

        t = (epoch - 1 + (step - 1) / steps) / epochs

    is how far through the run the step starts. A function of the position only, so a resumed
    run sets exactly the rates an uninterrupted one would have (and raising ``epochs`` on
    resume stretches the rest of the schedule).
    """

    def __init__(self, optimizer, lr_at: Callable[[float], float], epochs: int) -> None:
        self.optimizer, self.lr_at, self.epochs = optimizer, lr_at, epochs
        self.steps = 1

    def on_epoch_begin(self, epoch: int, steps: int | None) -> None:
        if steps is None:
            raise ValueError("LrSchedule needs training batches with a len()")
        self.steps = steps

    def on_step_begin(self, epoch: int, step: int) -> None:
        lr = self.lr_at((epoch - 1 + (step - 1) / self.steps) / self.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr


class EachEpoch(Callback):
    """Calls ``fn(history)`` after each epoch: to save the history, record or plot it."""

    def __init__(self, fn: Callable[[list[dict]], None]) -> None:
        self.fn = fn

    def on_epoch_end(self, history: list[dict]) -> None:
        self.fn(history)
