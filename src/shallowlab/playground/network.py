"""A session's network on either track, with one interface for the session to drive.

Concise: ``nets.mlp`` (one activation per layer) and ``nets.init_``, trained by ``torch.optim``
on the mean loss. Scratch: the same starting weights as raw tensors in the book's layout
(``W`` is (in, out), ``H = act(H W + b)``), ``scratch``'s losses and its ``sgd`` on the summed
loss, ``p <- p - lr * p.grad / B``. Dropout on both draws from the session's own generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from shallowlab.models import nets, scratch

SCRATCH_ACT = {"relu": scratch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
               "linear": lambda H: H}


class SeededDropout(nn.Module):
    """``nn.Dropout`` drawing its masks from ``generator``, not the global RNG: many sessions
    share one process, and each must replay bit for bit."""

    def __init__(self, p: float, generator: torch.Generator) -> None:
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return scratch.dropout_layer(X, self.p, self.generator) if self.training else X


def concise_model(settings, inputs: int, outputs: int, init_gen: torch.Generator,
                  drop_gen: torch.Generator) -> nn.Sequential:
    """``nets.mlp`` with the settings' layers, initialised from ``init_gen``, less its
    leading ``nn.Flatten``."""
    layers = settings.layers
    model = nets.mlp(inputs, [x.width for x in layers], outputs,
                     [x.activation for x in layers], [x.dropout for x in layers])
    nets.init_(model, settings.init, 0.1, init_gen)
    for i, m in enumerate(model):
        if isinstance(m, nn.Dropout):
            model[i] = SeededDropout(m.p, drop_gen)
    return nn.Sequential(*list(model)[1:])  # points need no Flatten: one op less a step


def linears(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def optimizer(settings, params) -> torch.optim.Optimizer:
    """SGD, SGD with momentum 0.9, or Adam (betas 0.9, 0.999); fused where this torch has
    fused CPU kernels (a step of a small net then costs a third of foreach's), else foreach."""
    if settings.optimizer == "adam":
        return fast_optimizer(torch.optim.Adam, params, lr=settings.lr)
    momentum = 0.9 if settings.optimizer == "momentum" else 0.0
    return fast_optimizer(torch.optim.SGD, params, lr=settings.lr, momentum=momentum)


def fast_optimizer(cls, params, **kwargs) -> torch.optim.Optimizer:
    try:
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):  # no fused CPU kernel in this torch
        return cls(params, foreach=True, **kwargs)


def data_loss(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """The mean loss over the batch, concise form.

    ``cross_entropy``: ``-log softmax(o)_y``; ``mse`` on classes: ``|softmax(o) - onehot(y)|^2
    / 2`` (the squared error of the probabilities); ``mse`` on targets: ``(o - y)^2 / 2``.
    """
    if kind == "cross_entropy":
        return F.cross_entropy(out, y)
    if kind == "mse_classify":
        onehot = F.one_hot(y, out.shape[1]).to(out.dtype)
        return ((torch.softmax(out, dim=1) - onehot) ** 2).sum(dim=1).mean() / 2
    return ((out[:, 0] - y) ** 2).mean() / 2


def scratch_loss(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """The per-example losses from ``shallowlab.models.scratch``, unreduced: (B,)."""
    if kind == "cross_entropy":
        return scratch.cross_entropy(out, y)
    if kind == "mse_classify":
        onehot = F.one_hot(y, out.shape[1]).to(out.dtype)
        return scratch.squared_loss(scratch.softmax(out), onehot).sum(dim=1)
    return scratch.squared_loss(out, y)[:, 0]


def penalty(weights: list[torch.Tensor], reg: str, rate: float) -> torch.Tensor | None:
    """``l2: rate / 2 sum ||W||^2``, ``l1: rate sum |W|`` over the weights (no biases)."""
    if reg == "none" or rate == 0:
        return None
    if reg == "l2":
        return rate / 2 * sum((W * W).sum() for W in weights)
    return rate * sum(W.abs().sum() for W in weights)


class ScratchNet:
    """Raw tensors ``W_k`` (in, out) and ``b_k``, copied from a concise model's start."""

    def __init__(self, model: nn.Sequential, settings, drop_gen: torch.Generator) -> None:
        self.weights = [m.weight.detach().T.contiguous().requires_grad_() for m in linears(model)]
        self.biases = [m.bias.detach().clone().requires_grad_() for m in linears(model)]
        self.acts = [SCRATCH_ACT[x.activation] for x in settings.layers]
        self.drops = [x.dropout for x in settings.layers]
        self.generator, self.training = drop_gen, True

    def hidden(self, X: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each hidden layer's activation (before dropout) and the output logits."""
        H, seen = X, []
        for W, b, act, p in zip(self.weights, self.biases, self.acts, self.drops):
            H = act(H @ W + b)  # (n, h)
            seen.append(H)
            if self.training and p > 0:
                H = scratch.dropout_layer(H, p, self.generator)
        return seen, H @ self.weights[-1] + self.biases[-1]

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return self.hidden(X)[1]

    def parameters(self) -> list[torch.Tensor]:
        return [t for pair in zip(self.weights, self.biases) for t in pair]


def concise_hidden(model: nn.Sequential,
                   X: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each hidden layer's activation and the output, walking the model's modules."""
    H, seen = X, []
    for m in model:
        H = m(H)
        if isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity)):
            seen.append(H)
    return seen, H
