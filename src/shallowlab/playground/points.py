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

from shallowlab.playground.settings import PlaygroundError

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


MAX_CSV_BYTES = 512 * 1024
MAX_ROWS = 5000
MIN_ROWS = 10
MAX_VALUE = 1e4
COLUMNS = ("x1", "x2")


def from_csv(text: str) -> Points:
    """The learner's points from CSV text ``x1,x2,label`` or ``x1,x2,target``.

    A header row is optional; without one, a third column of whole numbers 0..4 holds labels,
    anything else targets. Limits: 512 KiB, 10..5000 rows, |values| <= 1e4, labels 0..4 with
    at least two classes. Each problem is one PlaygroundError naming the row and column.
    """
    if not isinstance(text, str):
        raise PlaygroundError("CSV: expected text")
    if "\ufffd" in text or any(ch in text for ch in _CONTROL):  # U+FFFD: bytes not UTF-8
        raise PlaygroundError("CSV: the file holds binary bytes, not text; save it as CSV")
    rows = text.count("\n") + 1
    if rows > MAX_ROWS + 2:
        raise PlaygroundError(f"CSV: {rows} rows, more than the {MAX_ROWS} allowed")
    if len(text.encode("utf-8", "replace")) > MAX_CSV_BYTES:
        raise PlaygroundError(f"CSV: {len(text) // 1024} KiB, more than the 512 KiB allowed")
    lines = [(i, line.strip()) for i, line in enumerate(text.lstrip("\ufeff").splitlines(), 1)]
    lines = [(i, line) for i, line in lines if line]
    if not lines:
        raise PlaygroundError("CSV: the file is empty; give rows x1,x2,label or x1,x2,target")
    third = _header(lines[0])
    if third is not None:
        lines = lines[1:]
    if not MIN_ROWS <= len(lines) <= MAX_ROWS:
        raise PlaygroundError(f"CSV: {len(lines)} data rows; give {MIN_ROWS} to {MAX_ROWS}")
    values = [_row(i, line, third or "label or target") for i, line in lines]
    X = torch.tensor([v[:2] for v in values], dtype=torch.float32)
    t = [v[2] for v in values]
    if third == "target" or third is None and not all(v in (0, 1, 2, 3, 4) for v in t):
        return Points(X, torch.tensor(t, dtype=torch.float32), "regress", 1, _extent(X))
    return Points(X, _labels(lines, t), "classify", int(max(t)) + 1, _extent(X))


_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r")  # NUL and kin


def _header(first: tuple[int, str]) -> str | None:
    """``label`` or ``target`` if the first row is a header, None if it is data."""
    cells = [c.strip().strip('"').lower() for c in first[1].split(",")]
    if all(_is_number(c) for c in cells):
        return None
    if len(cells) != 3:
        _row(first[0], first[1], "label or target")  # raises: the columns are wrong
    if cells[:2] != list(COLUMNS) or cells[2] not in ("label", "target"):
        raise PlaygroundError(f"CSV row {first[0]}: the header is {first[1][:60]!r}; "
                              "write x1,x2,label or x1,x2,target")
    return cells[2]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _row(number: int, line: str, third: str) -> tuple[float, float, float]:
    cells = line.split(",")
    if len(cells) != 3:
        raise PlaygroundError(f"CSV row {number}: {len(cells)} column{'s' * (len(cells) > 1)}"
                              f"; every row needs 3, separated by commas: x1, x2, {third}")
    out = []
    for name, cell in zip((*COLUMNS, third), cells):
        cell = cell.strip().strip('"')
        try:
            value = float(cell) if len(cell) <= 40 else None
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or abs(value) > MAX_VALUE:
            what = "is not a number" if value is None else \
                "is not a finite number" if not math.isfinite(value) else "is beyond 1e4"
            raise PlaygroundError(f"CSV row {number}, column {name}: {cell[:20]!r} {what}")
        out.append(value)
    return tuple(out)


def _labels(lines: list[tuple[int, str]], t: list[float]) -> torch.Tensor:
    for (number, _), v in zip(lines, t):
        if v not in (0, 1, 2, 3, 4):
            raise PlaygroundError(f"CSV row {number}, column label: {v:g} is not a whole "
                                  "number 0..4")
    if len(set(t)) < 2:
        raise PlaygroundError("CSV column label: every row has the same label; give at least "
                              "two classes")
    return torch.tensor(t, dtype=torch.int64)


def _extent(X: torch.Tensor) -> tuple[float, float, float, float]:
    """The points' bounding box, 5% wider each way (at least 0.5), for the pictures."""
    lo, hi = X.min(dim=0).values.tolist(), X.max(dim=0).values.tolist()
    pads = [max(0.05 * (h - low), 0.5) for low, h in zip(lo, hi)]
    return (lo[0] - pads[0], hi[0] + pads[0], lo[1] - pads[1], hi[1] + pads[1])
