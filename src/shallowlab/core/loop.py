"""``fit`` and ``evaluate``: a training loop that knows nothing about the model it trains.

The loop drives a step (:mod:`shallowlab.core.steps`: ``forward(X, y)``, then ``update()``) over
the batches; around it, one part per job: :class:`Sums` keeps the epoch's running loss and
accuracy, :class:`DivergenceGuard` stops a run whose loss blows up, and callbacks
(:mod:`shallowlab.core.callbacks`) show progress, save checkpoints and set schedules. The history
is a plain list of per-epoch records with the keys of :data:`HISTORY_KEYS`, ready for
``json.dump``. Sums are read once per epoch, so on an accelerator the host never waits on
the device between batches.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence

import torch

from shallowlab.core.callbacks import Callback, CallbackList, Progress
from shallowlab.core.devices import reads_are_free
from shallowlab.core.metrics import correct
from shallowlab.errors import DivergedError
from shallowlab.term import is_tty, silent

BLOWUP = 1e4  # a batch loss this many times the run's early loss means it has diverged
CHECK_EVERY = 32  # steps between divergence checks on an accelerator
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")
Batch = tuple[torch.Tensor, torch.Tensor]
Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Sums:
    """An epoch's running sums: the loss, the correct predictions (with a metric) and the
    examples. Python numbers where reading the device is free (the CPU), tensors on the device
    elsewhere, read once at the epoch's end. ``state_dict`` carries them through a checkpoint.
    """

    def __init__(self, on_host: bool, counts_hits: bool) -> None:
        self.on_host, self.counts_hits = on_host, counts_hits
        self.loss, self.hits, self.n = 0.0, 0, 0

    def read(self, value: torch.Tensor):
        """``value`` as the sums hold it: a number on the host, else the tensor itself."""
        return value.item() if self.on_host else value

    def add(self, loss_sum, hits, n: int) -> None:
        self.loss, self.n = self.loss + loss_sum, self.n + n
        if self.counts_hits:
            self.hits = self.hits + self.read(hits)

    def means(self) -> tuple[float, float | None]:
        """The mean loss and accuracy over the examples so far (a host read)."""
        if self.n == 0:
            raise ValueError("fit() got an empty training set")
        acc = float(self.hits) / self.n if self.counts_hits else None
        return float(self.loss) / self.n, acc

    def shown(self) -> dict[str, str]:
        """The running means, formatted for a progress bar."""
        loss, acc = self.means()
        return {"loss": f"{loss:.4g}", **({"acc": f"{acc:.3f}"} if acc is not None else {})}

    def state_dict(self) -> dict:
        return {"loss": self.loss, "hits": self.hits, "n": self.n}

    def load_state_dict(self, state: dict) -> None:
        self.loss, self.hits, self.n = state["loss"], state["hits"], state["n"]


class DivergenceGuard:
    """Stops a run whose loss blows up, before the offending step changes the model.

    A batch's mean loss that is not finite, or over ``BLOWUP`` times the early loss, raises
    :class:`DivergedError`. The early loss is the first batch's during epoch 1 and epoch 1's
    mean after it: a function of the history, so a resumed run judges as an uninterrupted one.
    On the host every batch is checked as it comes (a read costs nothing); on an accelerator a
    flag gathers on the device and is read every ``CHECK_EVERY`` steps and by :meth:`flush`.
    """

    def __init__(self, on_host: bool) -> None:
        self.on_host, self.first = on_host, None  # the run's first batch loss
        self.epoch = self.step = 0
        self.early = self.last = self.bad = None

    def start(self, epoch: int, history: list[dict]) -> None:
        self.epoch, self.step, self.last, self.bad = epoch, 0, None, None
        self.early = abs(history[0]["train_loss"]) if history else self.first

    def check(self, step: int, mean) -> None:
        """``mean``: the batch's mean loss, a number on the host, else a 0-d tensor."""
        self.step = step
        if self.early is None:
            self.early = self.first = abs(float(mean))
        limit = BLOWUP * self.early + 1e-12
        if self.on_host:
            if not (math.isfinite(mean) and abs(mean) <= limit):
                raise DivergedError(self.epoch, step, mean, self.early, self.last)
        else:
            bad = ~(torch.isfinite(mean) & (mean.abs() <= limit))
            self.bad = bad if self.bad is None else self.bad | bad
            if step % CHECK_EVERY == 0:
                self.flush(mean)
        self.last = mean

    def flush(self, mean=None) -> None:
        """Raise if the device's flag says a step since the last read diverged; ``mean`` is
        the loss of the step being checked, if it is not yet ``last``."""
        if self.bad is not None and self.bad:
            loss, before = (self.last, None) if mean is None else (mean, self.last)
            raise DivergedError(self.epoch, self.step, float(loss), self.early,
                                None if before is None else float(before))

    def state_dict(self) -> dict:
        return {"first": self.first}

    def load_state_dict(self, state: dict) -> None:
        self.first = state["first"]


class _Stop:
    requested = False


@contextlib.contextmanager
def deferred_signals(enabled: bool):
    """While active (and ``enabled``, in the main thread), SIGINT and SIGTERM only set
    ``requested``; a second one raises ``KeyboardInterrupt`` at once. The previous handlers
    are back on exit."""
    stop = _Stop()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_epoch(step, train: Iterable[Batch], epoch: int, sums: Sums, guard: DivergenceGuard,
              callbacks: CallbackList, stop: _Stop, metric: Metric | None = correct,
              done: int = 0) -> int | None:
    """Train one pass over ``train`` after its first ``done`` batches, adding to ``sums``.

    Returns None at the pass's end, or the number of steps done when a signal asks to stop.
    """
    for i, (X, y) in enumerate(itertools.islice(train, done, None), done + 1):
        callbacks.on_step_begin(epoch, i)
        out, loss = step.forward(X, y)
        if loss.numel() != len(y):
            raise ValueError(f"loss_fn must return one loss per example ({len(y)}), "
                             f"got shape {tuple(loss.shape)}; use reduction='none'")
        batch_loss = sums.read(loss.detach().sum())
        mean = batch_loss / len(y)
        guard.check(i, mean)
        step.update()
        with torch.no_grad():
            sums.add(batch_loss, metric(out, y) if metric is not None else None, len(y))
        callbacks.on_step_end(epoch, i, mean, sums)
        if stop.requested:
            guard.flush()
            return i
    return None


@torch.inference_mode()
def evaluate(model, loss_fn, batches: Iterable[Batch],
             metric: Metric | None = correct) -> tuple[float, float | None]:
    """Mean loss and accuracy (None without ``metric``) of ``model`` over ``batches``.

    ``loss_fn`` returns one loss per example; the means are over examples, not batches.
    """
    was_training = model.training
    model.eval()
    loss_sum = hits = 0
    n = 0
    for X, y in batches:
        out = model(X)
        loss_sum = loss_sum + loss_fn(out, y).sum()
        if metric is not None:
            hits = hits + metric(out, y)
        n += len(y)
    model.train(was_training)
    if n == 0:
        raise ValueError("evaluate() got no batches")
    return loss_sum.item() / n, (hits.item() / n if metric is not None else None)


def fit(step, train: Iterable[Batch], *, epochs: int, test: Iterable[Batch] | None = None,
        metric: Metric | None = correct, history: list[dict] | None = None,
        callbacks: Sequence[Callback] = (), progress: bool | None = None,
        log: Callable[[str], None] = print, resume: dict | None = None) -> list[dict]:
    """Train ``step.model`` for ``epochs`` passes over ``train`` by ``step``; the history.

    ``step`` comes from :func:`shallowlab.core.steps.make_step` (or is any object with ``model``,
    ``loss_fn``, ``device``, ``forward`` and ``update``); its ``loss_fn`` returns one loss per
    example. ``train_loss`` and ``train_acc`` are means over the epoch's examples as they
    were trained (the book's convention); ``test_loss`` and ``test_acc`` are measured on
    ``test`` after the epoch. An accuracy is None without ``metric`` (regression), a test
    metric without ``test``. A diverging loss stops the run (:class:`DivergenceGuard`).

    Args:
        train: re-iterable batches; ``train.set_epoch(epoch)`` is called before each pass
            where it exists (a batch-size plan, see :class:`shallowlab.data.batches.Batches`).
        metric: the number of correct predictions in a batch, as a tensor; None for none.
        history: records of epochs already trained; training continues after the last one.
        callbacks: :class:`shallowlab.core.callbacks.Callback` s, called in order after progress.
        progress: a bar for the run when True, a line per epoch through ``log`` when False;
            None: the bar on a terminal (stderr) unless ``log`` is ``term.silent``.
        resume: a ``partial`` an interrupt handed to ``on_interrupt`` (``epoch``, ``step``,
            ``seconds``, ``sums``, ``guard``): its epoch continues after its first ``step``
            batches, from its sums (``train`` must yield the same order again).
    """
    history = list(history or [])
    on_host = reads_are_free(step.device)
    guard = DivergenceGuard(on_host)
    bar = log is not silent and is_tty(sys.stderr) if progress is None else progress
    calls = CallbackList([Progress(epochs, bar, log), *callbacks])
    if resume is not None:
        guard.load_state_dict(resume["guard"])
    try:
        with deferred_signals(calls.interruptible) as stop:
            for epoch in range(len(history) + 1, epochs + 1):
                partial = resume if resume is not None and resume["epoch"] == epoch else {}
                start = time.perf_counter() - partial.get("seconds", 0.0)
                sums = Sums(on_host, metric is not None)
                if partial:
                    sums.load_state_dict(partial["sums"])
                if hasattr(train, "set_epoch"):
                    train.set_epoch(epoch)
                guard.start(epoch, history)
                step.model.train()
                calls.on_epoch_begin(epoch, len(train) if hasattr(train, "__len__") else None)
                stopped = run_epoch(step, train, epoch, sums, guard, calls, stop, metric,
                                    partial.get("step", 0))
                if stopped is not None:
                    calls.on_interrupt(history, {
                        "epoch": epoch, "step": stopped, "seconds": time.perf_counter() - start,
                        "sums": sums.state_dict(), "guard": guard.state_dict()})
                    raise KeyboardInterrupt
                guard.flush()
                history.append(_record(epoch, sums, step, test, metric, start))
                calls.on_epoch_end(history)
                if stop.requested:  # a signal after the epoch's last step: its end is saved
                    raise KeyboardInterrupt
    finally:
        calls.on_fit_end(history)
    return history


def _record(epoch: int, sums: Sums, step, test, metric, start: float) -> dict:
    """The epoch's record: its training means, then the model measured on ``test``."""
    train_loss, train_acc = sums.means()
    test_loss, test_acc = (evaluate(step.model, step.loss_fn, test, metric)
                           if test is not None else (None, None))
    return {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
            "test_loss": test_loss, "test_acc": test_acc,
            "seconds": time.perf_counter() - start}
