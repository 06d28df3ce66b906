"""The English edition's data and models of chapters 3-5 (d2l 1.0), on :mod:`._oop`.

Each class keeps the book's signature, attributes and random draws (so one seed gives the
book's data and initial weights); :class:`FashionMNIST` is the exception underneath: its images
come from shallowlab's files, held in memory (see :mod:`._data`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from shallowlab.d2l._data import TensorLoader, fashion_mnist_splits
from shallowlab.d2l._figures import show_images
from shallowlab.d2l._hyper import HyperParameters
from shallowlab.d2l._oop import DataModule, Module
from shallowlab.data.fashion_mnist import labels_to_names


class SyntheticRegressionData(DataModule):
    """``y = X w + b + noise``, X ~ N(0, 1), noise ~ N(0, noise^2): ``num_train`` examples for
    training, then ``num_val`` for validation (section 3.3)."""

    def __init__(self, w, b, noise=0.01, num_train=1000, num_val=1000, batch_size=32):
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, len(w))
        eps = torch.randn(n, 1) * noise
        self.y = self.X @ w.reshape((-1, 1)) + b + eps

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class LinearRegressionScratch(Module):
    """``y_hat = X w + b`` with w ~ N(0, sigma^2) (num_inputs x 1) and b = 0, the loss
    ``mean((y_hat - y)^2 / 2)``, trained by the from-scratch :class:`SGD` (section 3.4)."""

    def __init__(self, num_inputs, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.normal(0, sigma, (num_inputs, 1), requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)

    def forward(self, X):
        return X @ self.w + self.b

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2 / 2).mean()

    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)


class SGD(HyperParameters):
    """Minibatch stochastic gradient descent from scratch: ``p <- p - lr * p.grad``."""

    def __init__(self, params, lr):
        self.save_hyperparameters()

    def step(self):
        with torch.no_grad():
            for param in self.params:
                param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


class LinearRegression(Module):
    """``nn.LazyLinear(1)`` with ``nn.MSELoss`` and ``torch.optim.SGD`` (section 3.5).

    As in the book, the weights are drawn when the first batch gives their shape: the
    ``normal_`` and ``fill_`` written in ``__init__`` act on a parameter that does not exist yet.
    """

    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.LazyLinear(1)
        self.net.weight.data.normal_(0, 0.01)
        self.net.bias.data.fill_(0)

    def forward(self, X):
        return self.net(X)

    def loss(self, y_hat, y):
        return F.mse_loss(y_hat, y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), self.lr)

    def get_w_b(self):
        """The trained ``(weight, bias)``, without their graph."""
        return self.net.weight.data, self.net.bias.data


class FashionMNIST(DataModule):
    """Fashion-MNIST, each image float32 (1, *resize) in [0, 1] (section 4.2).

    ``train`` (60,000 images) and ``val`` (10,000) are datasets as torchvision's; their batches
    are index slices of tensors in memory, in a new order each pass for training. The files are
    found as ``shallowlab data`` finds them, and in ``root`` if it holds them (as the book's
    ``../data/FashionMNIST/raw``) unless ``$SHALLOWLAB_DATA`` names a folder: that comes first.
    ``num_workers`` is accepted and not needed.
    """

    def __init__(self, batch_size=64, resize=(28, 28)):
        super().__init__()
        self.save_hyperparameters()
        self.train, self.val = fashion_mnist_splits(resize, self.root)

    def text_labels(self, indices):
        """The class names of the labels ``indices``."""
        return labels_to_names(indices)

    def get_dataloader(self, train):
        data = self.train if train else self.val
        return TensorLoader(data, self.batch_size, shuffle=train)

    def visualize(self, batch, nrows=1, ncols=8, labels=[]):  # noqa: B006 (the book's)
        """The first ``nrows * ncols`` images of ``batch``, titled with ``labels`` (by default
        their class names)."""
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        show_images(X.squeeze(1), nrows, ncols, titles=labels)


class Classifier(Module):
    """A :class:`Module` whose validation also plots the accuracy (section 4.3); the loss is
    the cross-entropy of the logits (section 4.5)."""

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        """The fraction (``averaged``) or the 0/1 list of rows whose arg-max is the label."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(axis=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):
        """``-log softmax(Y_hat)_Y``, the mean over the batch (``averaged``) or each row's."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        return F.cross_entropy(Y_hat, Y.reshape((-1,)), reduction="mean" if averaged else "none")

    def layer_summary(self, X_shape):
        """Print each layer of ``self.net`` and the shape of its output for input ``X_shape``."""
        X = torch.randn(*X_shape)
        for layer in self.net:
            X = layer(X)
            print(layer.__class__.__name__, "output shape:\t", X.shape)


class SoftmaxRegression(Classifier):
    """``nn.Sequential(nn.Flatten(), nn.LazyLinear(num_outputs))`` (section 4.5)."""

    def __init__(self, num_outputs, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_outputs))

    def forward(self, X):
        return self.net(X)
