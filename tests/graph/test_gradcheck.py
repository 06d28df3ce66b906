"""``shallowlab.graph.gradcheck``: every function of the scratch track passes, the fused step's
update is the finite-difference gradient, and a wrong backward is caught and named."""

import pytest
import torch
from torch import nn
from torch.func import functional_call

from shallowlab.core.fused import FusedStep
from shallowlab.graph import finite_differences, gradcheck
from shallowlab.models import scratch

F64 = torch.float64


def _data(seed: int = 0, n: int = 6, d: int = 5, q: int = 4):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=F64), torch.randint(q, (n,), generator=g),
            torch.randn(n, 1, generator=g, dtype=F64), g)


def _params(model) -> list[torch.Tensor]:
    return [p.detach().to(F64) for p in model.parameters()]


def _mlp_loss(model, X, y, dropout_seed=None):
    """The model's mean cross-entropy as a function of its parameters and inputs; with
    ``dropout_seed`` the same dropout mask at every call, from a forked global RNG."""
    def loss(X, *params):
        model.weights, model.biases = list(params[0::2]), list(params[1::2])
        with torch.random.fork_rng():
            if dropout_seed is not None:
                torch.manual_seed(dropout_seed)
            return scratch.cross_entropy(model(X), y).mean()
    return loss


def _cases():
    X, y, Y, g = _data()
    O = 3 * torch.randn(6, 4, generator=g, dtype=F64)
    w, b = torch.randn(5, 1, generator=g, dtype=F64), torch.randn(1, generator=g, dtype=F64)
    mask = lambda: torch.Generator().manual_seed(7)  # noqa: E731  one mask, every call
    linear = scratch.LinearRegression(5, 1, std=0.5, generator=g)
    softmax = scratch.SoftmaxRegression(5, 4, std=0.5, generator=g)
    mlp = scratch.MLP(5, (4, 3), 4, dropout=(0.5, 0.2), std=0.5, generator=g)
    mlp_eval = scratch.MLP(5, (4, 3), 4, std=0.5, generator=g).eval()
    model_loss = lambda m: lambda X, W, b: scratch.squared_loss(  # noqa: E731
        linreg_of(m, X, W, b), Y).mean()

    def linreg_of(m, X, W, b):
        m.W, m.b = W, b
        return m(X)

    yield "linreg", lambda X, w, b: scratch.linreg(X, w, b), (X, w, b)
    yield "squared_loss", scratch.squared_loss, (X @ w, Y)
    yield "huber_loss", lambda y_hat: scratch.huber_loss(y_hat, Y, delta=0.5), (2 * X @ w,)
    yield "softmax", scratch.softmax, (O,)
    yield "softmax_book", scratch.softmax_book, (O,)
    yield "log_softmax", scratch.log_softmax, (O,)
    yield "cross_entropy", lambda O: scratch.cross_entropy(O, y), (O,)
    yield "cross_entropy smoothed", lambda O: scratch.cross_entropy(O, y, 0.1), (O,)
    yield "cross_entropy_book", lambda P: scratch.cross_entropy_book(P, y), (
        scratch.softmax(O),)
    yield "relu", scratch.relu, (X,)
    yield "dropout_layer", lambda X: scratch.dropout_layer(X, 0.5, mask()), (X,)
    yield "l2_penalty", scratch.l2_penalty, (w,)
    yield "LinearRegression", model_loss(linear), (X, *_params(linear))
    yield "SoftmaxRegression", lambda X, W, b: scratch.cross_entropy(
        linreg_of(softmax, X, W, b), y).mean(), (X, *_params(softmax))
    yield "MLP", _mlp_loss(mlp_eval, X, y), (X, *_params(mlp_eval))
    yield "MLP with dropout", _mlp_loss(mlp, X, y, dropout_seed=3), (X, *_params(mlp))


CASES = list(_cases())


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_every_scratch_function_passes(name, fn, inputs):
    check = gradcheck(fn, *inputs)
    assert check, str(check)
    floating = [x for x in inputs if x.is_floating_point()]
    assert check.entries == sum(x.numel() for x in floating)
    assert str(check).startswith(f"gradcheck passed: {check.entries} entries agree")


def test_dropout_at_a_fixed_mask_zeroes_and_scales():
    """The dropout case checks a real mask: some entries dropped, the rest scaled by 2."""
    X = _data()[0]
    out = scratch.dropout_layer(X, 0.5, torch.Generator().manual_seed(7))
    kept = out != 0
    assert 0 < kept.sum() < X.numel()
    torch.testing.assert_close(out[kept], 2 * X[kept])


class Cube(torch.autograd.Function):
    """x^3 whose backward says 2 x^2: off by a factor 2/3."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x**2


class Product(torch.autograd.Function):
    """A @ B whose backward hands A the transpose of its gradient."""

    @staticmethod
    def forward(ctx, A, B):
        ctx.save_for_backward(A, B)
        return A @ B

    @staticmethod
    def backward(ctx, G):
        A, B = ctx.saved_tensors
        return (G @ B.T).T, A.T @ G


def test_a_gradient_off_by_a_factor_is_caught_and_named():
    x = torch.tensor([[0.5, -1.0, 0.25], [2.0, -0.75, 1.5]])
    check = gradcheck(lambda x: Cube.apply(x).sum(), x)
    assert not check
    worst = check.worst
    assert (worst.input, worst.index) == ("x", (1, 0))  # the largest x^2: the largest error
    assert worst.numeric == pytest.approx(3 * 2.0**2, rel=1e-8) and worst.autograd == 8.0
    assert str(check) == ("gradcheck failed: input 'x' entry (1, 0): finite differences "
                          f"{worst.numeric:.10g}, autograd 8 (difference "
                          f"{worst.error:.3g}, more than 1e-06 + 1e-05 x |finite "
                          "difference|)")
    assert gradcheck(lambda x: (x**3).sum(), x)  # the same function, autograd's own backward


def test_a_transposed_gradient_is_caught_on_the_right_input():
    g = torch.Generator().manual_seed(1)
    A, B = torch.randn(3, 3, generator=g, dtype=F64), torch.randn(3, 2, generator=g, dtype=F64)
    check = gradcheck(lambda A, B: Product.apply(A, B), A, B)
    assert not check and check.worst.input == "A"
    assert gradcheck(lambda B: Product.apply(A, B), B)  # B's gradient is right
    # the entry it names holds the true gradient of the transposed entry
    v = torch.randn(3, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    true = A.clone().requires_grad_()
    ((true @ B) * v).sum().backward()
    i, j = check.worst.index
    assert i != j and check.worst.autograd == pytest.approx(true.grad[j, i].item(), rel=1e-12)
    assert check.worst.numeric == pytest.approx(true.grad[i, j].item(), rel=1e-6)


def test_float32_inputs_are_checked_in_float64():
    x = torch.randn(4, generator=torch.Generator().manual_seed(2))
    check = gradcheck(lambda x: torch.exp(x).prod(), x)
    assert check and check.worst.error < 1e-8  # float32's rounding would leave 1e-2


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_the_fused_steps_update_is_the_finite_difference_gradient(weight_decay):
    """FusedStep's update, ``p <- p - lr (dL/dp + wd p)``, undone to the gradient it used,
    equals the central-difference gradient of the mean cross-entropy in float64."""
    X, y, _, _ = _data(3, n=8, d=6, q=3)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).to(F64)
    lr, loss_fn = 0.1, nn.CrossEntropyLoss(reduction="none")
    step = FusedStep(model, loss_fn, torch.optim.SGD(model.parameters(), lr=lr,
                                                     weight_decay=weight_decay))
    names = [name for name, _ in model.named_parameters()]
    before = [p.detach().clone() for p in model.parameters()]

    def mean_loss(*params):
        return loss_fn(functional_call(model, dict(zip(names, params)), (X,)), y).mean()

    numeric = finite_differences(mean_loss, *before)
    step.forward(X, y)
    step.update()
    for name, p0, p, fd in zip(names, before, model.parameters(), numeric):
        used = (p0 - p.detach()) / lr - weight_decay * p0
        torch.testing.assert_close(used, fd, rtol=1e-6, atol=1e-9, msg=name)
