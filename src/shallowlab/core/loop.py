"""``fit`` and ``evaluate``: a training loop that knows nothing about the model it trains.

The loop drives a :class:`Step` (``forward(X, y)``, then ``update()``; the ones there are live
in :mod:`shallowlab.core.steps`) over the batches; around it, one part per job: :class:`Sums`
keeps the epoch's running loss and accuracy, :class:`DivergenceGuard` stops a run whose loss
blows up, and callbacks (:mod:`shallowlab.core.callbacks`) show progress, save checkpoints and
set schedules. The history
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
from typing import Any, Protocol

import torch

from shallowlab.core.callbacks import Callback, CallbackList, Progress
from shallowlab.core.devices import reads_are_free
from shallowlab.core.metrics import correct
from shallowlab.core.state import Interrupted, ResumePoint, State
from shallowlab.errors import DivergedError
from shallowlab.term import Log, is_tty, silent

BLOWUP = 1e4  # a batch loss this many times the run's early loss means it has diverged
CHECK_EVERY = 32  # batches between divergence checks on an accelerator
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")
Batch = tuple[torch.Tensor, torch.Tensor]
Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Step(Protocol):
    """What :func:`fit` needs of a step: how one batch is computed.

    ``forward(X, y)`` returns the model's output and one loss per example; ``update()`` then
    back-propagates and changes the parameters. Between the two the loop looks at the loss
    and can stop before anything changes. ``model`` is what is trained and evaluated,
    ``loss_fn`` its per-example loss, ``device`` where it computes.
    """

    model: Any  # what forward trains: a module, or anything with train() and eval()
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    device: torch.device
    engine: str

    def forward(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ...

    def update(self) -> None:
        ...


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
    flag gathers on the device and is read every ``CHECK_EVERY`` batches and by :meth:`flush`.
    """

    def __init__(self, on_host: bool) -> None:
        self.on_host, self.first = on_host, None  # the run's first batch loss
        self.epoch = self.batch = 0
        self.early = self.last = self.bad = None

    def start(self, epoch: int, history: list[dict]) -> None:
        self.epoch, self.step, self.last, self.bad = epoch, 0, None, None
        self.early = abs(history[0]["train_loss"]) if history else self.first

    def check(self, batch: int, mean) -> None:
        """``mean``: the batch's mean loss, a number on the host, else a 0-d tensor."""
        self.batch = batch
        if self.early is None:
            self.early = self.first = abs(float(mean))
        limit = BLOWUP * self.early + 1e-12
        if self.on_host:
            if not (math.isfinite(mean) and abs(mean) <= limit):
                raise DivergedError(self.epoch, batch, mean, self.early, self.last)
        else:
            bad = ~(torch.isfinite(mean) & (mean.abs() <= limit))
            self.bad = bad if self.bad is None else self.bad | bad
            if batch % CHECK_EVERY == 0:
                self.flush(mean)
        self.last = mean

    def flush(self, mean=None) -> None:
        """Raise if the device's flag says a step since the last read diverged; ``mean`` is
        the loss of the batch being checked, if it is not yet ``last``."""
        if self.bad is not None and self.bad:
            loss, before = (self.last, None) if mean is None else (mean, self.last)
            raise DivergedError(self.epoch, self.batch, float(loss), self.early,
                                None if before is None else float(before))

    def state_dict(self) -> dict:
        return {"first": self.first}

    def load_state_dict(self, state: dict) -> None:
        self.first = state["first"]


class _Stop:
    """What the signal handler tells the loop: the signal that asked it to stop, if any."""

    signum: int | None = None


@contextlib.contextmanager
def deferred_signals(enabled: bool):
    """While active (and ``enabled``, in the main thread), SIGINT and SIGTERM only set
    ``signum``; a second one raises :class:`Interrupted` at once. The previous handlers are
    back on exit."""
    stop = _Stop()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.signum is not None:
            raise Interrupted(signum)
        stop.signum = signum

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Loop:
    """One :func:`fit`'s moving parts: the step, the data, the metric, the callbacks, the
    divergence guard and the signal flag, with the :class:`State` the callbacks see."""

    def __init__(self, step: Step, train: Iterable[Batch], test: Iterable[Batch] | None,
                 metric: Metric | None, callbacks: CallbackList, stop: _Stop,
                 state: State) -> None:
        self.step, self.train, self.test, self.metric = step, train, test, metric
        self.callbacks, self.stop, self.state = callbacks, stop, state
        self.on_host = reads_are_free(step.device)
        self.guard = DivergenceGuard(self.on_host)

    def run_epoch(self, epoch: int, resume: ResumePoint | None = None) -> None:
        """Train epoch ``epoch`` (after ``resume.batches_done`` batches of it, from its sums)
        and append its record; :class:`Interrupted` when a signal asks the run to stop."""
        state, train = self.state, self.train
        start = time.perf_counter() - (resume.seconds if resume else 0.0)
        sums = Sums(self.on_host, self.metric is not None)
        if resume:
            sums.load_state_dict(resume.sums)
        if hasattr(train, "set_epoch"):
            train.set_epoch(epoch)
        self.guard.start(epoch, state.history)
        self.step.model.train()
        state.epoch, state.sums = epoch, sums
        state.batches = len(train) if hasattr(train, "__len__") else None
        self.callbacks.on_epoch_begin(state)
        if not self.batches(resume.batches_done if resume else 0):
            state.stopped = ResumePoint(epoch, state.batch, time.perf_counter() - start,
                                        sums.state_dict(), self.guard.state_dict())
            self.callbacks.on_interrupt(state)
            raise Interrupted(self.stop.signum)
        self.guard.flush()
        state.history.append(_record(epoch, sums, self.step, self.test, self.metric, start))
        self.callbacks.on_epoch_end(state)
        if self.stop.signum is not None:  # a signal after the epoch's last batch: it is saved
            raise Interrupted(self.stop.signum)

    def batches(self, done: int) -> bool:
        """Train the epoch's batches after its first ``done``, adding to the sums: True at
        the pass's end, False when a signal asked to stop (at ``state.batch``)."""
        state, step = self.state, self.step
        for state.batch, (X, y) in enumerate(itertools.islice(self.train, done, None), done + 1):
            self.callbacks.on_batch_begin(state)
            out, loss = step.forward(X, y)
            if loss.numel() != len(y):
                raise ValueError(f"loss_fn must return one loss per example ({len(y)}), "
                                 f"got shape {tuple(loss.shape)}; use reduction='none'")
            batch_loss = state.sums.read(loss.detach().sum())
            state.loss = batch_loss / len(y)
            self.guard.check(state.batch, state.loss)
            step.update()
            with torch.no_grad():
                hits = self.metric(out, y) if self.metric is not None else None
                state.sums.add(batch_loss, hits, len(y))
            self.callbacks.on_batch_end(state)
            if self.stop.signum is not None:
                self.guard.flush()
                return False
        return True


@torch.inference_mode()
def evaluate(model, loss_fn, batches: Iterable[Batch], metric: Metric | None = correct,
             forward: Callable[[torch.Tensor], torch.Tensor] | None = None
             ) -> tuple[float, float | None]:
    """Mean loss and accuracy (None without ``metric``) of ``model`` over ``batches``.

    ``loss_fn`` returns one loss per example; the means are over examples, not batches.
    ``forward`` computes the outputs where it is not ``model(X)`` (a step's ``predict``).
    """
    was_training = model.training
    model.eval()
    loss_sum = hits = 0
    n = 0
    for X, y in batches:
        out = model(X) if forward is None else forward(X)
        loss_sum = loss_sum + loss_fn(out, y).sum()
        if metric is not None:
            hits = hits + metric(out, y)
        n += len(y)
    model.train(was_training)
    if n == 0:
        raise ValueError("evaluate() got no batches")
    return loss_sum.item() / n, (hits.item() / n if metric is not None else None)


def fit(step: Step, train: Iterable[Batch], *, epochs: int,
        test: Iterable[Batch] | None = None, metric: Metric | None = correct,
        history: list[dict] | None = None, callbacks: Sequence[Callback] = (),
        progress: bool | None = None, log: Log = print,
        resume: ResumePoint | None = None) -> list[dict]:
    """Train ``step.model`` for ``epochs`` passes over ``train`` by ``step``; the history.

    ``step`` comes from :func:`shallowlab.core.steps.make_step` (or is any :class:`Step`); its
    ``loss_fn`` returns one loss per example. ``train_loss`` and ``train_acc`` are means over
    the epoch's examples as they were trained (the book's convention); ``test_loss`` and
    ``test_acc`` are measured on ``test`` after the epoch. An accuracy is None without
    ``metric`` (regression), a test metric without ``test``. A diverging loss stops the run
    (:class:`DivergenceGuard`); a signal, where some callback has ``on_interrupt``, stops it
    after the batch under way with :class:`shallowlab.core.state.Interrupted`.

    Args:
        train: re-iterable batches; ``train.set_epoch(epoch)`` is called before each pass
            where it exists (a batch-size plan, see :class:`shallowlab.data.batches.Batches`).
        metric: the number of correct predictions in a batch, as a tensor; None for none.
        history: records of epochs already trained; training continues after the last one.
        callbacks: :class:`shallowlab.core.callbacks.Callback` s, called in order after
            progress.
        progress: a bar for the run when True, a line per epoch through ``log`` when False;
            None: the bar on a terminal (stderr) unless ``log`` is ``term.silent``.
        resume: where an interrupt stopped (``state.stopped`` in ``on_interrupt``): its epoch
            continues from there (``train`` must yield the same order again).
    """
    state = State(epochs, list(history or []))
    bar = log is not silent and is_tty(sys.stderr) if progress is None else progress
    calls = CallbackList([Progress(bar, log), *callbacks])
    try:
        with deferred_signals(calls.interruptible) as stop:
            loop = Loop(step, train, test, metric, calls, stop, state)
            if resume is not None:
                loop.guard.load_state_dict(resume.guard)
            for epoch in range(len(state.history) + 1, epochs + 1):
                loop.run_epoch(epoch, resume if resume and resume.epoch == epoch else None)
    finally:
        calls.on_fit_end(state)
    return state.history


def _record(epoch: int, sums: Sums, step, test, metric, start: float) -> dict:
    """The epoch's record: its training means, then the model measured on ``test``."""
    train_loss, train_acc = sums.means()
    test_loss, test_acc = (evaluate(step.model, step.loss_fn, test, metric,
                                    getattr(step, "predict", None))  # in the step's precision
                           if test is not None else (None, None))
    return {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
            "test_loss": test_loss, "test_acc": test_acc,
            "seconds": time.perf_counter() - start}
