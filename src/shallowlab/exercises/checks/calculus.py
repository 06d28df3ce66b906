"""Checks of derivatives and graphs: the chain rule, forward and backward mode, activations'
derivatives, linear layers composed, a ReLU net's pieces, backpropagation with a bias."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shallowlab.exercises.checks import check

F64 = torch.float64


def _grid(n: int = 201, low: float = -6.0, high: float = 6.0) -> torch.Tensor:
    return torch.linspace(low, high, n, dtype=F64)


def _f(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x**2) * torch.sin(x) + 1 / x


def _paths(node, leaf) -> int:
    """The number of paths from ``node`` back to the AccumulateGrad node of ``leaf``."""
    if node is None:
        return 0
    if getattr(node, "variable", None) is leaf:
        return 1
    return sum(_paths(child, leaf) for child, _ in node.next_functions)


@check("graph-paths", "x reaches f = log(x^2) sin x + 1/x along three paths")
def graph_paths():
    x = torch.tensor(1.5, dtype=F64, requires_grad=True)
    paths = _paths(_f(x).grad_fn, x)
    return paths == 3, f"{paths} paths from f back to x in PyTorch's recorded graph"


def _nonzero_x() -> torch.Tensor:
    x = torch.cat([_grid(100, -6, -0.3), _grid(100, 0.3, 6)])
    return x.requires_grad_()


@check("chain-rule", "df/dx = 2 sin(x)/x + log(x^2) cos x - 1/x^2")
def chain_rule():
    x = _nonzero_x()
    (auto,) = torch.autograd.grad(_f(x).sum(), x)
    x = x.detach()
    worked = 2 * torch.sin(x) / x + torch.log(x**2) * torch.cos(x) - 1 / x**2
    err = ((auto - worked).abs() / worked.abs().clamp_min(1)).max().item()
    return err < 1e-12, f"largest relative difference from autograd over 200 points: {err:.1e}"


@check("forward-backward", "forward and backward differentiation give the same derivative")
def forward_backward():
    x = _nonzero_x().detach()
    u, du = x**2, 2 * x  # forward: a tangent carried along from dx = 1, as the answer goes
    v, dv = torch.log(u), du / u
    s, ds = torch.sin(x), torch.cos(x)
    forward = dv * s + v * ds - 1 / x**2
    p_bar = r_bar = 1.0  # backward: adjoints from f = p + r back to x
    v_bar, s_bar = s * p_bar, v * p_bar
    u_bar = v_bar / u
    backward = u_bar * 2 * x + s_bar * torch.cos(x) - r_bar / x**2
    leaf = x.clone().requires_grad_()
    (auto,) = torch.autograd.grad(_f(leaf).sum(), leaf)
    worst = max((forward - auto).abs().max().item(), (backward - auto).abs().max().item())
    return worst < 1e-10, (f"the forward tangents and the backward adjoints, both by hand, "
                           f"agree with autograd to {worst:.1e} at 200 points")


@check("prelu-derivative", "pReLU'(x) = 1 for x > 0, alpha for x < 0; d/dalpha = min(0, x)")
def prelu_derivative():
    x = torch.cat([_grid(50, -3, -0.1), _grid(50, 0.1, 3)]).requires_grad_()
    alpha = torch.tensor([0.25], dtype=F64, requires_grad=True)
    dx, dalpha = torch.autograd.grad(F.prelu(x, alpha).sum(), (x, alpha))
    x = x.detach()
    ok = torch.equal(dx, torch.where(x > 0, 1.0, 0.25).to(F64)) and \
        torch.isclose(dalpha, x.clamp_max(0).sum()).all()
    return ok, "autograd's derivatives in x and in alpha equal the worked ones at 100 points"


@check("swish-derivative", "d/dx x s(bx) = s(bx) + b x s(bx) (1 - s(bx))")
def swish_derivative():
    worst = 0.0
    for beta in (0.5, 1.0, 2.0):
        x = _grid().requires_grad_()
        (auto,) = torch.autograd.grad((x * torch.sigmoid(beta * x)).sum(), x)
        s = torch.sigmoid(beta * x.detach())
        worst = max(worst, (auto - (s + beta * x.detach() * s * (1 - s))).abs().max().item())
    return worst < 1e-14, f"largest difference from autograd for beta 0.5, 1, 2: {worst:.1e}"


@check("tanh-sigmoid", "tanh(x) + 1 = 2 sigmoid(2x)")
def tanh_sigmoid():
    x = _grid(2001, -20, 20)
    worst = (torch.tanh(x) + 1 - 2 * torch.sigmoid(2 * x)).abs().max().item()
    return worst < 1e-15, f"largest difference over 2001 points in [-20, 20]: {worst:.1e}"


@check("tanh-sigmoid-networks", "a tanh network has a sigmoid network computing the same")
def tanh_sigmoid_networks():
    g = torch.Generator().manual_seed(0)
    W1, b1 = torch.randn(8, 3, generator=g, dtype=F64), torch.randn(8, generator=g, dtype=F64)
    W2, b2 = torch.randn(2, 8, generator=g, dtype=F64), torch.randn(2, generator=g, dtype=F64)
    X = torch.randn(100, 3, generator=g, dtype=F64)
    with_tanh = torch.tanh(X @ W1.T + b1) @ W2.T + b2
    with_sigmoid = torch.sigmoid(X @ (2 * W1).T + 2 * b1) @ (2 * W2).T + (b2 - W2.sum(1))
    worst = (with_tanh - with_sigmoid).abs().max().item()
    return worst < 1e-12, f"outputs on 100 inputs differ by at most {worst:.1e}"


@check("sigmoid-vanishing", "sigmoid'(10) = 4.5e-5, and 10 sigmoid layers shrink a gradient "
       "more than 4^10 times")
def sigmoid_vanishing():
    x = torch.tensor(10.0, dtype=F64, requires_grad=True)
    (at_10,) = torch.autograd.grad(torch.sigmoid(x), x)
    z = torch.tensor(0.0, dtype=F64, requires_grad=True)
    h = z
    for _ in range(10):
        h = torch.sigmoid(h)
    (chain,) = torch.autograd.grad(h, z)
    ok = abs(at_10.item() - 4.5398e-5) < 1e-8 and chain.item() < 4.0**-10
    return ok, f"sigmoid'(10) = {at_10.item():.4e}; through 10 sigmoids: {chain.item():.2e}"


@check("relu-piecewise-linear", "a ReLU MLP is continuous and linear between finitely many "
       "kinks")
def relu_piecewise_linear():
    g = torch.Generator().manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                              torch.nn.ReLU(), torch.nn.Linear(16, 1)).double()
    for p in net.parameters():
        p.data = torch.randn(p.shape, generator=g, dtype=F64)
    x = _grid(20001, -4, 4).reshape(-1, 1)
    with torch.no_grad():
        y = net(x).flatten()
    slopes = torch.diff(y) / torch.diff(x.flatten())
    changes = int((torch.diff(slopes).abs() > 1e-6).sum())
    jump = torch.diff(y).abs().max().item()
    ok = 0 < changes <= 2 * 16 * 2 and jump < 0.01
    return ok, (f"on 20001 points in [-4, 4] the slope changes at {changes} places only (each "
                f"kink touches two intervals) and no step exceeds {jump:.1e}: continuous")


@check("linear-depth", "stacked linear layers are one linear map; a width-1 layer makes it "
       "rank 1")
def linear_depth():
    g = torch.Generator().manual_seed(2)
    W1, W2, W3 = (torch.randn(10, 10, generator=g, dtype=F64) for _ in range(3))
    x = torch.randn(10, generator=g, dtype=F64)
    same = torch.allclose(W3 @ (W2 @ (W1 @ x)), (W3 @ W2 @ W1) @ x)
    narrow = torch.randn(10, 1, generator=g, dtype=F64) @ torch.randn(1, 10, generator=g,
                                                                      dtype=F64)
    rank = int(torch.linalg.matrix_rank(narrow))
    return same and rank == 1, f"three layers equal their product; through width 1: rank {rank}"


@check("linear-composition", "W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)")
def linear_composition():
    g = torch.Generator().manual_seed(3)
    W1, b1 = torch.randn(5, 4, generator=g, dtype=F64), torch.randn(5, generator=g, dtype=F64)
    W2, b2 = torch.randn(3, 5, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)
    X = torch.randn(50, 4, generator=g, dtype=F64)
    worst = ((X @ W1.T + b1) @ W2.T + b2 - (X @ (W2 @ W1).T + (W2 @ b1 + b2))).abs().max()
    return worst < 1e-12, f"50 inputs: the two differ by at most {worst.item():.1e}"


@check("gradient-shape", "the gradient with respect to an n x m matrix is n x m")
def gradient_shape():
    X = torch.randn(3, 4, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad((X.sin() * X).sum(), X)
    return grad.shape == X.shape, f"X {tuple(X.shape)}, its gradient {tuple(grad.shape)}"


def _objective(X, y, W1, b1, W2, lambd):
    O = torch.relu(X @ W1.T + b1) @ W2.T
    return F.cross_entropy(O, y) + lambd / 2 * (W1.pow(2).sum() + W2.pow(2).sum())


@check("bias-graph", "W1 and W2 reach J along two paths (loss, penalty), b1 along one")
def bias_graph():
    g = torch.Generator().manual_seed(4)
    W1, b1, W2 = (torch.randn(*s, generator=g, dtype=F64).requires_grad_()
                  for s in ((4, 3), (4,), (2, 4)))
    J = _objective(torch.randn(5, 3, generator=g, dtype=F64), torch.tensor([0, 1, 1, 0, 1]),
                   W1, b1, W2, 0.1)
    counts = [_paths(J.grad_fn, p) for p in (W1, b1, W2)]
    return counts == [2, 1, 2], f"paths from J to W1, b1, W2: {counts}"


@check("backprop-bias", "the worked backward equations equal autograd's gradients")
def backprop_bias():
    from shallowlab.exercises.checkers.backprop import _inputs, backward_reference

    X, y, W1, b1, W2, lambd = _inputs(5)
    leaves = [t.clone().requires_grad_() for t in (W1, b1, W2)]
    auto = torch.autograd.grad(_objective(X, y, *leaves[:2], leaves[2], lambd), leaves)
    worst = max((a - b).abs().max().item() for a, b in
                zip(auto, backward_reference(X, y, W1, b1, W2, lambd)))
    return worst < 1e-12, f"dW1, db1, dW2 differ from autograd's by at most {worst:.1e}"


@check("memory-footprint", "the book's MLP has 203530 parameters; the backward pass keeps at "
       "most n d + 2 n h + n q numbers of activations")
def memory_footprint():
    n, d, h, q = 256, 784, 256, 10
    net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, q))
    params = sum(p.numel() for p in net.parameters())
    own = {p.data_ptr() for p in net.parameters()}
    saved = {}

    def pack(t):
        if t.data_ptr() not in own:
            saved[t.data_ptr()] = t.numel()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(net(torch.randn(n, d)), torch.zeros(n, dtype=torch.long))
    kept, bound = sum(saved.values()), n * d + 2 * n * h + n * q
    ok = params == d * h + h + h * q + q == 203530 and kept <= bound
    return ok, (f"{params} parameters ({4 * params / 1e6:.2f} MB in float32); PyTorch keeps "
                f"{kept} activation numbers ({4 * kept / 1e6:.2f} MB) for the backward pass, "
                f"within the {bound} counted ({4 * bound / 1e6:.2f} MB): ReLU keeps its output, "
                "not z")
