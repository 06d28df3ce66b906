"""Checker of a hand-derived backward pass (en-5.3.2b): a two-layer MLP with a hidden bias,

    Z = X W1^T + b1,  H = relu(Z),  O = H W2^T,
    J = mean_i cross-entropy(O_i, y_i) + lambd / 2 (||W1||_F^2 + ||W2||_F^2),

whose gradients the learner writes out: dO = (softmax(O) - onehot(y)) / n, dW2 = dO^T H +
lambd W2, dH = dO W2, dZ = dH * [Z > 0], dW1 = dZ^T X + lambd W1, db1 = sum_i dZ_i (the bias
is not penalised). Each is compared with autograd's, in float64, on inputs where about half
of the hidden units are off.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shallowlab.exercises.checkers.harness import Checking, Failed, Property, close, tensor

N, D, H, Q, LAMBD = 6, 5, 4, 3, 0.3


def backward_reference(X, y, W1, b1, W2, lambd):
    """The three gradients of J, written out."""
    Z = X @ W1.T + b1  # (n, h)
    Hid = Z.clamp_min(0)
    O = Hid @ W2.T  # (n, q)
    dO = (torch.softmax(O, dim=1) - F.one_hot(y, O.shape[1]).to(O.dtype)) / len(X)
    dW2 = dO.T @ Hid + lambd * W2
    dZ = (dO @ W2) * (Z > 0)
    return dZ.T @ X + lambd * W1, dZ.sum(0), dW2


def _inputs(seed: int = 0) -> tuple:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    y = torch.randint(0, Q, (N,), generator=g)
    W1 = torch.randn(H, D, generator=g, dtype=torch.float64)
    b1 = torch.randn(H, generator=g, dtype=torch.float64)
    W2 = torch.randn(Q, H, generator=g, dtype=torch.float64)
    return X, y, W1, b1, W2, LAMBD


def _autograd(X, y, W1, b1, W2, lambd) -> tuple:
    leaves = [t.clone().requires_grad_() for t in (W1, b1, W2)]
    w1, bias, w2 = leaves
    O = torch.relu(X @ w1.T + bias) @ w2.T
    J = F.cross_entropy(O, y) + lambd / 2 * (w1.pow(2).sum() + w2.pow(2).sum())
    J.backward()
    return tuple(t.grad for t in leaves)


def _grads(fn) -> tuple:
    got = fn(*_inputs())
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Failed(f"backward returned {type(got).__name__}, want a tuple (dW1, db1, dW2)")
    return tuple(tensor(g, name) for g, name in zip(got, ("dW1", "db1", "dW2")))


def _shapes(fn) -> None:
    X, y, W1, b1, W2, _ = _inputs()
    for got, param, name in zip(_grads(fn), (W1, b1, W2), ("dW1", "db1", "dW2")):
        if got.shape != param.shape:
            raise Failed(f"{name} has shape {tuple(got.shape)}, its parameter "
                         f"{tuple(param.shape)}")


def _compare(index: int, name: str):
    def test(fn) -> None:
        inputs = _inputs()
        got, want = _grads(fn)[index], _autograd(*inputs)[index]
        param = inputs[2 + index]
        if index == 1 and torch.allclose(got, want + LAMBD * param):
            raise Failed("db1 is autograd's plus lambd * b1: the bias is decayed too; the "
                         "penalty covers W1 and W2 only")
        if index != 1 and torch.allclose(got, want - LAMBD * param):
            raise Failed(f"{name} lacks the penalty's gradient lambd * {name[1:]}")
        if torch.allclose(got, want * N, rtol=1e-6) or \
                (index != 1 and torch.allclose(got - LAMBD * param, (want - LAMBD * param) * N)):
            raise Failed(f"{name} is {N} times autograd's on {N} examples: the loss is the "
                         "mean over the examples, not their sum")
        close(got, want, f"{name} on {N} random examples, lambd {LAMBD}",
              hint="mind ReLU's derivative, 1 where Z > 0 and 0 elsewhere" if index != 2 else "")
    return test


BACKPROP = Checking((
    Property("three gradients shaped like W1, b1, W2", _shapes),
    Property("dW2 equals autograd's", _compare(2, "dW2")),
    Property("db1 equals autograd's", _compare(1, "db1")),
    Property("dW1 equals autograd's", _compare(0, "dW1")),
), backward_reference)
