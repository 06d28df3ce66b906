"""Checks of least squares and its relatives: minimisers, likelihoods, rank, SGD's null space,
the Poisson losses, penalties and priors."""

from __future__ import annotations

import math

import torch

from shallowlab.exercises.checks import check

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _data(seed: int, n: int = 40, d: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = _gen(seed)
    X = torch.randn(n, d, generator=g, dtype=F64)
    return X, X @ torch.randn(d, generator=g, dtype=F64) + 0.1 * torch.randn(n, generator=g,
                                                                            dtype=F64)


def _sample(seed: int, n: int = 51) -> torch.Tensor:
    return torch.randn(n, generator=_gen(seed), dtype=F64) * 2 + 1


@check("mean-minimises", "sum (x_i - b)^2 is least at b = mean(x)")
def mean_minimises():
    x = _sample(0)
    b = torch.linspace(x.min(), x.max(), 20001, dtype=F64)
    best = b[((x[None] - b[:, None]) ** 2).sum(1).argmin()]
    step = (b[1] - b[0]).item()
    return abs(best - x.mean()) <= step, (f"on a grid of step {step:.1e} the least sum of "
                                          f"squares is at {best:.5f}; mean {x.mean():.5f}")


@check("gaussian-likelihood", "the Gaussian negative log-likelihood is sum (x - b)^2 / "
       "(2 sigma^2) plus a constant, least at the mean")
def gaussian_likelihood():
    x = _sample(1)
    sigma = 1.7
    nll = [-torch.distributions.Normal(torch.tensor(b, dtype=F64), sigma).log_prob(x).sum().item()
           - ((x - b) ** 2).sum().item() / (2 * sigma**2) for b in (-1.0, 0.3, 2.5)]
    b = x.mean().clone().requires_grad_()
    (slope,) = torch.autograd.grad(-torch.distributions.Normal(b, sigma).log_prob(x).sum(), b)
    ok = max(nll) - min(nll) < 1e-9 and abs(slope.item()) < 1e-10
    return ok, (f"NLL minus the scaled squared loss is {nll[0]:.6f} at three b; its slope at "
                f"the mean is {slope.item():.1e}")


@check("median-minimises", "sum |x_i - b| is least at the median")
def median_minimises():
    x = _sample(2)
    b = torch.linspace(x.min(), x.max(), 20001, dtype=F64)
    best = b[(x[None] - b[:, None]).abs().sum(1).argmin()]
    step = (b[1] - b[0]).item()
    return abs(best - x.median()) <= step, (f"least sum of distances at {best:.5f}; median "
                                            f"{x.median():.5f} (mean {x.mean():.5f})")


@check("affine-as-linear", "x^T w + b = [x; 1]^T [w; b]")
def affine_as_linear():
    X, _ = _data(3)
    w, b = torch.randn(3, generator=_gen(30), dtype=F64), 0.7
    ones = torch.ones(len(X), 1, dtype=F64)
    worst = (X @ w + b - torch.cat([X, ones], 1) @ torch.cat([w, torch.tensor([b], dtype=F64)]))
    return worst.abs().max() < 1e-14, f"40 inputs agree to {worst.abs().max():.1e}"


def _collinear(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    X, y = _data(seed)
    X = torch.cat([X, X[:, :1] + X[:, 1:2]], 1)  # the fourth column is the first two's sum
    v = torch.tensor([1.0, 1.0, 0.0, -1.0], dtype=F64)  # X v = 0
    return X, y, v


@check("rank-deficient", "with collinear features X^T X is singular and many w reach the "
       "least loss")
def rank_deficient():
    X, y, v = _collinear(4)
    w = torch.linalg.pinv(X) @ y
    rank = int(torch.linalg.matrix_rank(X.T @ X))
    losses = [((X @ (w + c * v) - y) ** 2).sum().item() for c in (0.0, 5.0, -100.0)]
    ok = rank == 3 and max(losses) - min(losses) < 1e-8
    return ok, (f"X^T X (4 x 4) has rank {rank}; w, w + 5v and w - 100v all have loss "
                f"{losses[0]:.6f}")


@check("noise-full-rank", "small noise on X makes X^T X full rank; ridge always solves")
def noise_full_rank():
    X, y, _ = _collinear(5)
    noisy = X + 1e-3 * torch.randn(X.shape, generator=_gen(50), dtype=F64)
    ridge = X.T @ X + 1e-2 * torch.eye(4, dtype=F64)
    ranks = [int(torch.linalg.matrix_rank(M)) for M in (X.T @ X, noisy.T @ noisy, ridge)]
    return ranks == [3, 4, 4], f"ranks: X^T X {ranks[0]}, with noise {ranks[1]}, ridge {ranks[2]}"


@check("noisy-design-mean", "E[(X + E)^T (X + E)] = X^T X + n sigma^2 I")
def noisy_design_mean():
    X, _ = _data(6, n=5)
    sigma, draws = 0.5, 20000
    E = sigma * torch.randn(draws, *X.shape, generator=_gen(60), dtype=F64)
    G = (X + E).transpose(1, 2) @ (X + E)
    mean, error = G.mean(0), G.std(0) / math.sqrt(draws)
    want = X.T @ X + len(X) * sigma**2 * torch.eye(3, dtype=F64)
    worst = ((mean - want).abs() / error).max().item()
    return worst < 5, f"{draws} draws: every entry within {worst:.1f} standard errors"


@check("sgd-null-space", "SGD never changes w along the null space of X; from 0 it finds "
       "the minimum-norm solution")
def sgd_null_space():
    X, y, v = _collinear(7)
    v = v / v.norm()
    found = []
    for start in (torch.zeros(4, dtype=F64), torch.randn(4, generator=_gen(70), dtype=F64)):
        w, g = start.clone(), _gen(71)
        for _ in range(3000):
            batch = torch.randint(0, len(X), (8,), generator=g)
            w -= 0.02 * X[batch].T @ (X[batch] @ w - y[batch]) / 8
        found.append((w @ v - start @ v).abs().item())
    w0 = torch.zeros(4, dtype=F64)
    for _ in range(3000):
        w0 -= 0.02 * X.T @ (X @ w0 - y) / len(X)
    gap = (w0 - torch.linalg.pinv(X) @ y).abs().max().item()
    ok = max(found) < 1e-12 and gap < 1e-6
    return ok, (f"the null-space part moved by {max(found):.1e} in 3000 steps; from 0, "
                f"{gap:.1e} from the pseudo-inverse solution")


@check("laplace-likelihood", "-log P(y | X) = n log 2 + sum |residual| for Laplace noise")
def laplace_likelihood():
    r = torch.randn(30, generator=_gen(8), dtype=F64) * 3
    nll = -torch.distributions.Laplace(torch.tensor(0.0, dtype=F64), 1.0).log_prob(r).sum().item()
    worked = 30 * math.log(2) + r.abs().sum().item()
    return abs(nll - worked) < 1e-10, f"{nll:.6f} by torch.distributions, {worked:.6f} worked"


@check("l1-sgd", "SGD on an absolute loss keeps jumping with a constant rate and settles "
       "with a decaying one")
def l1_sgd():
    x = _sample(9, 201)
    median, spread = x.median().item(), {}
    for name, rate in (("constant", lambda t: 0.1), ("5/t", lambda t: 5.0 / t)):
        b, g, late = 0.0, _gen(90), []
        for t in range(1, 5001):
            i = torch.randint(0, len(x), (1,), generator=g).item()
            b += rate(t) * math.copysign(1.0, x[i].item() - b)
            late += [abs(b - median)] if t > 4800 else []
        spread[name] = sum(late) / len(late)
    ok = spread["constant"] > 5 * spread["5/t"]
    return ok, (f"mean distance to the median over the last 200 of 5000 steps: "
                f"{spread['constant']:.3f} at lr 0.1, {spread['5/t']:.4f} at lr 5/t")


@check("poisson-mean", "sum_k k lambda^k e^-lambda / k! = lambda")
def poisson_mean():
    k = torch.arange(0, 400, dtype=F64)
    worst = max(abs((k * torch.distributions.Poisson(lam).log_prob(k).exp()).sum().item() - lam)
                for lam in (0.5, 3.0, 20.0, 100.0))
    return worst < 1e-10, f"lambda 0.5, 3, 20, 100: the sums differ by at most {worst:.1e}"


@check("poisson-loss", "-log p(k | lambda) = lambda - k log lambda + log k!, least at "
       "lambda = k")
def poisson_loss():
    k = torch.tensor([0.0, 1.0, 4.0, 17.0], dtype=F64)
    lam = torch.tensor([0.3, 2.0, 4.0, 10.0], dtype=F64)
    worked = lam - k * torch.log(lam) + torch.lgamma(k + 1)
    worst = (worked + torch.distributions.Poisson(lam).log_prob(k)).abs().max().item()
    grid = torch.linspace(0.5, 30, 59001, dtype=F64)
    best = grid[(grid - 17 * torch.log(grid)).argmin()].item()
    return worst < 1e-12 and abs(best - 17) < 1e-3, (f"equal to torch.distributions to "
                                                      f"{worst:.1e}; for k = 17 least at "
                                                      f"lambda = {best:.3f}")


@check("poisson-log-loss", "with t = log lambda the loss is e^t - k t, its gradient e^t - k")
def poisson_log_loss():
    t = torch.tensor([-1.0, 0.5, 2.0, 3.0], dtype=F64, requires_grad=True)
    k = torch.tensor([0.0, 3.0, 5.0, 30.0], dtype=F64)
    loss = torch.nn.PoissonNLLLoss(log_input=True, full=False, reduction="sum")(t, k)
    (grad,) = torch.autograd.grad(loss, t)
    t = t.detach()
    ok = abs(loss.item() - (t.exp() - k * t).sum().item()) < 1e-12 and \
        torch.allclose(grad, t.exp() - k)
    return ok, "PoissonNLLLoss(log_input=True) and its autograd gradient equal the worked forms"


@check("matrix-loss", "||y - Xw||^2 = sum_i (y_i - x_i^T w)^2")
def matrix_loss():
    X, y = _data(10)
    w = torch.randn(3, generator=_gen(100), dtype=F64)
    a = ((y - X @ w).norm() ** 2).item()
    b = sum((y[i] - X[i] @ w).item() ** 2 for i in range(len(X)))
    return abs(a - b) < 1e-9, f"{a:.9f} against {b:.9f}"


@check("least-squares-gradient", "grad ||y - Xw||^2 = -2 X^T (y - Xw)")
def least_squares_gradient():
    X, y = _data(11)
    w = torch.randn(3, generator=_gen(110), dtype=F64, requires_grad=True)
    (auto,) = torch.autograd.grad(((y - X @ w) ** 2).sum(), w)
    worst = (auto + 2 * X.T @ (y - X @ w.detach())).abs().max().item()
    return worst < 1e-12, f"autograd's gradient differs by {worst:.1e}"


@check("normal-equations", "w = (X^T X)^-1 X^T y is the least-squares solution")
def normal_equations():
    X, y = _data(12)
    w = torch.linalg.solve(X.T @ X, X.T @ y)
    worst = (w - torch.linalg.lstsq(X, y[:, None]).solution.flatten()).abs().max().item()
    gradient = (2 * X.T @ (X @ w - y)).abs().max().item()
    return worst < 1e-12 and gradient < 1e-10, (f"{worst:.1e} from torch.linalg.lstsq; the "
                                                 f"gradient there is {gradient:.1e}")


@check("sum-vs-mean", "a summed loss at lr / b takes the same step as the mean loss at lr")
def sum_vs_mean():
    X, y = _data(13, n=16)
    steps = []
    for reduce, lr in ((torch.sum, 0.1 / 16), (torch.mean, 0.1)):
        w = torch.zeros(3, dtype=F64, requires_grad=True)
        (grad,) = torch.autograd.grad(reduce((X @ w - y) ** 2 / 2), w)
        steps.append(-lr * grad)
    worst = (steps[0] - steps[1]).abs().max().item()
    return worst < 1e-15, f"the two steps on a batch of 16 differ by {worst:.1e}"


@check("polynomial-exact", "n distinct points fix a polynomial of degree n - 1 exactly")
def polynomial_exact():
    x = torch.tensor([-2.0, -1.2, -0.3, 0.4, 1.1, 2.5], dtype=F64)
    y = torch.randn(6, generator=_gen(14), dtype=F64)
    V = torch.vander(x, 6, increasing=True)
    coefficients = torch.linalg.solve(V, y)
    residual = (V @ coefficients - y).abs().max().item()
    truth = torch.tensor([5.0, 1.2, -1.7, 0.93], dtype=F64)
    fitted = torch.linalg.lstsq(torch.vander(x, 4, increasing=True),
                                (torch.vander(x, 4, increasing=True) @ truth)[:, None])
    error = (fitted.solution.flatten() - truth).abs().max().item()
    return residual < 1e-12 and error < 1e-12, (f"degree 5 through 6 points: residual "
                                                 f"{residual:.1e}; noise-free cubic recovered "
                                                 f"to {error:.1e}")


@check("l1-update", "the L1 penalty's gradient is lambd sign(w): a fixed pull towards 0")
def l1_update():
    w = torch.tensor([-3.0, -0.2, 0.5, 8.0], dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(0.7 * w.abs().sum(), w)
    w = w.detach()
    proximal = torch.sign(w) * (w.abs() - 1.0 * 0.7).clamp_min(0)  # lr 1: a pull of 0.7
    ok = torch.equal(grad, 0.7 * torch.sign(w)) and \
        torch.allclose(proximal, torch.tensor([-2.3, 0.0, 0.0, 7.3], dtype=F64))
    return ok, (f"autograd's gradient of 0.7 sum |w| at w = {w.tolist()}: {grad.tolist()}; a "
                f"proximal step of 0.7 gives {[round(v, 4) for v in proximal.tolist()]}")


@check("frobenius", "||W||_F^2 = tr(W^T W) = tr(W W^T) = sum of squared singular values")
def frobenius():
    W = torch.randn(4, 6, generator=_gen(15), dtype=F64).requires_grad_()
    (grad,) = torch.autograd.grad((W**2).sum(), W)
    W = W.detach()
    values = [(W**2).sum(), torch.trace(W.T @ W), torch.trace(W @ W.T),
              (torch.linalg.svdvals(W) ** 2).sum()]
    spread = (max(values) - min(values)).item()
    return spread < 1e-12 and torch.allclose(grad, 2 * W), (f"four forms agree to {spread:.1e}; "
                                                             "the gradient is 2W")


@check("gaussian-prior", "-log N(w; 0, tau^2 I) = ||w||^2 / (2 tau^2) + const")
def gaussian_prior():
    tau, g = 0.8, _gen(16)
    prior = torch.distributions.Normal(torch.tensor(0.0, dtype=F64), tau)
    consts = [(-prior.log_prob(w).sum()
               - (w**2).sum() / (2 * tau**2)).item()
              for w in (torch.randn(5, generator=g, dtype=F64) * s for s in (0.1, 1.0, 10.0))]
    return max(consts) - min(consts) < 1e-9, (f"the difference is {consts[0]:.6f} for three "
                                               "weight vectors: a constant")
