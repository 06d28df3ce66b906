"""The book's chapter-3 training loop and its helpers, with the book's conventions.

The book's trainers run on the CPU; here, when a net is an ``nn.Module`` whose parameters live
on another device, each batch follows them there (a plain function, like the book's scratch
nets, has no parameters to ask and stays on the CPU). Sums are kept on the tensor side and read
once per pass, where the book reads two numbers per batch.
"""

from __future__ import annotations

import torch
from torch import nn

from shallowlab.core.steps import make_step
from shallowlab.d2l._data import get_fashion_mnist_labels
from shallowlab.d2l._figures import FIGURES, Animator, show_images
from shallowlab.errors import ShallowlabError


class TrainingCheckError(ShallowlabError, AssertionError):
    """A ``train_ch3`` result outside the book's bounds (an ``AssertionError``, as the book's)."""


class Accumulator:
    """Running sums of ``n`` quantities."""

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args) -> None:
        """``data[i] += float(args[i])``; a tensor is read without its graph."""
        self.data = [a + float(b.detach() if torch.is_tensor(b) else b)
                     for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def device_of(net) -> torch.device | None:
    """Where a module's parameters live if not on the CPU; None leaves the batches on the CPU."""
    if isinstance(net, nn.Module):
        p = next(net.parameters(), None)
        if p is not None and p.device.type != "cpu":
            return p.device
    return None


def _to(device: torch.device | None, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tensors if device is None else tuple(t.to(device) for t in tensors)


def _correct(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return (y_hat.type(y.dtype) == y).type(y.dtype).sum()


def accuracy(y_hat, y) -> float:
    """The number (not the fraction) of rows of ``y_hat`` whose arg-max is the label ``y``."""
    return float(_correct(y_hat, y))


@torch.no_grad()
def evaluate_accuracy(net, data_iter) -> float:
    """The fraction of correct predictions of ``net`` over ``data_iter`` (in eval mode)."""
    if isinstance(net, nn.Module):
        net.eval()
    device, hits, n = device_of(net), 0, 0
    for X, y in data_iter:
        X, y = _to(device, X, y)
        hits = hits + _correct(net(X), y)
        n += y.numel()
    return float(hits) / n


@torch.no_grad()
def evaluate_loss(net, data_iter, loss) -> float:
    """The mean of ``loss(net(X), y)`` over every element of every batch (y shaped as net(X))."""
    device, total, n = device_of(net), 0, 0
    for X, y in data_iter:
        X, y = _to(device, X, y)
        out = net(X)
        l = loss(out, y.reshape(out.shape))
        total, n = total + l.sum(), n + l.numel()
    return float(total) / n


def train_epoch_ch3(net, train_iter, loss, updater) -> tuple[float, float]:
    """One pass over ``train_iter``; returns the mean training loss and accuracy.

    ``loss`` returns one loss per example (or their mean). With a ``torch.optim.Optimizer`` a
    step is ``zero_grad(); l.mean().backward(); step()``; any other ``updater`` is called as
    ``updater(batch_size)`` after ``l.sum().backward()``, as the book's ``sgd`` expects. A
    mean-reduced loss counts as its mean times the batch size, so the loss returned is a mean
    per example either way. Where it applies (the book's concise softmax regression and MLP
    with SGD), the step is :class:`shallowlab.core.fused.FusedStep`: the same arithmetic, faster.
    """
    if isinstance(net, nn.Module):
        net.train()
    step = make_step(net, loss, updater)  # the fused step where it applies, else autograd
    device, loss_sum, hits, n = device_of(net), 0, 0, 0
    for X, y in train_iter:
        X, y = _to(device, X, y)
        y_hat, l = step.forward(X, y)
        step.update()
        with torch.no_grad():
            loss_sum = loss_sum + (l.sum() if l.dim() else l * X.shape[0])
            hits = hits + _correct(y_hat, y)
        n += y.numel()
    return float(loss_sum) / n, float(hits) / n


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater) -> None:
    """Train for ``num_epochs``, printing and plotting train loss, train and test accuracy.

    Then the book's checks: after the last epoch, train loss below 0.5 and both accuracies in
    (0.7, 1]; otherwise a :class:`TrainingCheckError` saying which and by how much.
    """
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                        legend=["train loss", "train acc", "test acc"])
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        # printed before the redraw: in a notebook the redraw after it clears the cell's output
        print(f"epoch {epoch + 1}/{num_epochs}: train loss {train_metrics[0]:.4f}, "
              f"train acc {train_metrics[1]:.3f}, test acc {test_acc:.3f}", flush=True)
        animator.add(epoch + 1, train_metrics + (test_acc,))
    FIGURES.save(animator.fig, "animator")
    train_loss, train_acc = train_metrics
    for name, value, ok, bound in (
            ("train loss", train_loss, train_loss < 0.5, "below 0.5"),
            ("train accuracy", train_acc, 0.7 < train_acc <= 1, "in (0.7, 1]"),
            ("test accuracy", test_acc, 0.7 < test_acc <= 1, "in (0.7, 1]")):
        if not ok:
            raise TrainingCheckError(
                f"train_ch3: the {name} after {num_epochs} epochs is {value:.4g}, not {bound} "
                "as the book expects; train for more epochs, or check the learning rate, the "
                "loss and the net")


def predict_ch3(net, test_iter, n=6) -> None:
    """Show the first ``n`` images of the first test batch, titled true, then predicted label."""
    X, y = next(iter(test_iter))
    with torch.no_grad():
        y_hat = net(*_to(device_of(net), X))
    trues = get_fashion_mnist_labels(y)
    preds = get_fashion_mnist_labels(y_hat.argmax(dim=1))
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(X[0:n].reshape((n, 28, 28)), 1, n, titles=titles[0:n])

