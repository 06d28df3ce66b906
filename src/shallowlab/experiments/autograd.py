"""Automatic differentiation, one idea at a time (d2l 2.5; the activations' derivatives of 4.1).

1. Fit ``y = w x`` to (1, 2), (2, 4), (3, 6) by hand. Loss ``L(w) = mean((w x - y)^2)``,
   gradient ``dL/dw = mean(2 x (w x - y)) = 28/3 (w - 2)``, step ``w <- w - lr * dL/dw``.
   Each step multiplies ``w - 2`` by ``1 - 28/3 lr``: any ``lr < 3/14`` converges to ``w = 2``.
2. ``backward`` adds into ``.grad``: two passes without ``grad.zero_()`` give twice the gradient.
3. ``create_graph=True`` records the backward pass too, so it can be differentiated again:
   ``d/dx (d/dx x^3) = d/dx 3x^2 = 6x``.
4. A non-scalar ``y`` backward needs a vector ``v`` and computes ``v^T dy/dx``; ``v = 1`` gives
   the gradient of ``y.sum()``. A backward frees the graph's saved tensors unless
   ``retain_graph=True``, so a second backward through the same graph fails without it.
5. ReLU, sigmoid and tanh, with autograd's derivatives against the closed forms
   ``relu'(x) = 1[x > 0]``, ``sigmoid'(x) = s (1 - s)``, ``tanh'(x) = 1 - tanh(x)^2``.
"""

from __future__ import annotations

import torch

from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import plots

TITLE = title("autograd")
X = torch.tensor([1.0, 2.0, 3.0])
Y = 2 * X


def mse(w: torch.Tensor) -> torch.Tensor:
    return ((w * X - Y) ** 2).mean()


def fit(config: dict, log) -> dict:
    """Gradient descent on ``w`` with nothing but ``backward`` and an in-place update."""
    generator = torch.Generator().manual_seed(config["seed"])
    w = torch.randn(1, generator=generator).requires_grad_()
    before = 4 * w.item()
    log(f"start: w = {w.item():.6f}, prediction at x = 4: {before:.4f} (want 8)")
    for step in range(1, config["epochs"] + 1):
        loss = mse(w)
        loss.backward()
        if step == 1:
            analytic = (2 * X * (w.detach() * X - Y)).mean().item()
            first = {"first_grad_autograd": w.grad.item(), "first_grad_analytic": analytic}
            log(f"first step: autograd dL/dw = {w.grad.item():.6f}, "
                f"analytic mean(2 x (w x - y)) = {analytic:.6f}")
        log(f"step {step:3d}  w {w.item():.6f}  loss {loss.item():.4e}  "
            f"grad {w.grad.item():+.4e}")
        with torch.no_grad():  # the update itself must not become part of the graph
            w -= config["lr"] * w.grad
        w.grad.zero_()  # or the next backward adds to this gradient (see accumulation)
    after = 4 * w.item()
    log(f"after {config['epochs']} steps: w = {w.item():.6f}, prediction at x = 4: {after:.4f}")
    return {"w": w.item(), "final_loss": mse(w).item(), "prediction_at_4_before": before,
            "prediction_at_4_after": after, **first}


def accumulation(log) -> float:
    """The ratio of ``w.grad`` after two backward passes to after one: 2."""
    w = torch.tensor([1.0], requires_grad=True)
    mse(w).backward()
    once = w.grad.item()
    mse(w).backward()
    twice = w.grad.item()
    log(f"gradients accumulate: grad after one backward {once:+.4f}, after a second one "
        f"without zero_() {twice:+.4f} ({twice / once:g} times)")
    return twice / once


def second_derivative(log) -> float:
    """The largest ``|d2/dx2 x^3 - 6x|`` at a few points."""
    x = torch.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], requires_grad=True)
    # x^3 acts elementwise, so the gradient of the sum holds each point's derivative
    (dy,) = torch.autograd.grad((x**3).sum(), x, create_graph=True)  # 3x^2, still a graph
    (d2y,) = torch.autograd.grad(dy.sum(), x)
    for xi, d2, exact in zip(x.tolist(), d2y.tolist(), (6 * x).tolist()):
        log(f"d2/dx2 x^3 at x = {xi:+.1f}: autograd {d2:+.4f}, 6x = {exact:+.4f}")
    return (d2y - 6 * x.detach()).abs().max().item()


def retain_graph(log) -> dict:
    """Backward of a vector ``y = x * x``: twice with ``retain_graph``, once without."""
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    y.backward(torch.ones_like(y), retain_graph=True)
    y.backward(torch.ones_like(y))
    log(f"y = x * x at x = {x.tolist()}: two backward passes, the first with "
        f"retain_graph=True, leave grad {x.grad.tolist()} = 2 * 2x")
    twice = x.grad.tolist()
    x.grad = None
    y = x * x
    y.backward(torch.ones_like(y))
    try:
        y.backward(torch.ones_like(y))
        raised = False
    except RuntimeError as e:
        raised = True
        message = " ".join(str(e).split())  # torch's message, on one line
        log(f"without retain_graph a second backward raises RuntimeError: {message}")
    x.grad = None
    (x * x).sum().backward()
    by_sum, x.grad = x.grad, None
    (x * x).backward(torch.ones_like(x))
    same = torch.equal(by_sum, x.grad)
    log(f"y.sum().backward() gives {by_sum.tolist()}, y.backward(ones) gives {x.grad.tolist()}")
    return {"retained_grad": twice, "second_backward_raised": raised, "sum_equals_ones": same}


ACTIVATIONS = {  # name: (function, closed-form derivative from x and y = function(x))
    "relu": (torch.relu, lambda x, y: (x > 0).to(x.dtype)),  # relu'(0) taken as 0, as torch does
    "sigmoid": (torch.sigmoid, lambda x, y: y * (1 - y)),
    "tanh": (torch.tanh, lambda x, y: 1 - y**2),
}


def activations(run_dir, log) -> float:
    """Draw each activation and its autograd derivative; the largest gap to the closed form."""
    x = (torch.arange(-160, 161) / 20).requires_grad_()  # -8 to 8 by 0.05, 0 exactly
    curves, worst = {}, 0.0
    for name, (f, closed) in ACTIVATIONS.items():
        y = f(x)
        (dy,) = torch.autograd.grad(y.sum(), x)
        error = (dy - closed(x.detach(), y.detach())).abs().max().item()
        log(f"{name}: max |autograd derivative - closed form| = {error:.1e}")
        curves[name], worst = (y.detach(), dy), max(worst, error)
    run_dir.save_figure("activations.png", plots.activations, x, curves)
    return worst


def run(config: dict, run_dir, log) -> dict:
    summary = fit(config, log)
    summary["grad_accumulation_ratio"] = accumulation(log)
    summary["second_derivative_max_error"] = second_derivative(log)
    summary.update(retain_graph(log))
    summary["activation_derivative_max_error"] = activations(run_dir, log)
    return summary


QUESTION = ("Do autograd's gradients equal the ones calculus gives, so that a descent "
            "on them fits y = 2x?")


def answer(s: dict) -> str:
    return (f"Yes: the first gradient was {s['first_grad_autograd']:.4f} by autograd and "
            f"{s['first_grad_analytic']:.4f} by hand; the descent took w to {s['w']:.4f} "
            f"(target 2) and the prediction at x = 4 from {s['prediction_at_4_before']:.2f} to "
            f"{s['prediction_at_4_after']:.2f} (target 8).")


EXPERIMENT = Experiment(
    "autograd", TITLE, {"epochs": 20, "lr": 0.05, "seed": 0}, run,
    lesson="Autograd's gradients are the calculus ones: a hand-written descent on them fits "
           "y = 2x, second derivatives come from create_graph, and gradients add up until "
           "zeroed.",
    question=QUESTION, answer=answer)
