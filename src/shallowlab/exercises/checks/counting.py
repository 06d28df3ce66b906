"""Checks by counting, enumerating and sampling: codes, the validation estimate, Bayes
decisions, sample sizes, a leaked test set, VC dimensions, bounds on a matrix product."""

from __future__ import annotations

import itertools
import math

import torch

from shallowlab.exercises.checks import check

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@check("joint-code", "n outcomes of 3 coded jointly take ceil(n log2 3) bits: 2 bits for one, "
       "1.6 per outcome for five, towards log2 3")
def joint_code():
    per = {n: math.ceil(n * math.log2(3) - 1e-12) / n for n in (1, 2, 5, 12, 100)}
    counted = {n: math.ceil(math.log2(3**n) - 1e-12) for n in (1, 5)}  # bits for 3^n codes
    prefix = (1 + 2 + 2) / 3  # the code 0, 10, 11
    ok = per[1] == 2 and per[5] == 1.6 and counted == {1: 2, 5: 8} and \
        abs(per[100] - math.log2(3)) < 0.01 and abs(prefix - 5 / 3) < 1e-15
    return ok, ("bits per outcome for n = 1, 2, 5, 12, 100: "
                + ", ".join(f"{v:.4g}" for v in per.values())
                + f"; log2 3 = {math.log2(3):.4f}; the prefix code 0, 10, 11 averages 1.667")


@check("ternary-digits", "2 ternary digits carry 0..7, where binary needs 3")
def ternary_digits():
    trits = next(k for k in range(1, 10) if 3**k >= 8)
    bits = next(k for k in range(1, 10) if 2**k >= 8)
    codes = {(i // 3, i % 3) for i in range(8)}
    return trits == 2 and bits == 3 and len(codes) == 8, (f"{trits} trits (9 codes), {bits} "
                                                          "bits; the 8 integers get 8 codes")


def _batch_means(losses: torch.Tensor, b: int) -> list[float]:
    return [chunk.mean().item() for chunk in torch.split(losses, b)]


@check("validation-loss", "L = (b K Lq - (b - r) l_last) / N")
def validation_loss():
    losses = torch.rand(1000, generator=_gen(1), dtype=F64) * 3
    N, b = len(losses), 64
    means = _batch_means(losses, b)
    K, r = len(means), N - (len(means) - 1) * b
    Lq = sum(means) / K
    worked = (b * K * Lq - (b - r) * means[-1]) / N
    gap = abs(worked - losses.mean().item())
    return gap < 1e-12, (f"N = 1000, b = 64 (K = {K}, last batch {r}): exact {losses.mean():.6f},"
                         f" quick {Lq:.6f}, the formula {worked:.6f}")


@check("validation-unbiased", "over random orders the quick estimate averages to the exact "
       "loss")
def validation_unbiased():
    losses = torch.rand(1000, generator=_gen(2), dtype=F64) ** 3 * 5
    g, quick = _gen(3), []
    for _ in range(4000):
        quick.append(sum(_batch_means(losses[torch.randperm(1000, generator=g)], 64)) / 16)
    quick = torch.tensor(quick, dtype=F64)
    error = quick.std().item() / math.sqrt(len(quick))
    off = abs(quick.mean().item() - losses.mean().item())
    return off < 5 * error and quick.std() > 0, (
        f"4000 orders: mean of the quick estimate {quick.mean():.5f}, exact "
        f"{losses.mean():.5f} ({off / error:.1f} standard errors); one order is off by up to "
        f"{(quick - losses.mean()).abs().max():.4f}")


@check("bayes-decision", "the least expected loss picks y'; under the 0-1 loss the most "
       "probable class")
def bayes_decision():
    g = torch.Generator().manual_seed(4)
    agree = True
    for _ in range(200):
        p = torch.softmax(torch.randn(5, generator=g, dtype=F64), 0)
        loss = torch.rand(5, 5, generator=g, dtype=F64)  # loss[y, y']
        risk = [sum(loss[y, c] * p[y] for y in range(5)) for c in range(5)]
        best = min(range(5), key=lambda c: risk[c])
        agree &= best == int((p @ loss).argmin())
        zero_one = 1 - torch.eye(5, dtype=F64)
        agree &= int((p @ zero_one).argmin()) == int(p.argmax())
    return agree, "200 random posteriors and loss matrices: enumeration and p^T L agree; the " \
        "0-1 loss picks the argmax"


@check("hoeffding", "n >= ln(2/delta) / (2 eps^2) samples: 3.8e8 for eps 1e-4, delta 1e-3")
def hoeffding():
    n = math.ceil(math.log(2 / 1e-3) / (2 * 1e-4**2))
    normal = math.ceil((3.2905 / 1e-4) ** 2 / 4)
    small = math.ceil(math.log(2 / 0.01) / (2 * 0.05**2))  # eps 0.05, delta 0.01
    g = torch.Generator().manual_seed(5)
    estimates = (torch.rand(4000, small, generator=g) < 0.5).double().mean(1)
    miss = ((estimates - 0.5).abs() >= 0.05).double().mean().item()
    ok = 3.7e8 < n < 3.9e8 and miss <= 0.01
    return ok, (f"n = {n:.3e} (Hoeffding), {normal:.3e} (normal, variance 1/4); at eps 0.05, "
                f"delta 0.01: n = {small}, and 4000 simulated estimates missed by 0.05 or more "
                f"{miss:.2%} of the time")


@check("test-set-leak", "n + 1 evaluated models reveal n binary test labels")
def test_set_leak():
    labels = torch.randint(0, 2, (50,), generator=_gen(6))

    def error(prediction: torch.Tensor) -> float:  # all an evaluator returns
        return (prediction != labels).double().mean().item()

    base = torch.zeros(50, dtype=labels.dtype)
    found, base_error = base.clone(), error(base)
    for i in range(50):
        flipped = base.clone()
        flipped[i] = 1
        found[i] = 1 if error(flipped) < base_error else 0
    return torch.equal(found, labels) and error(found) == 0, \
        "51 evaluations of 50 binary labels: all recovered, the error of the last model 0"


@check("vc-polynomial", "degree 5 separates every labelling of 6 points and never has more "
       "than 5 sign changes")
def vc_polynomial():
    x = torch.linspace(-1, 1, 6, dtype=F64)
    V = torch.vander(x, 6, increasing=True)
    every = all(torch.equal(torch.sign(V @ torch.linalg.solve(V, torch.tensor(s, dtype=F64))),
                            torch.tensor(s, dtype=F64))
                for s in itertools.product((-1.0, 1.0), repeat=6))
    seven = torch.linspace(-1, 1, 7, dtype=F64)
    coefficients = torch.randn(20000, 6, generator=_gen(7), dtype=F64)
    signs = torch.sign(torch.vander(seven, 6, increasing=True) @ coefficients.T)
    changes = (signs[1:] != signs[:-1]).sum(0).max().item()
    return every and changes <= 5, (f"all 64 labellings of 6 points realised; 20000 random "
                                    f"degree-5 polynomials change sign at most {changes} times "
                                    "on 7 points (alternating labels need 6)")


def _box_realises(points: torch.Tensor, labels: tuple) -> bool:
    positive = points[torch.tensor(labels, dtype=torch.bool)]
    if len(positive) == 0:
        return True
    low, high = positive.min(0).values, positive.max(0).values
    inside = ((points >= low) & (points <= high)).all(1)
    return torch.equal(inside, torch.tensor(labels, dtype=torch.bool))


@check("vc-rectangles", "axis-aligned rectangles shatter 4 points in a diamond and no 5 points")
def vc_rectangles():
    diamond = torch.tensor([[0, 1], [0, -1], [-1, 0], [1, 0]], dtype=F64)
    four = all(_box_realises(diamond, s) for s in itertools.product((0, 1), repeat=4))
    g, never = _gen(8), True
    for _ in range(300):
        points = torch.randn(5, 2, generator=g, dtype=F64)
        extremes = {int(points[:, 0].argmin()), int(points[:, 0].argmax()),
                    int(points[:, 1].argmin()), int(points[:, 1].argmax())}
        labels = tuple(int(i in extremes) for i in range(5))
        never &= len(extremes) == 5 or not _box_realises(points, labels)
    return four and never, ("all 16 labellings of the diamond realised; in 300 random sets of 5 "
                            "the extremes-only labelling never was")


@check("product-bounds", "s_min(A) s_min(B) <= singular values of AB <= s_max(A) s_max(B); "
       "eigenvalues obey no such bound")
def product_bounds():
    g, ok = _gen(9), True
    for _ in range(100):
        A, B = torch.randn(6, 6, generator=g, dtype=F64), torch.randn(6, 6, generator=g, dtype=F64)
        sa, sb, sab = (torch.linalg.svdvals(M) for M in (A, B, A @ B))
        ok &= bool(sab.min() >= sa.min() * sb.min() * (1 - 1e-9)
                   and sab.max() <= sa.max() * sb.max() * (1 + 1e-9))
    A = torch.tensor([[1.0, 100.0], [0.0, 1.0]], dtype=F64)
    B = A.T.clone()
    top = torch.linalg.eigvals(A @ B).real.max().item()
    return ok and top > 1e4, (f"100 random pairs obey the singular-value bounds; A and B with "
                              f"every eigenvalue 1 have AB with an eigenvalue of {top:.0f}")
