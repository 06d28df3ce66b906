"""Matt Mazur's "A Step by Step Backpropagation Example", three ways (the ``backprop`` experiment).

The network: inputs ``x = (0.05, 0.10)``, targets ``t = (0.01, 0.99)``, two sigmoid hidden
units and two sigmoid outputs, one shared bias per layer (0.35, 0.60) that is never updated:

    net_h = W1 x + b1,   out_h = s(net_h),   net_o = W2 out_h + b2,   out_o = s(net_o)
    E = sum_k (t_k - out_o,k)^2 / 2,          s(z) = 1 / (1 + e^-z)

    W1 = [[w1, w2], [w3, w4]] = [[0.15, 0.20], [0.25, 0.30]]
    W2 = [[w5, w6], [w7, w8]] = [[0.40, 0.45], [0.50, 0.55]]

and plain gradient descent ``W <- W - 0.5 dE/dW``. Backward, by the chain rule, with
``s'(z) = s(z) (1 - s(z))``:

    delta_o = dE/dnet_o = (out_o - t) * out_o (1 - out_o)
    dE/dW2  = delta_o out_h^T
    delta_h = dE/dnet_h = (W2^T delta_o) * out_h (1 - out_h)     (W2 before its update)
    dE/dW1  = delta_h x^T

Three routes compute it: :func:`by_hand` (the formulas above, no autograd), :func:`by_autograd`
(the same forward on tensors, ``backward()``) and :func:`concise` (``nn.Linear``,
``nn.Sigmoid``, ``torch.optim.SGD``), all in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

F64 = torch.float64
LR = 0.5
# the post's figures as printed: the digits shown are the claim
PUBLISHED = {"out_h1": "0.593269992", "out_o1": "0.75136507", "error": "0.298371109",
             "w5_after_one": "0.35891648", "w1_after_one": "0.149780716",
             "error_after_one": "0.291027924", "error_after_10000": "0.0000351085"}


def printed_tolerance(figure: str) -> float:
    """Half a unit in the last printed digit: ``"0.593269992"`` -> 5e-10."""
    decimals = len(figure.split(".")[1]) if "." in figure else 0
    return 0.5 * 10.0 ** -decimals


def data() -> dict[str, torch.Tensor]:
    """The post's network and example, fresh tensors each call."""
    t = lambda *v: torch.tensor(v, dtype=F64)  # noqa: E731
    return {"x": t(0.05, 0.10), "target": t(0.01, 0.99),
            "W1": t([0.15, 0.20], [0.25, 0.30]), "b1": t(0.35, 0.35),
            "W2": t([0.40, 0.45], [0.50, 0.55]), "b2": t(0.60, 0.60)}


@dataclass
class Pass:
    """One forward and backward pass: what the post computes before its first update."""

    out_h: torch.Tensor
    out_o: torch.Tensor
    error: float
    grad_W1: torch.Tensor
    grad_W2: torch.Tensor


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """``s(z) = 1 / (1 + e^-z)``, written out."""
    return 1 / (1 + torch.exp(-z))


def by_hand(p: dict, W1: torch.Tensor, W2: torch.Tensor, hidden_uses_new_W2: bool = False,
            ) -> Pass:
    """The chain rule of the module's docstring, on plain tensors (no autograd).

    ``hidden_uses_new_W2`` takes ``delta_h`` through ``W2`` already updated, which the post
    says not to do; it reproduces the post's error after one update (see ``backprop``).
    """
    out_h = sigmoid(W1 @ p["x"] + p["b1"])  # (2,)
    out_o = sigmoid(W2 @ out_h + p["b2"])  # (2,)
    error = (((p["target"] - out_o) ** 2) / 2).sum().item()
    delta_o = (out_o - p["target"]) * out_o * (1 - out_o)  # dE/dnet_o, (2,)
    grad_W2 = torch.outer(delta_o, out_h)  # (2, 2)
    through = W2 - LR * grad_W2 if hidden_uses_new_W2 else W2
    delta_h = (through.T @ delta_o) * out_h * (1 - out_h)  # dE/dnet_h, (2,)
    return Pass(out_h, out_o, error, torch.outer(delta_h, p["x"]), grad_W2)


def forward(p: dict, W1: torch.Tensor, W2: torch.Tensor) -> dict[str, torch.Tensor]:
    """The forward pass with torch's operations, every intermediate by the post's name."""
    net_h = W1 @ p["x"] + p["b1"]
    out_h = torch.sigmoid(net_h)
    net_o = W2 @ out_h + p["b2"]
    out_o = torch.sigmoid(net_o)
    E = (((p["target"] - out_o) ** 2) / 2).sum()
    return {"net_h": net_h, "out_h": out_h, "net_o": net_o, "out_o": out_o, "E": E}


def by_autograd(p: dict, W1: torch.Tensor, W2: torch.Tensor) -> Pass:
    """:func:`forward` on weights that require grad; ``backward()`` does the rest."""
    W1, W2 = W1.detach().requires_grad_(), W2.detach().requires_grad_()
    f = forward(p, W1, W2)
    f["E"].backward()
    return Pass(f["out_h"].detach(), f["out_o"].detach(), f["E"].item(), W1.grad, W2.grad)


def network(p: dict) -> nn.Sequential:
    """The concise twin: ``nn.Linear`` layers holding the post's weights, biases frozen."""
    net = nn.Sequential()
    for name, (W, b) in (("hidden", ("W1", "b1")), ("output", ("W2", "b2"))):
        layer = nn.Linear(2, 2, dtype=F64)
        with torch.no_grad():
            layer.weight.copy_(p[W])
            layer.bias.copy_(p[b])
        layer.bias.requires_grad_(False)  # the post never updates its biases
        net.add_module(name, layer)
        net.add_module(f"sigmoid_{name[0]}", nn.Sigmoid())
    return net


def half_squared(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``E = sum (t - out)^2 / 2`` with torch's own loss: ``MSELoss(sum) / 2``."""
    return nn.functional.mse_loss(out, target, reduction="sum") / 2


def concise(p: dict, updates: int) -> Iterator[tuple[Pass, nn.Sequential]]:
    """``updates`` steps of ``torch.optim.SGD(lr=0.5)`` on the concise network: each step's
    pass (before its update) and the network after it."""
    net = network(p)
    weights = [net.hidden.weight, net.output.weight]
    optimizer = torch.optim.SGD(weights, lr=LR)
    for _ in range(updates):
        optimizer.zero_grad()
        out_h = net.sigmoid_h(net.hidden(p["x"]))
        out_o = net.sigmoid_o(net.output(out_h))
        error = half_squared(out_o, p["target"])
        error.backward()
        step = Pass(out_h.detach(), out_o.detach(), error.item(), weights[0].grad.clone(),
                    weights[1].grad.clone())
        optimizer.step()
        yield step, net


def descend(route: Callable[..., Pass], p: dict, updates: int,
            **options) -> Iterator[tuple[Pass, torch.Tensor, torch.Tensor]]:
    """``updates`` steps of ``W <- W - 0.5 dE/dW`` with the gradients of ``route``: each
    step's pass (before its update) and the weights after it."""
    W1, W2 = p["W1"], p["W2"]
    for _ in range(updates):
        step = route(p, W1, W2, **options)
        W1, W2 = W1 - LR * step.grad_W1, W2 - LR * step.grad_W2
        yield step, W1, W2


def routes(updates: int) -> dict[str, dict]:
    """Each route's first pass, its weights after one update, and ``errors[k]``, the error
    after ``k`` updates for k = 0 ... ``updates``: ``{route: {"first", "W1", "W2",
    "errors"}}``."""
    p, passes = data(), updates + 1  # the last pass measures the error after the last update
    runs = {"by hand": descend(by_hand, p, passes),
            "autograd": descend(by_autograd, p, passes),
            "nn": ((s, net.hidden.weight.detach().clone(), net.output.weight.detach().clone())
                   for s, net in concise(p, passes))}
    found = {}
    for name, steps in runs.items():
        errors, first = [], {}
        for k, (step, W1, W2) in enumerate(steps):
            errors.append(step.error)
            if k == 0:
                first = {"first": step, "W1": W1, "W2": W2}
        found[name] = {**first, "errors": errors}
    return found


def numbers(found: dict) -> list[float]:
    """Every number a route computes, flattened, to compare routes entry by entry."""
    first = found["first"]
    return [*first.out_h.tolist(), *first.out_o.tolist(), first.error,
            *first.grad_W1.flatten().tolist(), *first.grad_W2.flatten().tolist(),
            *found["W1"].flatten().tolist(), *found["W2"].flatten().tolist(),
            *found["errors"][1:2], found["errors"][-1]]
