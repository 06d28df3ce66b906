"""Checkers of softmax, the cross-entropy by its definition, and the absolute-value loss.

Inputs are drawn from a fixed ``torch.Generator`` so that a failure reads the same every time;
the extremes (logits of +-1000, all below -100, probabilities of exactly 0) are the ones where
the formula as written breaks.
"""

from __future__ import annotations

import torch

from shallowlab.exercises.checkers.harness import (
    Checking,
    Failed,
    Property,
    close,
    finite,
    gradient_matches,
    same_shape,
    show,
    tensor,
)


def _logits(n: int = 8, q: int = 10, scale: float = 3.0, seed: int = 0) -> torch.Tensor:
    return scale * torch.randn(n, q, generator=torch.Generator().manual_seed(seed))


# ---- softmax: exp(o - max o) / sum exp(o - max o), row by row

def softmax_reference(X: torch.Tensor) -> torch.Tensor:
    """``exp(X - max) / sum exp(X - max)`` along each row: the largest exponent is 0."""
    shifted = X - X.max(dim=1, keepdim=True).values
    e = shifted.exp()
    return e / e.sum(dim=1, keepdim=True)


def _softmax_shape(fn) -> None:
    for dtype in (torch.float32, torch.float64):
        X = _logits().to(dtype)
        got = tensor(fn(X), "softmax")
        same_shape(got, X.shape, f"softmax of a {tuple(X.shape)} input")
        if got.dtype != dtype:
            raise Failed(f"softmax of a {str(dtype)[6:]} input returned {str(got.dtype)[6:]}")


def _softmax_values(fn) -> None:
    X = _logits()
    got = fn(X)
    sums = got.sum(dim=1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-5):
        raise Failed(f"the rows of softmax(X) sum to {show(sums[:3])}..., not 1, for a "
                     f"{tuple(X.shape)} X\nhint: normalise each row (dim=1), one example each")
    close(got, torch.softmax(X, dim=1), f"softmax of a {tuple(X.shape)} X ~ N(0, 9)")


def _softmax_large(fn) -> None:
    X = torch.tensor([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]])
    got = fn(X)
    hint = "exp(1000) overflows; subtract each row's largest logit before exp"
    finite(got, f"softmax({X.tolist()})", hint)
    close(got, torch.softmax(X, dim=1), f"softmax({X.tolist()})", hint=hint)


def _softmax_small(fn) -> None:
    X = torch.tensor([[-1000.0, -1001.0, -1002.0]])
    got = fn(X)
    hint = "exp(-1000) underflows to 0, and 0/0 is nan; shift by the row's largest logit"
    finite(got, "softmax([[-1000, -1001, -1002]])", hint)
    close(got, torch.softmax(X, dim=1), "softmax([[-1000, -1001, -1002]])", hint=hint)


SOFTMAX = Checking((
    Property("shape and dtype", _softmax_shape),
    Property("equal to softmax on random logits", _softmax_values),
    Property("finite for logits of +-1000", _softmax_large),
    Property("finite when every logit is below -100", _softmax_small),
    Property("gradient", lambda fn: gradient_matches(fn, lambda x: (x,), _logits(3, 4),
                                                     "softmax")),
), softmax_reference)


# ---- cross-entropy by its definition: mean_i -sum_j y_ij log y_hat_ij

def cross_entropy_reference(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``mean_i -sum_j y_ij log y_hat_ij``, a term counting 0 where y_ij = 0 (0 log 0 = 0)."""
    terms = torch.where(y > 0, y * torch.log(y_hat.clamp_min(torch.finfo(y_hat.dtype).tiny)),
                        torch.zeros_like(y_hat))
    return -terms.sum(dim=1).mean()


def _probabilities(n: int = 8, q: int = 10, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y_hat = torch.softmax(torch.randn(n, q, generator=g, dtype=torch.float64), dim=1)
    y = torch.nn.functional.one_hot(torch.randint(0, q, (n,), generator=g), q).double()
    return y_hat, y


def _ce_scalar(fn) -> None:
    got = tensor(fn(*_probabilities()), "cross_entropy")
    if got.dim() != 0:
        raise Failed(f"cross_entropy returned shape {tuple(got.shape)}, want a scalar (shape ())"
                     "\nhint: the mean over the examples of each example's loss")


def _ce_mean(fn) -> None:
    y_hat, y = _probabilities()
    got, want = fn(y_hat, y), cross_entropy_reference(y_hat, y)
    n = len(y)
    if torch.isclose(got, n * want, rtol=1e-4):
        raise Failed(f"on {n} examples it gives {got.item():.4f}, {n} times the mean "
                     f"{want.item():.4f}: summed over the examples where the mean is asked")
    if torch.isclose(got, -want, rtol=1e-4):
        raise Failed(f"it gives {got.item():.4f}, the negative of {want.item():.4f}: the "
                     "loss is -sum y log y_hat")
    close(got, want, f"cross_entropy on {n} random examples with one-hot labels")


def _ce_soft(fn) -> None:
    y_hat, _ = _probabilities()
    y = torch.softmax(torch.randn(y_hat.shape, generator=torch.Generator().manual_seed(3),
                                  dtype=torch.float64), dim=1)
    close(fn(y_hat, y), cross_entropy_reference(y_hat, y),
          "cross_entropy with soft labels (each row a distribution)",
          hint="sum y_j log y_hat_j over every class, not only the most likely one")


def _ce_zeros(fn) -> None:
    y_hat = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    got = fn(y_hat, y)
    finite(got, "cross_entropy of y_hat [[0.7, 0.3, 0], [0, 0, 1]] against labels 0 and 2",
           "0 * log 0 is 0 * -inf = nan in floating point; skip or mask the terms with y = 0")
    close(got, cross_entropy_reference(y_hat, y), "cross_entropy with probabilities of 0")


def _ce_gradient(fn) -> None:
    y_hat, y = _probabilities(4, 5)
    gradient_matches(fn, lambda p: (p, y), y_hat, "cross_entropy (with respect to y_hat)")


CROSS_ENTROPY = Checking((
    Property("a scalar", _ce_scalar),
    Property("the mean over examples of the definition", _ce_mean),
    Property("soft labels", _ce_soft),
    Property("zero probabilities where the label is 0", _ce_zeros),
    Property("gradient", _ce_gradient),
), cross_entropy_reference)


# ---- the absolute-value loss: |y_hat - y| per example

def absolute_reference(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``|y_hat - y|`` per example, y reshaped to y_hat's shape (n, 1)."""
    return (y_hat - y.reshape(y_hat.shape)).abs()


def _regression(n: int = 8, seed: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, generator=g), torch.randn(n, generator=g)


def _abs_shape(fn) -> None:
    y_hat, y = _regression()
    got = tensor(fn(y_hat, y), "absolute_loss")
    same_shape(got, y_hat.shape, "absolute_loss(y_hat (8, 1), y (8,))",
               "(8, 8) means y_hat - y broadcast every prediction against every label: reshape "
               "y to y_hat's shape" if got.shape == (8, 8) else
               "one loss per example, not their sum or mean")


def _abs_values(fn) -> None:
    y_hat, y = _regression()
    got, want = fn(y_hat, y), absolute_reference(y_hat, y)
    if torch.allclose(got, want**2, rtol=1e-4):
        raise Failed("it gives (y_hat - y)^2 (the squared loss), not |y_hat - y|")
    close(got, want, "absolute_loss on 8 random examples")


ABSOLUTE = Checking((
    Property("one loss per example, shaped like y_hat", _abs_shape),
    Property("equal to |y_hat - y|", _abs_values),
    Property("gradient", lambda fn: gradient_matches(
        fn, lambda p: (p, _regression()[1].double()), _regression()[0], "absolute_loss")),
), absolute_reference)
