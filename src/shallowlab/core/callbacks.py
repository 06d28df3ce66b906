"""Callbacks: what a training run does besides training, one concern each.

:func:`shallowlab.core.loop.fit` calls each hook of every callback in order, and every hook
takes one argument, the loop's :class:`shallowlab.core.state.State`: the epoch, the batch
(counted from 1), the last batch's loss, the running sums, the history and, after a signal,
where the run stopped. A callback overrides the hooks it needs. One that defines
``on_interrupt`` makes the run interruptible: a Ctrl-C or SIGTERM lets the batch under way
finish, then calls it with ``state.stopped`` set (see :func:`shallowlab.core.loop.fit`).

Here: :class:`Progress` (a bar for the run on a terminal, a line per epoch elsewhere),
:class:`LrSchedule` and :class:`EachEpoch`; :class:`shallowlab.runs.tensorboard.TensorBoardLogger`
and :class:`shallowlab.runs.checkpoints.CheckpointEachEpoch` attach the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

from shallowlab.core.state import State
from shallowlab.term import Log


class Callback:
    """The hooks of a run; each does nothing until a subclass overrides it."""

    def on_epoch_begin(self, state: State) -> None:
        """Before the epoch's first batch; ``state.batches`` is its length, if known."""

    def on_batch_begin(self, state: State) -> None:
        """Before the batch is computed (to set its learning rate, say)."""

    def on_batch_end(self, state: State) -> None:
        """After the batch has updated the model and is counted in ``state.sums``."""

    def on_epoch_end(self, state: State) -> None:
        """After the epoch's record (test metrics included) is appended to the history."""

    def on_interrupt(self, state: State) -> None:
        """After a signal stopped the run between two batches, at ``state.stopped``."""

    def on_fit_end(self, state: State) -> None:
        """After the last epoch, or when the run stops early for any reason."""


class CallbackList:
    """Callbacks called as one, each hook only on the callbacks that override it."""

    HOOKS = ("on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end",
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
        def call(state: State) -> None:
            for hook in bound:
                hook(state)
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

    def __init__(self, bar: bool, log: Log = print) -> None:
        self.bar, self.log = bar, log
        self.pbar, self.shown = None, 0.0

    def on_epoch_begin(self, state: State) -> None:
        self.shown = 0.0  # the new epoch's first batch shows its loss

    def on_batch_begin(self, state: State) -> None:
        """Opens the bar before the first batch, where a resumed run stands: the time left is
        reckoned from this process's pace alone."""
        if not self.bar or self.pbar is not None:
            return
        from tqdm import tqdm  # only on a terminal

        from shallowlab.term import colour_on

        self.pbar = tqdm(total=state.epochs, initial=state.progress * state.epochs,
                         desc=f"epoch {state.epoch}/{state.epochs}", bar_format=self.FORMAT,
                         dynamic_ncols=True, leave=False, file=sys.stderr,
                         colour="green" if colour_on(sys.stderr) else None)

    def on_batch_end(self, state: State) -> None:
        if not self.bar:
            return
        if time.perf_counter() - self.shown > 0.5:  # a host read, twice a second at most
            self.shown = time.perf_counter()
            running = " ".join(f"{k} {v}" for k, v in state.sums.shown().items())
            self.pbar.set_description_str(f"epoch {state.epoch}/{state.epochs}  {running}",
                                          refresh=False)
        if state.batches:
            self.pbar.update(state.epoch - 1 + state.batch / state.batches - self.pbar.n)

    def on_epoch_end(self, state: State) -> None:
        line = format_record(state.history[-1], state.epochs)
        if self.pbar is None:
            self.log(line)
            return
        self.pbar.set_description_str("  ".join(line.split("  ")[:2]), refresh=False)
        self.pbar.update(state.history[-1]["epoch"] - self.pbar.n)
        with self.pbar.external_write_mode():  # the line above the bar, the bar redrawn
            self.log(line)

    def on_fit_end(self, state: State) -> None:
        if self.pbar is not None:
            self.pbar.close()
            self.pbar = None


class LrSchedule(Callback):
    """Sets every parameter group's learning rate before each batch to ``lr_at(t)``, where

        t = (epoch - 1 + (batch - 1) / batches) / epochs

    is how far through the run the batch starts (:attr:`State.progress`). A function of the
    position only, so a resumed run sets exactly the rates an uninterrupted one would have (and
    raising ``epochs`` on resume stretches the rest of the schedule).
    """

    def __init__(self, optimizer, lr_at: Callable[[float], float]) -> None:
        self.optimizer, self.lr_at = optimizer, lr_at

    def on_epoch_begin(self, state: State) -> None:
        if state.batches is None:
            raise ValueError("LrSchedule needs training batches with a len()")

    def on_batch_begin(self, state: State) -> None:
        lr = self.lr_at(state.progress)
        for group in self.optimizer.param_groups:
            group["lr"] = lr


class EachEpoch(Callback):
    """Calls ``fn(history)`` after each epoch: to save the history, record or plot it."""

    def __init__(self, fn: Callable[[list[dict]], None]) -> None:
        self.fn = fn

    def on_epoch_end(self, state: State) -> None:
        self.fn(state.history)
