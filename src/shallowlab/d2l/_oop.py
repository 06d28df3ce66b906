"""The English edition's framework (d2l 1.0, section 3.2): ``Module``, ``DataModule``, ``Trainer``.

The book's classes with the book's signatures and hooks: ``Trainer.fit`` prepares the data and
the model, asks the model for its optimizer, then runs ``fit_epoch`` ``max_epochs`` times; an
epoch calls ``model.training_step`` on every training batch and ``model.validation_step`` on
every validation batch, and the model plots through its :class:`ProgressBoard` at the book's
cadence (``plot_train_per_epoch`` points per epoch for training, ``plot_valid_per_epoch`` for
validation). What differs is underneath:

* the values plotted stay tensors until a point is drawn, so a batch costs no host read;
* where the model is the book's kind of classifier (``net`` an ``nn.Sequential`` of ``Flatten``,
  ``Linear`` and ``ReLU``, a ``forward`` that computes ``net(X)`` and a ``loss`` that computes
  the mean cross-entropy, the book's ``training_step``, plain SGD, no clipping), a training
  batch is :class:`shallowlab.core.fused.FusedStep`: the same arithmetic as autograd's, written
  out, with the same loss handed to ``plot``;
* bad use (no ``loss``, no ``lr`` for the default optimizer, ``max_epochs=0``, a data module
  with no ``get_dataloader``) says what to write, in one line.
"""

from __future__ import annotations

import sys

import torch
from torch import nn

from shallowlab.core.fused import FusedStep, unsupported
from shallowlab.d2l import _devices
from shallowlab.d2l._data import load_array
from shallowlab.d2l._figures import FIGURES, ProgressBoard
from shallowlab.d2l._hyper import HyperParameters


class Module(nn.Module, HyperParameters):
    """The base of the book's models: ``forward``, ``loss``, the optimizer, and what to plot.

    ``training_step(batch)`` returns the loss of one batch (and plots it);
    ``validation_step(batch)`` plots the validation loss. A subclass defines ``loss`` and either
    ``forward`` or ``self.net``; the default optimizer is ``torch.optim.SGD(parameters, lr)``.
    """

    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat, y):
        raise NotImplementedError(
            f"{type(self).__name__} has no loss: define loss(self, y_hat, y), returning the "
            "batch's mean loss, as the book's LinearRegressionScratch does")

    def forward(self, X):
        net = getattr(self, "net", None)
        if net is None:
            raise NotImplementedError(
                f"{type(self).__name__} has neither forward nor net: define forward(self, X), "
                "or set self.net in __init__")
        return net(X)

    def plot(self, key, value, train):
        """Draw ``value`` as point of the curve ``train_<key>`` or ``val_<key>``, averaged
        over the batches of half an epoch (training) or of a whole one (validation)."""
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            raise RuntimeError(f"{type(self).__name__}.plot is for training: call it inside "
                               "trainer.fit(model, data), which sets model.trainer")
        self.board.xlabel = "epoch"
        if train:
            x = trainer.train_batch_idx / trainer.num_train_batches
            n = trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = trainer.epoch + 1
            n = trainer.num_val_batches / self.plot_valid_per_epoch
        if torch.is_tensor(value):
            value = value.detach()  # read once per drawn point, not once per batch
        self.board.draw(x, value, ("train_" if train else "val_") + key, every_n=int(n))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=False)

    def configure_optimizers(self):
        """``torch.optim.SGD(self.parameters(), lr=self.lr)`` (the book's section 4.3)."""
        lr = getattr(self, "lr", None)
        if lr is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no lr for the default optimizer: take lr in "
                "__init__ and call self.save_hyperparameters(), or define "
                "configure_optimizers(self)")
        return torch.optim.SGD(self.parameters(), lr=lr)

    def apply_init(self, inputs, init=None):
        """Run ``inputs`` through the model once (creating lazy layers' parameters), then
        apply ``init`` to every submodule of ``self.net``."""
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class DataModule(HyperParameters):
    """The base of the book's data: ``train_dataloader()`` and ``val_dataloader()`` are
    ``get_dataloader(train=True)`` and ``get_dataloader(train=False)``, which a subclass
    defines."""

    def __init__(self, root="../data", num_workers=4):
        self.save_hyperparameters()

    def get_dataloader(self, train):
        raise NotImplementedError(
            f"{type(self).__name__} has no get_dataloader: define get_dataloader(self, train), "
            "returning e.g. self.get_tensorloader((self.X, self.y), train, indices)")

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        """Minibatches of ``self.batch_size`` rows of ``tensors[i][indices]``, as ``[X, y]``,
        in a new random order each pass when ``train``."""
        return load_array([a[indices] for a in tensors], self.batch_size, is_train=train)


_told_about_gpus = False


class Trainer(HyperParameters):
    """Trains a :class:`Module` on a :class:`DataModule`: ``Trainer(max_epochs).fit(model, data)``.

    ``num_gpus`` GPUs are used where there are that many (the model and each batch go to the
    first); with fewer, the ones there are, and on a machine with none the CPU, said once.
    ``gradient_clip_val > 0`` rescales the gradients to that norm when it is larger.
    """

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        global _told_about_gpus
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(f"d2l.Trainer: max_epochs is {max_epochs!r}; it is the number of "
                             "passes over the training data, a whole number of at least 1")
        self.save_hyperparameters()
        available = _devices.num_gpus()
        self.gpus = [_devices.gpu(i) for i in range(min(num_gpus, available))]
        if num_gpus > available and not _told_about_gpus:
            _told_about_gpus = True
            where = f"on {available} GPU(s)" if available else "on the CPU"
            print(f"d2l.Trainer: num_gpus={num_gpus} asked for, this machine has {available}; "
                  f"training {where}", file=sys.stderr)

    def prepare_data(self, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = _batches(self.train_dataloader, data, "train")
        self.num_val_batches = (_batches(self.val_dataloader, data, "val")
                                if self.val_dataloader is not None else 0)

    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def fit(self, model, data):
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.train_batch_idx = self.val_batch_idx = 0
        for epoch in range(self.max_epochs):
            self.epoch = epoch
            self.fit_epoch()
        board = getattr(model, "board", None)
        if board is not None and board.fig is not None and board.fig.stale:
            FIGURES.save(board.fig, "board")  # the final state, if not written yet

    def fit_epoch(self):
        """One pass of training batches, then one of validation batches (if any)."""
        self.model.train()
        fused = None  # decided at the first batch whose parameters all exist (lazy layers)
        for batch in self.train_dataloader:
            batch = self.prepare_batch(batch)
            if fused is None and not _has_lazy(self.model):
                fused = self._fused_step(batch) or False
            if fused:
                _, l = fused.forward(*batch)
                self.model.plot("loss", l.mean(), train=True)
                fused.update()
            else:
                loss = self.model.training_step(batch)
                self.optim.zero_grad()
                with torch.no_grad():
                    loss.backward()
                    if self.gradient_clip_val > 0:
                        self.clip_gradients(self.gradient_clip_val, self.model)
                    self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    def _fused_step(self, batch) -> FusedStep | None:
        """The fused step where it computes what the book's step would, else None.

        It applies when ``model.net`` is a ``Flatten``/``Linear``/``ReLU`` stack trained by
        plain SGD, ``training_step`` is the book's, nothing is clipped, and on ``batch``
        ``model(X)`` is ``model.net(X)`` and ``model.loss`` the mean cross-entropy: checked,
        not assumed from the class, so a section's own ``forward`` or ``loss`` that computes
        the same (4.5's) trains fused too, and one that differs (a penalty, label smoothing)
        trains through autograd.
        """
        model, loss_fn = self.model, nn.CrossEntropyLoss(reduction="none")
        net = getattr(model, "net", None)
        if (self.gradient_clip_val or type(model).training_step is not Module.training_step
                or not isinstance(net, nn.Sequential)
                or unsupported(net, loss_fn, self.optim) is not None
                or not _computes_net_and_cross_entropy(model, loss_fn, *batch)):
            return None
        self.optim.zero_grad()  # the first batch's gradients: the fused step keeps none
        return FusedStep(net, loss_fn, self.optim)

    def prepare_batch(self, batch):
        if self.gpus:
            batch = [a.to(self.gpus[0]) for a in batch]
        return batch

    def clip_gradients(self, grad_clip_val, model):
        """Scale every gradient by ``grad_clip_val / norm`` when their joint norm is larger."""
        params = [p for p in model.parameters() if p.requires_grad and p.grad is not None]
        norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
        if norm > grad_clip_val:
            for param in params:
                param.grad[:] *= grad_clip_val / norm


def _computes_net_and_cross_entropy(model, loss_fn, X, y) -> bool:
    """Whether ``model(X) == model.net(X)`` and ``model.loss`` is ``loss_fn``'s mean, on this
    batch, without a graph and without moving the random generator."""
    if y.is_floating_point() or y.dim() != 1:
        return False  # not class labels: the model is no classifier
    devices = [X.device.index or 0] if X.device.type == "cuda" else []
    with torch.no_grad(), torch.random.fork_rng(devices):
        out = model(X)
        if not torch.equal(out, model.net(X)):
            return False
        l = model.loss(out, y)
        return torch.is_tensor(l) and l.dim() == 0 \
            and torch.allclose(l, loss_fn(out, y).mean(), rtol=1e-5, atol=1e-7)


def _has_lazy(model) -> bool:
    return any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())


def _batches(loader, data, split: str) -> int:
    """``len(loader)``, or a one-line error saying what the Trainer needs instead."""
    try:
        return len(loader)
    except TypeError:
        raise TypeError(
            f"d2l.Trainer: {type(data).__name__}.{split}_dataloader() returned a "
            f"{type(loader).__name__}, which has no len(); the Trainer counts the batches of an "
            "epoch: return self.get_tensorloader(...) from get_dataloader, as section 3.3 "
            "does") from None
