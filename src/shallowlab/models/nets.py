"""The concise models, built from ``torch.nn``, and initialisation by name.

Their from-scratch twins, written with raw tensors, live in :mod:`shallowlab.models.scratch`
under the same names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
# "linear" (no nonlinearity) is for showing what a network without one cannot do; it stays out
# of ACTIVATIONS, the choices a run's settings offer.
LAYER_ACTIVATIONS = {**ACTIVATIONS, "linear": nn.Identity}
INITS = ("normal", "xavier", "he", "zeros")


def softmax_regression(num_inputs: int = 784, num_outputs: int = 10) -> nn.Sequential:
    """``o = flatten(X) W + b``; the softmax lives in the loss (``nn.CrossEntropyLoss``).

    Shape: input (B, *) with prod(*) = num_inputs; output logits (B, num_outputs).
    """
    return nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs))


def mlp(num_inputs: int = 784, hidden: Sequence[int] = (256,), num_outputs: int = 10,
        activation: str | Sequence[str] = "relu",
        dropout: float | Sequence[float] = 0.0) -> nn.Sequential:
    """``H_k = dropout(act(H_{k-1} W_k + b_k))`` for each hidden layer, then a linear output.

    Args:
        hidden: widths of the hidden layers, e.g. ``(256,)`` or ``(256, 256)``.
        activation: ``relu``, ``sigmoid``, ``tanh`` or ``linear`` (the identity) for every
            hidden layer, or one of them per hidden layer.
        dropout: one probability for every hidden layer, or one per hidden layer
            (0 leaves the layer out).
    """
    names = [activation] if isinstance(activation, str) else list(activation)
    if unknown := [a for a in names if a not in LAYER_ACTIVATIONS]:
        raise ValueError(f"unknown activation {unknown[0]!r}; "
                         f"choose from {sorted(LAYER_ACTIVATIONS)}")
    acts = names * len(hidden) if isinstance(activation, str) else names
    drops = [dropout] * len(hidden) if isinstance(dropout, (int, float)) else list(dropout)
    if len(drops) != len(hidden) or len(acts) != len(hidden):
        raise ValueError(f"{len(drops)} dropout values and {len(acts)} activations "
                         f"for {len(hidden)} hidden layers")
    layers: list[nn.Module] = [nn.Flatten()]
    width = num_inputs
    for h, a, p in zip(hidden, acts, drops, strict=True):
        layers += [nn.Linear(width, h), LAYER_ACTIVATIONS[a]()]
        if p > 0:
            layers.append(nn.Dropout(p))
        width = h
    layers.append(nn.Linear(width, num_outputs))
    return nn.Sequential(*layers)


@torch.no_grad()
def init_(model: nn.Module, scheme: str = "normal", std: float = 0.01,
          generator: torch.Generator | None = None) -> nn.Module:
    """Initialise every ``nn.Linear`` in ``model`` in place; biases to 0.

    Schemes, for a weight of fan-in ``n_in`` and fan-out ``n_out``:
        normal: N(0, std^2) (the book's default, std 0.01);
        xavier: U(-a, a), a = sqrt(6 / (n_in + n_out)) (Glorot);
        he:     N(0, 2 / n_in) (Kaiming, for ReLU);
        zeros:  0 (every hidden unit then stays identical to the others).
    """
    for m in model.modules():
        if not isinstance(m, nn.Linear):
            continue
        if scheme == "normal":
            nn.init.normal_(m.weight, 0.0, std, generator=generator)
        elif scheme == "xavier":
            nn.init.xavier_uniform_(m.weight, generator=generator)
        elif scheme == "he":
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / m.in_features), generator=generator)
        elif scheme == "zeros":
            nn.init.zeros_(m.weight)
        else:
            raise ValueError(f"unknown init {scheme!r}; choose from {INITS}")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    return model


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Optimizer parameter groups that apply weight decay to weights only, never to biases."""
    weights = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return [{"params": weights, "weight_decay": weight_decay},
            {"params": biases, "weight_decay": 0.0}]
