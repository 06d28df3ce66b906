"""Checks of softmax, its cross-entropy, log-sum-exp, the soft maximum and minimum,
temperature, and the ranges of exp in each number format."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from shallowlab.exercises.checks import check

F64 = torch.float64


def _logits(seed: int, n: int = 5) -> torch.Tensor:
    return 2 * torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _hessian_form(o: torch.Tensor) -> torch.Tensor:
    p = torch.softmax(o, 0)
    return torch.diag(p) - torch.outer(p, p)


@check("softmax-hessian", "the Hessian of softmax cross-entropy in the logits is "
       "diag(p) - p p^T, whatever the label")
def softmax_hessian():
    o = _logits(0)
    worst = 0.0
    for label in (0, 3):
        H = torch.autograd.functional.hessian(
            lambda z, k=label: F.cross_entropy(z[None], torch.tensor([k])), o)
        worst = max(worst, (H - _hessian_form(o)).abs().max().item())
    return worst < 1e-12, f"autograd's Hessian for labels 0 and 3 differs by {worst:.1e}"


@check("softmax-covariance", "a one-hot label drawn from softmax(o) has covariance "
       "diag(p) - p p^T")
def softmax_covariance():
    o = _logits(1, 4)
    p = torch.softmax(o, 0)
    n = 200_000
    draws = torch.multinomial(p, n, replacement=True, generator=torch.Generator().manual_seed(1))
    Y = F.one_hot(draws, 4).to(F64)
    cov = torch.cov(Y.T)
    worst = (cov - _hessian_form(o)).abs().max().item()
    return worst < 5 * 0.5 / math.sqrt(n), (f"over {n} draws the sample covariance is within "
                                            f"{worst:.1e} of diag(p) - p p^T")


@check("bradley-terry", "softmax of two scores is the logistic function of their difference, "
       "increasing, above 1/2 for the larger score")
def bradley_terry():
    a = torch.linspace(-5, 5, 101, dtype=F64)
    b = torch.tensor(0.7, dtype=F64)
    p = torch.softmax(torch.stack([a, b.expand_as(a)]), 0)[0]
    ok = torch.allclose(p, torch.sigmoid(a - b)) and bool((torch.diff(p) > 0).all()) \
        and torch.equal(p > 0.5, a > b)
    return ok, "on 101 scores against 0.7: equal to sigmoid(a - b), increasing, > 1/2 iff a > b"


def _gap(a: torch.Tensor, b: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
    return torch.logaddexp(lam * a, lam * b) / lam - torch.maximum(a, b)


def _pairs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1000, generator=g, dtype=F64) * 2 - 1, \
        torch.rand(1000, generator=g, dtype=F64) * 2 - 1


@check("real-softmax", "0 < log(e^a + e^b) - max(a, b) <= log 2, equal to log 2 at a = b, "
       "towards 0 as |a - b| grows")
def real_softmax():
    a, b = _pairs(2)
    gap = _gap(a, b)
    far = _gap(torch.tensor(30.0, dtype=F64), torch.tensor(0.0, dtype=F64)).item()
    equal = _gap(torch.tensor(1.0, dtype=F64), torch.tensor(1.0, dtype=F64)).item()
    ok = bool((gap > 0).all() and (gap <= math.log(2) + 1e-15).all()) and \
        abs(equal - math.log(2)) < 1e-15 and 0 < far < 1e-12
    return ok, (f"1000 random pairs in [-1, 1]: gaps from {gap.min().item():.3g} to "
                f"{gap.max().item():.3g}; at a = b {equal:.6f}; at a - b = 30 {far:.1e}")


@check("real-softmax-scaled", "log(e^(la) + e^(lb))/l - max(a, b) = log(1 + e^(-l|a - b|))/l, "
       "in (0, log(2)/l], so it tends to max(a, b)")
def real_softmax_scaled():
    a, b = _pairs(3)
    ok, widest = True, []
    for lam in (0.1, 1.0, 10.0, 100.0):
        gap, bound = _gap(a, b, lam), math.log(2) / lam
        worked = torch.log1p(torch.exp(-lam * (a - b).abs())) / lam  # > 0, exactly computed
        ok &= bool((gap - worked).abs().max() < 1e-13 and (worked > 0).all()
                   and (worked <= bound * (1 + 1e-12)).all())
        widest.append(f"{gap.max().item():.3g} <= {bound:.3g}")
    return ok, (f"1000 pairs: equal to log(1 + e^(-l|a - b|))/l to rounding; largest gaps at "
                f"lambda 0.1, 1, 10, 100: {', '.join(widest)}")


@check("soft-min", "-log(e^(-la) + e^(-lb))/l lies within log(2)/l below min(a, b)")
def soft_min():
    a, b = _pairs(4)
    ok = True
    for lam in (0.5, 5.0, 50.0):
        below = torch.minimum(a, b) + torch.logaddexp(-lam * a, -lam * b) / lam
        ok &= bool((below > -1e-15).all() and (below <= math.log(2) / lam * (1 + 1e-12)).all())
    return ok, ("1000 pairs at lambda 0.5, 5, 50: min minus softmin is in (0, log(2)/lambda], "
                "to rounding")


@check("logsumexp-bounds", "max x < log sum e^x <= max x + log n")
def logsumexp_bounds():
    X = 3 * torch.randn(1000, 7, generator=torch.Generator().manual_seed(5), dtype=F64)
    gap = torch.logsumexp(X, 1) - X.max(1).values
    ok = bool((gap > 0).all() and (gap <= math.log(7) + 1e-12).all())
    return ok, f"1000 vectors of 7: the gap ranges over [{gap.min():.3g}, {gap.max():.3g}]"


@check("logsumexp-convex", "the Hessian of log sum e^x is diag(p) - p p^T, positive "
       "semidefinite")
def logsumexp_convex():
    worst, lowest = 0.0, float("inf")
    for seed in range(5):
        x = _logits(10 + seed, 6)
        H = torch.autograd.functional.hessian(lambda z: torch.logsumexp(z, 0), x)
        worst = max(worst, (H - _hessian_form(x)).abs().max().item())
        lowest = min(lowest, torch.linalg.eigvalsh(H).min().item())
    return worst < 1e-12 and lowest > -1e-12, (f"5 points: Hessian within {worst:.1e} of the "
                                                f"form, smallest eigenvalue {lowest:.1e}")


@check("logsumexp-shift", "g(x + b) = g(x) + b, and the softmax does not change")
def logsumexp_shift():
    x = _logits(6)
    worst = max(abs((torch.logsumexp(x + b, 0) - torch.logsumexp(x, 0) - b).item())
                + (torch.softmax(x + b, 0) - torch.softmax(x, 0)).abs().max().item()
                for b in (-50.0, -1.0, 3.0, 80.0))
    return worst < 1e-12, f"shifts -50, -1, 3, 80: off by at most {worst:.1e}"


@check("logsumexp-extremes", "log sum exp computed as written overflows to inf above ~88.7 "
       "and underflows to -inf below ~-103 in float32")
def logsumexp_extremes():
    def naive(x):
        return torch.log(torch.exp(x).sum())

    big, small = torch.tensor([100.0, 0.0]), torch.tensor([-110.0, -120.0])
    ok = naive(big).item() == math.inf and naive(small).item() == -math.inf \
        and math.isfinite(torch.logsumexp(big, 0).item()) \
        and math.isfinite(torch.logsumexp(small, 0).item()) \
        and math.isfinite(torch.exp(torch.tensor(88.7)).item()) \
        and torch.exp(torch.tensor(88.8)).item() == math.inf
    return ok, (f"float32: as written {naive(big).item()} and {naive(small).item()}; the true "
                f"values {torch.logsumexp(big, 0).item():.4f} and "
                f"{torch.logsumexp(small, 0).item():.4f}; exp(88.7) finite, exp(88.8) inf")


@check("logsumexp-stable", "m + log sum e^(x - m), m = max x, is finite and accurate for any x")
def logsumexp_stable():
    worst = 0.0
    for values in ([1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -1002.0], [0.5, -0.5, 2.0]):
        x = torch.tensor(values)
        m = x.max()
        shifted = m + torch.log(torch.exp(x - m).sum())
        exact = torch.logsumexp(torch.tensor(values, dtype=F64), 0)
        worst = max(worst, abs(shifted.item() - exact.item()) / max(1.0, abs(exact.item())))
    return worst < 1e-6, f"float32 against float64 at +-1000 and near 0: relative error {worst:.1e}"


@check("temperature", "P^alpha, normalised, is the softmax at temperature T / alpha")
def temperature():
    o, T = _logits(7), 1.5
    P = torch.softmax(o / T, 0)
    worst = max((P**a / (P**a).sum() - torch.softmax(o / (T / a), 0)).abs().max().item()
                for a in (0.5, 2.0, 3.0))
    return worst < 1e-14, f"alpha 0.5 (doubled T), 2 (halved), 3: off by {worst:.1e}"


@check("temperature-limits", "as T goes to 0 Q becomes one-hot on the argmax; as T grows, "
       "uniform")
def temperature_limits():
    P = torch.softmax(_logits(8), 0)
    cold, hot = (torch.softmax(alpha * torch.log(P), 0) for alpha in (1000.0, 1e-6))
    one_hot = F.one_hot(P.argmax(), len(P)).to(F64)
    ok = (cold - one_hot).abs().max() < 1e-6 and (hot - 1 / len(P)).abs().max() < 1e-5
    return ok, (f"alpha 1000: {(cold - one_hot).abs().max():.1e} from one-hot; alpha 1e-6: "
                f"{(hot - 1 / len(P)).abs().max():.1e} from uniform")


@check("exp-range", "exp(x) rounds to a finite, nonzero number of a format exactly for x "
       "from log(smallest subnormal / 2) to about log(largest number)")
def exp_range():
    parts, ok = [], True
    for dtype in (torch.float64, torch.float32, torch.bfloat16, torch.float16):
        info = torch.finfo(dtype)
        subnormal = info.smallest_normal * 2.0 ** -(info.bits - _exponent_bits(dtype) - 1)
        top, normal = math.log(info.max), math.log(info.tiny)
        bottom = math.log(subnormal) - math.log(2)
        # exp taken exactly (float64), then rounded to the format: is the value representable?
        inside = torch.exp(torch.tensor([top - 0.01, bottom + 0.01], dtype=F64)).to(dtype)
        outside = torch.exp(torch.tensor([top + 0.01, bottom - 0.01], dtype=F64)).to(dtype)
        ok &= bool(torch.isfinite(inside).all() and (inside > 0).all()
                   and outside[0] == math.inf and outside[1] == 0)
        parts.append(f"{str(dtype)[6:]} from {bottom:.1f} ({normal:.1f} normal) to {top:.2f}")
    return ok, "; ".join(parts)


def _exponent_bits(dtype: torch.dtype) -> int:
    return {torch.float64: 11, torch.float32: 8, torch.bfloat16: 8, torch.float16: 5}[dtype]
