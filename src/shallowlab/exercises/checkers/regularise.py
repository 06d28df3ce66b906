"""Checkers of the L1 step (en-3.7.3), dropout on weights (en-5.6.6) and a noise layer of the
learner's own (en-5.6.7).

The statistical properties use many draws and bounds of several standard errors, so a correct
solution passes on every seed: the fraction dropped must be within 5 standard errors,
``5 sqrt(p (1 - p) / n)``, of p, and a noise layer's mean over 4000 draws within 5 standard
errors of its input.
"""

from __future__ import annotations

import torch

from shallowlab.exercises.checkers.harness import (
    Checking,
    Failed,
    Property,
    close,
    finite,
    same_shape,
    show,
    tensor,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- the L1 step: w - lr (grad + lambd sign(w))

def l1_reference(w: torch.Tensor, grad: torch.Tensor, lr: float, lambd: float) -> torch.Tensor:
    """``w - lr (grad + lambd sign(w))``, sign(0) = 0: a subgradient step."""
    return w - lr * (grad + lambd * torch.sign(w))


def _far(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = _gen(seed)
    w = torch.tensor([-8.0, -3.0, -1.5, 1.5, 3.0, 8.0], dtype=torch.float64)
    return w, torch.randn(6, generator=g, dtype=torch.float64)


def _l1_shape(fn) -> None:
    w, grad = _far()
    same_shape(tensor(fn(w.clone(), grad, 0.1, 0.5), "l1_step"), w.shape, "l1_step(w of 6)")


def _l1_values(fn) -> None:
    w, grad = _far()
    got = fn(w.clone(), grad, 0.1, 0.5)
    if torch.allclose(got, w - 0.1 * (grad + 0.5 * w)):
        raise Failed("the penalty's pull is lambd * w: that is L2 weight decay; the gradient "
                     "of lambd * |w| is lambd * sign(w)")
    if torch.allclose(got, w - 0.1 * grad - 0.5 * torch.sign(w)):
        raise Failed("the penalty's step is lambd * sign(w), not lr * lambd * sign(w): the "
                     "learning rate scales the whole gradient")
    close(got, l1_reference(w, grad, 0.1, 0.5), f"l1_step(w = {show(w)}, lr 0.1, lambd 0.5)")


def _l1_constant_pull(fn) -> None:
    w = torch.tensor([2.0, 20.0, -200.0], dtype=torch.float64)
    moved = w - fn(w.clone(), torch.zeros(3, dtype=torch.float64), 0.1, 1.0)
    if not torch.allclose(moved.abs(), torch.full((3,), 0.1, dtype=torch.float64)):
        raise Failed(f"with no gradient, weights {show(w)} moved by {show(moved)}; the L1 "
                     "penalty moves each by lr * lambd = 0.1 towards 0")


def _l1_zero(fn) -> None:
    got = fn(torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 0.1, 1.0)
    if not torch.equal(got, torch.zeros(3, dtype=torch.float64)):
        raise Failed(f"weights of 0 with no gradient became {show(got)}: sign(0) is 0")


L1_STEP = Checking((
    Property("shape", _l1_shape),
    Property("a step of lr (grad + lambd sign(w)) away from zero", _l1_values),
    Property("the same pull on every weight, whatever its size", _l1_constant_pull),
    Property("zero stays zero without a gradient", _l1_zero),
), l1_reference)


# ---- dropout on weights: W * mask / (1 - p), mask_ij ~ Bernoulli(1 - p)

def drop_weights_reference(W: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Each entry kept with probability 1 - p and divided by it; p = 1 drops all."""
    if p >= 1:
        return torch.zeros_like(W)
    keep = torch.rand(W.shape, generator=generator) >= p
    return W * keep / (1 - p)


def _matrix() -> torch.Tensor:
    return torch.randn(64, 32, generator=_gen(5)) + 3.0  # no entry near 0: a 0 means dropped


def _dw_shape(fn) -> None:
    W = _matrix()
    got = tensor(fn(W, 0.5, _gen()), "drop_weights")
    same_shape(got, W.shape, "drop_weights of a (64, 32) W")
    if got.dtype != W.dtype:
        raise Failed(f"drop_weights of a float32 W returned {str(got.dtype)[6:]}")


def _dw_zero(fn) -> None:
    W = _matrix()
    close(fn(W, 0.0, _gen()), W, "drop_weights(W, p=0)")


def _dw_one(fn) -> None:
    got = fn(_matrix(), 1.0, _gen())
    finite(got, "drop_weights(W, p=1)", "1 / (1 - p) is 1/0 at p = 1: return zeros there")
    if got.abs().max() != 0:
        raise Failed(f"drop_weights(W, p=1) kept entries: {show(got)}; p is the probability of "
                     "dropping")


def _dw_scaled(fn) -> None:
    W = _matrix()
    got = fn(W, 0.3, _gen())
    kept = got != 0
    if not kept.any():
        raise Failed("drop_weights(W, p=0.3) dropped every entry")
    ratio = (got[kept] / W[kept])
    if not torch.allclose(ratio, torch.full_like(ratio, 1 / 0.7)):
        raise Failed(f"at p = 0.3 kept entries are multiplied by {ratio.mean().item():.4g}, not "
                     "1/(1 - p) = 1.429\nhint: without the scaling the next layer's input "
                     "shrinks by (1 - p) in training but not at test time")


def _dw_fraction(fn) -> None:
    W = _matrix()
    for p in (0.2, 0.7):
        got = fn(W, p, _gen(11))
        dropped = (got == 0).double()
        rate, n = dropped.mean().item(), dropped.numel()
        if abs(rate - p) > 5 * (p * (1 - p) / n) ** 0.5:
            raise Failed(f"at p = {p} it dropped a fraction {rate:.3f} of the entries"
                         + ("\nhint: p is the probability of dropping, not of keeping"
                            if abs(rate - (1 - p)) < 0.05 else ""))
        if (dropped.std(dim=0).max() == 0 and dropped.mean(dim=0).min() in (0, 1)) or \
                (dropped.std(dim=1) == 0).all():
            raise Failed(f"at p = {p} whole rows or columns are dropped together: that is "
                         "dropout of units; drop each weight on its own")


def _dw_fresh(fn) -> None:
    g = _gen(2)
    W = _matrix()
    if torch.equal(fn(W, 0.5, g), fn(W, 0.5, g)):
        raise Failed("two calls with one generator dropped the same entries: draw a new mask "
                     "every call, from the generator given")


DROP_WEIGHTS = Checking((
    Property("shape and dtype", _dw_shape),
    Property("p = 0 keeps W", _dw_zero),
    Property("p = 1 gives zeros", _dw_one),
    Property("kept entries are scaled by 1/(1 - p)", _dw_scaled),
    Property("a fraction p dropped, entry by entry", _dw_fraction),
    Property("a fresh mask every call", _dw_fresh),
), drop_weights_reference)


# ---- a noise layer: unbiased noise while training, none at test time

def noise_reference(X: torch.Tensor, p: float, training: bool,
                    generator: torch.Generator) -> torch.Tensor:
    """Multiplicative Gaussian noise: ``X (1 + e)``, e ~ N(0, p / (1 - p)), in training only."""
    if not training or p == 0:
        return X
    e = torch.randn(X.shape, generator=generator, dtype=X.dtype) * (p / (1 - p)) ** 0.5
    return X * (1 + e)


def _activations() -> torch.Tensor:
    return torch.rand(16, 8, generator=_gen(9)) * 4 + 0.5


def _nl_shape(fn) -> None:
    X = _activations()
    got = tensor(fn(X, 0.5, True, _gen()), "noise")
    same_shape(got, X.shape, "noise of a (16, 8) X")
    if got.dtype != X.dtype:
        raise Failed(f"noise of a float32 X returned {str(got.dtype)[6:]}")


def _nl_test_time(fn) -> None:
    X = _activations()
    close(fn(X, 0.5, False, _gen()), X, "noise(X, p=0.5, training=False)",
          hint="at test time the layer must pass its input through unchanged")


def _nl_zero(fn) -> None:
    X = _activations()
    close(fn(X, 0.0, True, _gen()), X, "noise(X, p=0, training=True)")


def _nl_noisy(fn) -> None:
    X = _activations()
    if torch.equal(fn(X, 0.5, True, _gen()), X):
        raise Failed("noise(X, p=0.5, training=True) returned X unchanged: no noise")


def _nl_unbiased(fn) -> None:
    X = _activations()
    g = _gen(4)
    draws = torch.stack([fn(X, 0.5, True, g) for _ in range(4000)]).double()
    mean, error = draws.mean(0), draws.std(0) / 4000 ** 0.5
    worst = ((mean - X) / error.clamp_min(1e-12)).abs().max().item()
    if worst > 5:
        ratio = (mean / X).mean().item()
        raise Failed(f"over 4000 draws at p = 0.5 the mean output is {ratio:.3f} times the "
                     f"input ({worst:.0f} standard errors off)\nhint: rescale so that the "
                     "expected output equals the input, as dropout divides by 1 - p")


NOISE = Checking((
    Property("shape and dtype", _nl_shape),
    Property("off at test time", _nl_test_time),
    Property("p = 0 keeps X", _nl_zero),
    Property("noisy while training", _nl_noisy),
    Property("unbiased: the mean output is X", _nl_unbiased),
), noise_reference)
