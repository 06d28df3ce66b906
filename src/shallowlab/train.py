"""``fit`` and ``evaluate``: a training loop that knows nothing about the model it trains.

The history of a fit is a plain list of per-epoch records, each a dict with the keys of
:data:`HISTORY_KEYS`, ready for ``json.dump``. Metrics are summed on the tensor side and read
once per epoch (on a terminal, also at most twice a second for the progress bar), so the loop
never waits on the host between batches.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

from shallowlab import fused
from shallowlab.errors import DivergedError
from shallowlab.metrics import correct

BLOWUP = 1e4  # a batch loss this many times the run's early loss means it has diverged
CHECK_EVERY = 32  # steps between divergence checks on an accelerator
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")
Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Updater = torch.optim.Optimizer | Callable[[int], None]
Model = nn.Module  # or anything callable with parameters(), train() and eval(), as scratch's
ENGINES = ("auto", "autograd", "fused", "compiled")


class AutogradStep:
    """The book's training step (d2l ``train_epoch_ch3``), in the two halves ``fit`` drives.

    ``forward(X, y)`` returns the model's output and the per-example losses, graph attached;
    ``update()`` back-propagates and changes the parameters. With a ``torch.optim.Optimizer``
    that is ``zero_grad(); l.mean().backward(); step()``; any other updater is the
    from-scratch kind, called as ``updater(batch_size)`` after ``l.sum().backward()``.
    """

    def __init__(self, model: Model, loss_fn: LossFn, updater: Updater) -> None:
        self.model, self.loss_fn, self.updater = model, loss_fn, updater
        self._loss, self._batch_size = None, 0

    def forward(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(X)
        self._loss, self._batch_size = self.loss_fn(out, y), len(y)
        return out, self._loss

    def update(self) -> None:
        loss, self._loss = self._loss, None
        if isinstance(self.updater, torch.optim.Optimizer):
            self.updater.zero_grad(set_to_none=True)
            loss.mean().backward()
            self.updater.step()
        else:
            loss.sum().backward()
            self.updater(self._batch_size)


def resolve_engine(model: Model, loss_fn: LossFn, updater: Updater,
                   engine: str = "auto") -> tuple[str, str | None]:
    """The engine ``engine`` comes to for this model, and why the fused step does not apply
    when ``auto`` falls back to ``autograd`` (else None).

    ``auto`` takes the fused step wherever it applies (an MLP or softmax regression with
    cross-entropy and SGD; see :func:`shallowlab.fused.unsupported`), autograd elsewhere;
    ``fused`` insists on it (``ValueError`` with the reason when it does not apply).
    ``compiled`` is autograd through ``torch.compile(model)``, with CUDA graphs
    (``mode="reduce-overhead"``) on a GPU: it costs seconds to compile, then pays where
    launching many small kernels is the bottleneck. On a small CPU it has not paid here.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")
    if engine not in ("auto", "fused"):
        return engine, None
    reason = fused.unsupported(model, loss_fn, updater)
    if reason is None:
        return "fused", None
    if engine == "fused":
        raise ValueError(f"the fused step cannot train this: {reason}")
    return "autograd", reason


def training_step(model: Model, loss_fn: LossFn, updater: Updater, engine: str = "auto"):
    """The step ``fit`` uses for ``engine`` (see :func:`resolve_engine`):
    :class:`shallowlab.fused.FusedStep` or :class:`AutogradStep`."""
    engine, _ = resolve_engine(model, loss_fn, updater, engine)
    if engine == "fused":
        return fused.FusedStep(model, loss_fn, updater)
    if engine == "compiled":
        on_gpu = any(p.device.type == "cuda" for p in model.parameters())
        model = torch.compile(model, mode="reduce-overhead" if on_gpu else None)
    return AutogradStep(model, loss_fn, updater)


@torch.inference_mode()
def evaluate(model: Model, loss_fn: LossFn, batches: Iterable[Batch],
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


def _bar(total: int, desc: str):
    from tqdm import tqdm  # only on a terminal

    return tqdm(total=total, desc=desc, leave=True, dynamic_ncols=True, file=sys.stderr)


def fit(
    model: Model,
    loss_fn: LossFn,
    updater: Updater,
    train: Iterable[Batch],
    *,
    epochs: int,
    test: Iterable[Batch] | None = None,
    metric: Metric | None = correct,
    history: list[dict] | None = None,
    on_epoch_end: Callable[[list[dict]], None] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
    engine: str = "auto",
    on_interrupt: Callable[[list[dict], dict], None] | None = None,
    resume: dict | None = None,
) -> list[dict]:
    """Train ``model`` for ``epochs`` passes over ``train``; returns the history.

    The book's contract (d2l ``train_epoch_ch3``): ``loss_fn`` returns one loss per example.
    With a ``torch.optim.Optimizer``, a step is ``zero_grad(); l.mean().backward(); step()``;
    any other ``updater`` is the from-scratch kind, called as ``updater(batch_size)`` after
    ``l.sum().backward()`` (for example ``lambda n: scratch.sgd(params, lr, n)``), and clears
    the gradients itself. ``engine`` picks how a step is computed (:func:`training_step`): by
    default an MLP with cross-entropy and SGD takes the hand-fused step of
    :mod:`shallowlab.fused`, the same arithmetic in far fewer operations.

    A batch whose mean loss is not finite, or exceeds ``BLOWUP`` times the run's early loss (in
    the first epoch its first batch's, after it the first epoch's mean), stops the run with
    :class:`DivergedError` before it updates anything. On the CPU that is checked at every step
    (a read costs nothing there); on an accelerator every ``CHECK_EVERY`` steps, so the host
    does not wait on the device at each one.

    ``train_loss`` and ``train_acc`` are means over the epoch's examples as they were trained
    (the book's convention); ``test_loss`` and ``test_acc`` are measured on ``test`` after the
    epoch. An accuracy is None without ``metric`` (regression), a test metric without ``test``.

    Args:
        metric: the number of correct predictions in a batch, as a tensor; None for none.
        history: records of epochs already trained; training continues after the last one.
        on_epoch_end: called with the history after each epoch (to save, plot, checkpoint).
        progress: a tqdm bar per epoch when True, one plain line per epoch when False;
            None picks the bar when stderr is a terminal.
        on_interrupt: given, a Ctrl-C or SIGTERM during training (in the main thread) lets
            the step under way finish, then calls ``on_interrupt(history, partial)`` and raises
            ``KeyboardInterrupt``; a second signal stops at once. ``partial`` is where the
            epoch stood: ``epoch``, ``step`` (steps done), ``loss_sum``, ``hits``, ``n``,
            ``seconds`` and ``first`` (the first batch's loss), enough to save a checkpoint
            and continue there.
        resume: such a ``partial``: its epoch continues after its first ``step`` batches
            (``train`` must yield the same order again), from its sums.
    """
    history = list(history or [])
    first = resume.get("first") if resume else None  # the run's first batch loss
    step_ = training_step(model, loss_fn, updater, engine)
    bar = sys.stderr.isatty() if progress is None else progress
    with _deferred_signals(on_interrupt is not None) as stop:
        for epoch in range(len(history) + 1, epochs + 1):
            start = time.perf_counter()
            model.train()
            loss_sum = hits = n = done = 0
            if resume is not None and resume["epoch"] == epoch:  # continue inside this epoch
                done, n = resume["step"], resume["n"]
                loss_sum, hits = resume["loss_sum"], resume["hits"]
                start -= resume["seconds"]
            pbar = _bar(len(train) if hasattr(train, "__len__") else None,
                        f"epoch {epoch}/{epochs}") if bar else None
            if pbar is not None and done:
                pbar.update(done)
            shown = start
            last = bad = None
            # BLOWUP's yardstick: a function of the history, so a resumed run has the same one
            early = abs(history[0]["train_loss"]) if history else first
            for step, (X, y) in enumerate(itertools.islice(train, done, None), done + 1):
                out, loss = step_.forward(X, y)
                if loss.numel() != len(y):
                    raise ValueError(f"loss_fn must return one loss per example ({len(y)}), "
                                     f"got shape {tuple(loss.shape)}; use reduction='none'")
                batch_loss = loss.detach().sum()
                free = reads_are_free(X.device)
                if free:  # sum on the host, check now
                    batch_loss = batch_loss.item()
                    mean = batch_loss / len(y)
                    if early is None:
                        early = first = abs(mean)
                    if not (math.isfinite(mean) and abs(mean) <= BLOWUP * early + 1e-12):
                        raise DivergedError(epoch, step, mean, early, last)
                else:  # on an accelerator: a flag on the device, read every CHECK_EVERY steps
                    mean = batch_loss / len(y)
                    if early is None:
                        early = first = mean.abs().item()
                    ok = torch.isfinite(mean) & (mean.abs() <= BLOWUP * early + 1e-12)
                    bad = ~ok if bad is None else bad | ~ok
                    if step % CHECK_EVERY == 0 and bad:
                        raise DivergedError(epoch, step, mean.item(), early,
                                            last.item() if last is not None else None)
                last = mean
                step_.update()
                loss_sum = loss_sum + batch_loss  # a tensor off the CPU: no host sync
                if metric is not None:
                    with torch.no_grad():
                        hit = metric(out, y)
                    hits = hits + (hit.item() if free else hit)
                n += len(y)
                if stop.requested:  # a signal: save where the epoch stands, then stop
                    if bad is not None and bad:
                        raise DivergedError(epoch, step, last.item(), early, None)
                    on_interrupt(history, {"epoch": epoch, "step": step, "loss_sum": loss_sum,
                                           "hits": hits, "n": n, "first": first,
                                           "seconds": time.perf_counter() - start})
                    raise KeyboardInterrupt
                if pbar is not None:
                    pbar.update()
                    if time.perf_counter() - shown > 0.5:  # a host read, twice a second at most
                        shown = time.perf_counter()
                        shown_acc = {"acc": f"{float(hits) / n:.3f}"} if metric is not None \
                            else {}
                        pbar.set_postfix(loss=f"{float(loss_sum) / n:.4g}", **shown_acc,
                                         refresh=False)
            if n == 0:
                raise ValueError("fit() got an empty training set")
            if bad is not None and bad:  # an accelerator's last steps, not yet checked
                raise DivergedError(epoch, step, last.item(), early, None)
            record = {"epoch": epoch, "train_loss": float(loss_sum) / n,
                      "train_acc": float(hits) / n if metric is not None else None,
                      "test_loss": None, "test_acc": None}
            if test is not None:
                record["test_loss"], record["test_acc"] = evaluate(model, loss_fn, test, metric)
            record["seconds"] = time.perf_counter() - start
            history.append(record)
            line = format_record(record, epochs)
            if pbar is not None:
                pbar.set_postfix_str(line.split("  ", 1)[1], refresh=True)
                pbar.close()
            else:
                log(line)
            if on_epoch_end is not None:
                on_epoch_end(history)
            if stop.requested:  # a signal after the epoch's last step: its end is saved
                raise KeyboardInterrupt
    return history


class _Stop:
    requested = False


@contextlib.contextmanager
def _deferred_signals(enabled: bool):
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


def reads_are_free(device: torch.device) -> bool:
    """Whether reading a value on the host costs nothing: on the CPU there is no queue to
    drain, and a Python number adds faster than a tensor. Elsewhere a read waits for the
    device, so ``fit`` keeps its sums and its divergence flag on the device."""
    return device.type == "cpu"


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; any other name is taken as given."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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
