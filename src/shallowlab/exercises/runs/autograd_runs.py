"""Run answers of the automatic-differentiation exercises (d2l 2.5, 3.2 en).

- ``control-flow``: the section's doubling-then-branch function on a scalar, a vector and a
  matrix. It doubles ``a`` until the norm passes 1000, then keeps it or scales it by 100 by the
  sign of the sum, so ``f(a) = k a`` for one k, and every element's gradient is ``k = f(a) / a``.
- ``newton-sqrt``: sqrt(a) by Newton's iteration ``x <- (x + a / x) / 2`` until the step is
  below 1e-12 x; the loop count depends on a. Autograd through the iterations that ran against
  ``1 / (2 sqrt(a))`` and a central difference ``(s(a + h) - s(a - h)) / 2h``, h = 1e-6 a.
- ``sin-derivative``: d/dx sin x by autograd on [-2 pi, 2 pi], drawn, against cos x.
- ``save-hyperparameters``: the English edition's class B with and without its
  ``save_hyperparameters()`` call, run by the book's own layer (``shallowlab.d2l``) in a child
  process (nothing in the package imports that layer).
"""

from __future__ import annotations

import math
import subprocess
import sys

import torch

from shallowlab.experiments.base import Experiment
from shallowlab.figures import plots

F64 = torch.float64


def doubling(a: torch.Tensor) -> torch.Tensor:
    """Double ``a`` until its norm passes 1000; keep it if its sum is positive, else x100."""
    out = a * 2
    while out.norm() < 1000:
        out = out * 2
    return out if out.sum() > 0 else 100 * out


def control_flow(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    shapes, worst, factors = [(), (5,), (3, 4)], 0.0, []
    for shape in shapes:
        a = torch.randn(shape, generator=g, dtype=F64, requires_grad=True)
        d = doubling(a)
        d.sum().backward()
        k = (d / a).detach()
        worst = max(worst, (a.grad - k).abs().max().item(), (k - k.flatten()[0]).abs().max().item())
        factors.append(k.flatten()[0].item())
        log(f"a of shape {tuple(shape)}: f(a) = {factors[-1]:g} a; a.grad equals f(a)/a")
    vector = torch.randn(5, generator=g, dtype=F64, requires_grad=True)
    try:
        doubling(vector).backward()
        said = "no error"
    except RuntimeError as e:
        said = " ".join(str(e).split())
    log(f"backward() on the vector's output without a gradient: {said}")
    return {"factors": factors, "max_error": worst, "non_scalar": said}


def newton_sqrt_of(a: torch.Tensor) -> tuple[torch.Tensor, int]:
    """sqrt(a) by Newton's iteration, and the number of iterations it took."""
    x, steps = a.clone(), 0
    while True:
        step = (x - a / x) / 2
        x, steps = x - step, steps + 1
        if abs(step.item()) < 1e-12 * abs(x.item()):
            return x, steps


def newton_sqrt(config, run_dir, log):
    rows = []
    for value in (0.01, 2.0, 50.0, 1e4):
        a = torch.tensor(value, dtype=F64, requires_grad=True)
        root, steps = newton_sqrt_of(a)
        (grad,) = torch.autograd.grad(root, a)
        h = 1e-6 * value
        with torch.no_grad():
            central = (newton_sqrt_of(a + h)[0] - newton_sqrt_of(a - h)[0]) / (2 * h)
        exact = 1 / (2 * math.sqrt(value))
        rows.append({"a": value, "steps": steps, "autograd": grad.item(), "exact": exact,
                     "central": central.item()})
        log(f"a = {value:g}: {steps} iterations; d sqrt/da by autograd {grad.item():.10g}, "
            f"exact {exact:.10g}, central difference {central.item():.10g}")
    error = max(abs(r["autograd"] - r["exact"]) / r["exact"] for r in rows)
    return {"rows": rows, "max_relative_error": error,
            "steps": sorted({r["steps"] for r in rows})}


def sin_derivative(config, run_dir, log):
    x = torch.linspace(-2 * math.pi, 2 * math.pi, 401, dtype=F64, requires_grad=True)
    y = torch.sin(x)
    y.sum().backward()
    error = (x.grad - torch.cos(x.detach())).abs().max().item()
    log(f"max |autograd's derivative - cos x| over 401 points: {error:.1e}")
    run_dir.save_figure("sin.png", plots.series_panels, x.detach().tolist(),
                        {"sin x and its derivative": {"sin x": y.detach().tolist(),
                                                      "d/dx sin x (autograd)": x.grad.tolist()}},
                        "x", yscale="linear")
    return {"max_error": error}


CLASS_B = """
from shallowlab import d2l

class B(d2l.HyperParameters):
    def __init__(self, a, b, c):
        {call}
        print('a =', self.a, 'b =', self.b)

try:
    B(a=1, b=2, c=3)
except AttributeError as e:
    print('AttributeError:', e)
"""


def save_hyperparameters(config, run_dir, log):
    said = {}
    for name, call in (("with", "self.save_hyperparameters(ignore=['c'])"), ("without", "pass")):
        done = subprocess.run([sys.executable, "-c", CLASS_B.replace("{call}", call)],
                              capture_output=True, text=True, timeout=300)
        said[name] = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1]
        log(f"{name} save_hyperparameters: {said[name]}")
    return said


def _own(name: str, title: str, run, answer, **defaults) -> Experiment:
    return Experiment(f"exercise-{name}", title, {"seed": 0, **defaults}, run, answer=answer,
                      question=title)


RUNS = {
    "control-flow": _own(
        "control-flow", "the control-flow example on a vector and a matrix", control_flow,
        lambda s: "For a scalar, a 5-vector and a 3x4 matrix, f(a) = k a with k = "
                  + ", ".join(f"{k:g}" for k in s["factors"])
                  + f", and a.grad from d.sum().backward() equals d / a to {s['max_error']:.0e};"
                  f" backward() on the vector output alone raised: {s['non_scalar']}"),
    "newton-sqrt": _own(
        "newton-sqrt", "autograd through Newton's square root", newton_sqrt,
        lambda s: f"Through {'-'.join(map(str, s['steps'][::len(s['steps']) - 1]))} Newton "
                  "iterations (the loop count depends on a), autograd's derivative matches "
                  f"1/(2 sqrt a) to a relative {s['max_relative_error']:.0e} at a = 0.01, 2, "
                  "50 and 10000, as does a central difference."),
    "sin-derivative": _own(
        "sin-derivative", "sin x and its derivative by autograd", sin_derivative,
        lambda s: "Autograd's derivative of sin x over 401 points in [-2 pi, 2 pi] equals "
                  f"cos x to {s['max_error']:.0e} (figure sin.png)."),
    "save-hyperparameters": _own(
        "save-hyperparameters", "class B without save_hyperparameters",
        save_hyperparameters,
        lambda s: f"With the call: {s['with']}; without it: {s['without']}."),
}
