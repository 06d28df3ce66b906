"""TensorBoard event files for a run: the callback behind ``shallowlab run NAME --tensorboard``.

An optional extra: ``pip install 'shallowlab[tensorboard]'``. Open the result with
``tensorboard --logdir RUN_DIR/tensorboard``. What it writes (``x`` is the horizontal axis):

    train/batch_loss        each step's mean loss            x: training examples seen
    train/lr                the learning rate at each step   x: training examples seen
    epoch/<key>             train_loss, train_acc, test_loss, test_acc, seconds   x: epoch
    weights/<name>/norm     ||W||_2 of each parameter, and its histogram          x: epoch
    grads/<name>/norm       ||dL/dW||_2 on a fixed probe batch, and its histogram x: epoch
    hparams                 the run's settings, with its final and best metrics

The gradients are the mean loss's on the same probe batch at every epoch's end, taken by
autograd whatever engine trains (the fused step keeps no ``.grad``), in eval mode (no dropout,
so no random number is drawn), and the model's ``.grad`` are left as they were: the run
trains exactly as it would without the logger. Step losses are kept as the loop hands them and
written at the epoch's end, so an accelerator is read once an epoch.
"""

from __future__ import annotations

import os

import torch

from shallowlab.core.callbacks import Callback
from shallowlab.core.state import State
from shallowlab.errors import ConfigError

INSTALL = "pip install 'shallowlab[tensorboard]'"
EPOCH_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc", "seconds")


def available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    """ConfigError saying how to install TensorBoard when it is missing."""
    if not available():
        raise ConfigError(f"--tensorboard needs the tensorboard package, which is not "
                          f"installed; install it with {INSTALL}, or run without --tensorboard")


def named_parameters(model) -> list[tuple[str, torch.Tensor]]:
    """``(name, parameter)`` of a ``torch.nn`` model or of a scratch one (whose
    ``state_dict`` holds the parameters themselves)."""
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    return list(model.state_dict().items())


class TensorBoardLogger(Callback):
    """Writes the run's event files into ``logdir`` (see the module docstring).

    Args:
        model, loss_fn: what is trained, and its per-example loss.
        probe: a fixed ``(X, y)`` batch for the gradients.
        optimizer: its first group's learning rate is logged per step; None logs
            ``hparams["lr"]`` (a from-scratch updater's fixed rate) per epoch, if given.
        hparams: the run's settings, written with the final metrics at the end.
    """

    def __init__(self, logdir: str | os.PathLike, model, loss_fn,
                 probe: tuple[torch.Tensor, torch.Tensor], optimizer=None,
                 hparams: dict | None = None) -> None:
        require()
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(logdir))
        self.model, self.loss_fn, self.probe, self.optimizer = model, loss_fn, probe, optimizer
        self.hparams = dict(hparams or {})
        self.batches: list[tuple[int, object, float | None]] = []  # (examples, loss, lr)

    def on_epoch_begin(self, state: State) -> None:
        self.batches = []

    def on_batch_end(self, state: State) -> None:
        lr = self.optimizer.param_groups[0]["lr"] if self.optimizer is not None else None
        self.batches.append((state.sums.n, state.loss, lr))

    def on_epoch_end(self, state: State) -> None:
        record, w = state.history[-1], self.writer
        epoch = record["epoch"]
        if self.batches:
            per_epoch = self.batches[-1][0]  # the examples of a whole epoch
            losses = [v for _, v, _ in self.batches]
            if torch.is_tensor(losses[0]):  # on an accelerator: one read for the epoch
                losses = torch.stack(losses).tolist()
            for (n, _, lr), loss in zip(self.batches, losses):
                seen = (epoch - 1) * per_epoch + n
                w.add_scalar("train/batch_loss", loss, seen)
                if lr is not None:
                    w.add_scalar("train/lr", lr, seen)
        if self.optimizer is None and "lr" in self.hparams:
            w.add_scalar("epoch/lr", self.hparams["lr"], epoch)
        for key in EPOCH_KEYS:
            if record[key] is not None:
                w.add_scalar(f"epoch/{key}", record[key], epoch)
        self._parameters(epoch)
        w.flush()

    def _parameters(self, epoch: int) -> None:
        """Each parameter's norm and histogram, and its gradient's on the probe batch."""
        params = named_parameters(self.model)
        saved = [p.grad for _, p in params]
        was_training = self.model.training
        self.model.eval()
        try:
            for _, p in params:
                p.grad = None
            X, y = self.probe
            with torch.enable_grad():
                self.loss_fn(self.model(X), y).mean().backward()
            for name, p in params:
                self.writer.add_scalar(f"weights/{name}/norm", p.detach().norm().item(), epoch)
                self.writer.add_histogram(f"weights/{name}", p.detach().cpu(), epoch)
                if p.grad is not None:
                    self.writer.add_scalar(f"grads/{name}/norm", p.grad.norm().item(), epoch)
                    self.writer.add_histogram(f"grads/{name}", p.grad.cpu(), epoch)
        finally:
            for (_, p), grad in zip(params, saved):
                p.grad = grad
            self.model.train(was_training)

    def on_fit_end(self, state: State) -> None:
        if state.history:
            self._hparams(state.history)
        self.writer.close()

    def _hparams(self, history: list[dict]) -> None:
        from torch.utils.tensorboard.summary import hparams

        settings = {k: v if isinstance(v, (int, float, str, bool)) else str(v)
                    for k, v in self.hparams.items()}
        last = history[-1]
        metrics = {f"final/{k}": last[k] for k in EPOCH_KEYS[:4] if last[k] is not None}
        tested = [r["test_acc"] for r in history if r["test_acc"] is not None]
        if tested:
            metrics["best/test_acc"] = max(tested)
        for summary in hparams(settings, metrics):
            self.writer.file_writer.add_summary(summary)
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, last["epoch"])
