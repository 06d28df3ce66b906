"""Checkers of a covariate shift detector and corrector (en-4.7.2, en-4.7.3).

The detector is given 150 + 150 points in 100 dimensions: with that few examples per
dimension a classifier scored on its own training points "separates" two samples of one
distribution (in-sample accuracy well above 0.5), while held out it scores 0.5 +- 0.04; a
score above 0.66 (4 standard errors) without a shift fails. With every coordinate of the
target shifted by 0.5 (the means 5 apart) a held-out score must reach 0.75.

The corrector is given a source N(0, I) and a target N((1, 0), I) in 2 dimensions, 1000
points each, where the true weight is p_t(x) / p_s(x) = exp(x_1 - 1/2). Reweighted by its
weights, the source's mean of x_1 must come within 0.25 of the target's (1; unweighted it is
0).
"""

from __future__ import annotations

import torch

from shallowlab.exercises.checkers.harness import Checking, Failed, Property, tensor


def _logistic(X: torch.Tensor, t: torch.Tensor, steps: int = 500, lr: float = 0.5,
              lambd: float = 1e-2) -> torch.Tensor:
    """Weights (with the bias last) of L2-regularised logistic regression, by gradient descent
    on ``mean log(1 + exp(-s (X w))) + lambd/2 ||w||^2``, s = +-1."""
    X1 = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    w = torch.zeros(X1.shape[1], dtype=X.dtype)
    for _ in range(steps):
        p = torch.sigmoid(X1 @ w)
        w -= lr * (X1.T @ (p - t) / len(X) + lambd * w)
    return w


def _with_bias(X: torch.Tensor) -> torch.Tensor:
    return torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)


def detector_reference(source: torch.Tensor, target: torch.Tensor) -> float:
    """Held-out accuracy of logistic regression telling target (1) from source (0)."""
    X = torch.cat([source, target]).double()
    t = torch.cat([torch.zeros(len(source)), torch.ones(len(target))]).double()
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    train, test = order[: len(X) // 2], order[len(X) // 2:]
    w = _logistic(X[train], t[train])
    return ((_with_bias(X[test]) @ w > 0).double() == t[test]).double().mean().item()


def weights_reference(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``beta = exp(logit(P(target | x)))`` scaled for the sample sizes, then to mean 1."""
    X = torch.cat([source, target]).double()
    t = torch.cat([torch.zeros(len(source)), torch.ones(len(target))]).double()
    w = _logistic(X, t)
    beta = torch.exp(_with_bias(source.double()) @ w) * len(source) / len(target)
    return beta / beta.mean()


def _samples(shift: float, n: int, d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    source = torch.randn(n, d, generator=g)
    target = torch.randn(n, d, generator=g)
    return source, target + shift


def _score(fn, shift: float, seed: int) -> float:
    got = fn(*_samples(shift, 150, 100, seed))
    try:
        return float(got)
    except (TypeError, ValueError):
        raise Failed(f"shift_score returned {type(got).__name__}, not a number") from None


def _range(fn) -> None:
    for shift in (0.0, 0.5):
        score = _score(fn, shift, 1)
        if not 0 <= score <= 1:
            raise Failed(f"shift_score gave {score:.4g} for a shift of {shift}: want a score "
                         "from 0 to 1 (an accuracy or an AUC)")


def _no_shift(fn) -> None:
    score = _score(fn, 0.0, 2)
    if score > 0.66:
        raise Failed(f"two samples of one distribution (150 + 150 points in 100 dimensions) "
                     f"score {score:.3f}\nhint: score the classifier on examples it was not "
                     "trained on; on its own training points it separates any two samples")


def _shift(fn) -> None:
    score = _score(fn, 0.5, 3)
    if score < 0.75:
        raise Failed(f"a target shifted by 0.5 in each of 100 dimensions scores {score:.3f}, "
                     "under 0.75" + ("\nhint: is it 1 - accuracy?" if score < 0.25 else ""))


DETECTOR = Checking((
    Property("a number from 0 to 1", _range),
    Property("about 0.5 without a shift", _no_shift),
    Property("high with a shift", _shift),
), detector_reference)


def _weights(fn) -> tuple[torch.Tensor, torch.Tensor]:
    source, target = _samples(0.0, 1000, 2, 4)
    target[:, 0] += 1.0
    return source, tensor(fn(source, target), "shift_weights").double().flatten()


def _positive(fn) -> None:
    source, beta = _weights(fn)
    if len(beta) != len(source):
        raise Failed(f"{len(beta)} weights for {len(source)} source examples")
    if not torch.isfinite(beta).all() or (beta <= 0).any():
        raise Failed(f"weights should be positive and finite; the smallest is {beta.min():.3g}")
    if abs(beta.mean().item() - 1) > 0.05:
        raise Failed(f"the weights average {beta.mean().item():.3f}, not 1\nhint: "
                     "P(target | x) alone is not the ratio: use h / (1 - h), then normalise")


def _mean(fn) -> None:
    source, beta = _weights(fn)
    got = (beta * source[:, 0].double()).sum().item() / beta.sum().item()
    if abs(got - 1.0) > 0.25:
        raise Failed(f"reweighted, the source's mean of x_1 is {got:.3f}; the target's is 1 "
                     "(unweighted, the source's is 0)")


def _direction(fn) -> None:
    source, beta = _weights(fn)
    if torch.corrcoef(torch.stack([beta, source[:, 0].double()]))[0, 1] <= 0:
        raise Failed("the weights shrink towards the target (x_1 large): the ratio is upside "
                     "down, p_target / p_source is wanted")


WEIGHTS = Checking((
    Property("one positive weight per source example, averaging 1", _positive),
    Property("the weights grow towards the target", _direction),
    Property("the reweighted source has the target's mean", _mean),
), weights_reference)
