"""The playground's 2-D data sets: generated ones over [-6, 6]^2 and the learner's own CSV.

Each generator is a plain function of ``(n, classes, noise, g)`` built from torch alone and
drawing only from the generator ``g``, so :mod:`shallowlab.playground.export` can copy its
source into a script that makes the very same points. Noise jitters each point by up to
``noise * 5`` in each coordinate (uniform), and labels keep the un-jittered point's class, so
noise blurs the boundary, as in TensorFlow Playground.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

EXTENT = (-6.0, 6.0, -6.0, 6.0)


@dataclass(frozen=True)
class Points:
    """Points X (n, 2) float32 in raw units; y (n,) int64 labels or float32 targets."""

    X: torch.Tensor
    y: torch.Tensor
    task: str  # "classify" or "regress"
    classes: int  # 1 for regression
    extent: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max


def circle(n: int, classes: int, noise: float, g: torch.Generator):
    """Rings around 0: class k at radius ``5 (k + u) / K``, u uniform in [0.1, 0.9]."""
    y = torch.arange(n) % classes
    r = (y + 0.1 + 0.8 * torch.rand(n, generator=g)) * (5.0 / classes)
    a = 2 * math.pi * torch.rand(n, generator=g)
    X = torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1)
    return X + noise * 5 * (2 * torch.rand(n, 2, generator=g) - 1), y


def xor(n: int, classes: int, noise: float, g: torch.Generator):
    """Uniform over [-5.3, 5.3]^2 but 0.3 away from the axes; class ``[x1 x2 >= 0]``."""
    X = 10 * torch.rand(n, 2, generator=g) - 5
    X = X + 0.3 * torch.sign(X)
    y = (X[:, 0] * X[:, 1] >= 0).long()
    return X + noise * 5 * (2 * torch.rand(n, 2, generator=g) - 1), y


def gauss(n: int, classes: int, noise: float, g: torch.Generator):
    """K Gaussian blobs of std ``0.7 + 3 noise`` around ``3.5 (cos t_k, sin t_k)``,
    ``t_k = pi/4 + 2 pi k / K``."""
    y = torch.arange(n) % classes
    t = math.pi / 4 + 2 * math.pi * y / classes
    centre = 3.5 * torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    return centre + (0.7 + 3 * noise) * torch.randn(n, 2, generator=g), y


def spiral(n: int, classes: int, noise: float, g: torch.Generator):
    """K arms: at u uniform in [0, 1], radius ``5 u`` and angle ``3.5 pi u + 2 pi k / K``."""
    y = torch.arange(n) % classes
    u = torch.rand(n, generator=g)
    a = 3.5 * math.pi * u + 2 * math.pi * y / classes
    X = torch.stack([5 * u * torch.sin(a), 5 * u * torch.cos(a)], dim=1)
    return X + noise * 5 * (2 * torch.rand(n, 2, generator=g) - 1), y


def plane(n: int, classes: int, noise: float, g: torch.Generator):
    """Uniform over [-6, 6]^2; target ``(x1 + x2) / 12`` at a point jittered by the noise."""
    X = 12 * torch.rand(n, 2, generator=g) - 6
    J = X + noise * 5 * (2 * torch.rand(n, 2, generator=g) - 1)
    return X, (J[:, 0] + J[:, 1]) / 12


def gaussians(n: int, classes: int, noise: float, g: torch.Generator):
    """Uniform over [-6, 6]^2; target ``sum_j s_j exp(-|x - c_j|^2 / 4)``: bumps of sign
    s_j = +1, -1, -1, +1, +1 at (-3, 3), (3, 3), (-3, -3), (3, -3), (0, 0), jittered."""
    X = 12 * torch.rand(n, 2, generator=g) - 6
    J = X + noise * 5 * (2 * torch.rand(n, 2, generator=g) - 1)
    c = torch.tensor([[-3.0, 3.0], [3.0, 3.0], [-3.0, -3.0], [3.0, -3.0], [0.0, 0.0]])
    s = torch.tensor([1.0, -1.0, -1.0, 1.0, 1.0])
    d2 = ((J[:, None, :] - c[None, :, :]) ** 2).sum(dim=2)  # (n, 5)
    return X, (s * torch.exp(-d2 / 4)).sum(dim=1)


GENERATORS = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral,
              "plane": plane, "gaussians": gaussians}


def generate(data: str, n: int, classes: int, noise: float, g: torch.Generator) -> Points:
    """``n`` points of the named set, drawn from ``g``; xor has 2 classes whatever ``classes``
    says, and the regression sets none."""
    if data == "xor":
        classes = 2
    X, y = GENERATORS[data](n, classes, noise, g)
    if data in ("plane", "gaussians"):
        return Points(X.float(), y.float(), "regress", 1, EXTENT)
    return Points(X.float(), y.long(), "classify", classes, EXTENT)


def split(n: int, train_percent: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the training and test points: a permutation drawn from ``g``, its first
    ``round(n * train_percent / 100)`` (at least 1, at most n - 1) for training."""
    order = torch.randperm(n, generator=g)
    cut = min(max(round(n * train_percent / 100), 1), n - 1)
    return order[:cut], order[cut:]
