"""The English edition's sections 4.4 and 5.2, written once for either d2l, and one timed fit.

Each section is the book's code as a function of the ``d2l`` it imports, so the two sides of
``benchmarks.book_layer`` run the very same model code: ``shallowlab.d2l`` (``layer``) or the
replica of the book's own d2l 1.0 (``book``, :mod:`benchmarks.book_en`). A fit is the book's::

    data = d2l.FashionMNIST(batch_size=256)
    model = ...                       # the section's model, lr 0.1
    trainer = d2l.Trainer(max_epochs=epochs)
    trainer.fit(model, data)

after ``torch.manual_seed(SEED)``, each epoch timed apart from the one-off start-up.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass

import torch
from torch import nn

from benchmarks import book_en
from benchmarks.common import BATCH, LR, SEED
from shallowlab import d2l as layer_d2l

SIDES = {"layer": layer_d2l, "book": book_en}


def softmax_regression_scratch(d2l):
    """Section 4.4: softmax regression from scratch, W ~ N(0, 0.01^2) (784, 10), b = 0.

    ``softmax(O)_ij = exp(O_ij) / sum_k exp(O_ik)``; the loss is ``-mean_i log y_hat[i, y_i]``.
    """
    def softmax(X):
        X_exp = torch.exp(X)
        return X_exp / X_exp.sum(1, keepdims=True)  # (B, 10) / (B, 1), broadcast

    class SoftmaxRegressionScratch(d2l.Classifier):
        def __init__(self, num_inputs, num_outputs, lr, sigma=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.W = torch.normal(0, sigma, size=(num_inputs, num_outputs), requires_grad=True)
            self.b = torch.zeros(num_outputs, requires_grad=True)

        def parameters(self):
            return [self.W, self.b]

    @d2l.add_to_class(SoftmaxRegressionScratch)
    def forward(self, X):
        X = X.reshape((-1, self.W.shape[0]))  # (B, 784)
        return softmax(torch.matmul(X, self.W) + self.b)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat[list(range(len(y_hat))), y]).mean()

    @d2l.add_to_class(SoftmaxRegressionScratch)
    def loss(self, y_hat, y):
        return cross_entropy(y_hat, y)

    return SoftmaxRegressionScratch(num_inputs=784, num_outputs=10, lr=LR)


def mlp_concise(d2l):
    """Section 5.2: the concise MLP, Flatten -> LazyLinear(256) -> ReLU -> LazyLinear(10)."""
    class MLP(d2l.Classifier):
        def __init__(self, num_outputs, num_hiddens, lr):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_hiddens), nn.ReLU(),
                                     nn.LazyLinear(num_outputs))

    return MLP(num_outputs=10, num_hiddens=256, lr=LR)


SECTIONS = {"4.4": softmax_regression_scratch, "5.2": mlp_concise}
TITLES = {"4.4": "softmax regression from scratch (4.4)", "5.2": "concise MLP (5.2)"}


@dataclass
class Fit:
    """One fit: each epoch's seconds, the rest of it (data, model, ``fit``'s own start and end),
    the accuracy on the 10,000 test images after it, and the board's last ``val_acc`` point."""
    epoch_seconds: list[float]
    startup_seconds: float
    val_acc: float
    board_val_acc: float

    @property
    def per_epoch(self) -> float:
        return sum(self.epoch_seconds) / len(self.epoch_seconds)


def timed_fit(section: str, side: str, epochs: int, X_val: torch.Tensor,
              y_val: torch.Tensor) -> Fit:
    """Section ``section``'s fit on ``side``'s d2l, then its accuracy on ``(X_val, y_val)``."""
    d2l, epoch_seconds = SIDES[side], []
    torch.manual_seed(SEED)
    start = time.perf_counter()
    data = d2l.FashionMNIST(batch_size=BATCH)
    model = SECTIONS[section](d2l)
    trainer = d2l.Trainer(max_epochs=epochs)
    fit_epoch = trainer.fit_epoch

    def timed_epoch():
        t = time.perf_counter()
        fit_epoch()
        epoch_seconds.append(time.perf_counter() - t)

    trainer.fit_epoch = timed_epoch  # fit calls self.fit_epoch(): this one, on both sides
    with contextlib.redirect_stdout(io.StringIO()):  # the book's board prints the figure's repr
        trainer.fit(model, data)
    startup = time.perf_counter() - start - sum(epoch_seconds)
    model.eval()
    with torch.no_grad():
        val_acc = float((model(X_val).argmax(dim=1) == y_val).float().mean())
    return Fit(epoch_seconds, startup, val_acc, float(model.board.data["val_acc"][-1].y))
