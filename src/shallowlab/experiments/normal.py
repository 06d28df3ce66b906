"""The normal distribution, drawn as the book draws it (d2l 3.1.3).

``p(x) = 1 / sqrt(2 pi sigma^2) exp(-(x - mu)^2 / (2 sigma^2))`` for (mu, sigma) = (0, 1),
(0, 2), (3, 1) on x from -7 to 7 in steps of 0.01. Changing mu shifts the bell, changing sigma
widens and lowers it; each still encloses an area of 1, checked here by the trapezoid rule
``sum_i (p(x_i) + p(x_{i+1})) / 2 * dx`` (the window cuts off 0.05% of the (0, 2) curve's
tails, beyond 3.5 sigma). It is the noise model under which minimising the squared loss is
maximum likelihood.
"""

from __future__ import annotations

import math

import torch

from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons

TITLE = title("normal")
PARAMS = ((0.0, 1.0), (0.0, 2.0), (3.0, 1.0))


def normal(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    """The density ``p(x)`` of N(mu, sigma^2), elementwise (the book's ``normal``)."""
    return torch.exp(-0.5 * ((x - mu) / sigma) ** 2) / math.sqrt(2 * math.pi * sigma**2)


def run(config, run_dir, log):
    x = torch.arange(-7.0, 7.0, 0.01, dtype=torch.float64)
    curves, areas = {}, {}
    for mu, sigma in PARAMS:
        p = normal(x, mu, sigma)
        name = f"mean {mu:g}, std {sigma:g}"
        curves[name], areas[name] = p.tolist(), torch.trapezoid(p, x).item()
        log(f"{name}: peak {p.max().item():.4f} at x = {x[p.argmax()].item():+.2f}, "
            f"area {areas[name]:.5f}")
    run_dir.save_figure("normal.png", lessons.lines, x.tolist(), curves, "x", "p(x)",
                        "normal densities")
    return {"areas": areas, "peaks": {k: max(v) for k, v in curves.items()}}


QUESTION = 'How do the mean and the standard deviation shape the normal density?'


def answer(s: dict) -> str:
    worst = max(abs(a - 1) for a in s["areas"].values())
    peaks = "; ".join(f"{name}: {p:.3f}" for name, p in s["peaks"].items())
    return (f"Every curve's area is 1 to within {worst:.1e} of the grid's sum; the peak "
            f"heights ({peaks}) show the std widening and flattening it.")


EXPERIMENT = Experiment(
    "normal", TITLE, {}, run,
    lesson="The mean shifts the normal density and the std widens and flattens it; the area "
           "under each stays 1.",
    question=QUESTION, answer=answer)
