"""The input features a playground network may see, computed from a point's two coordinates.

``x1, x2, x1^2, x2^2, x1 x2, sin x1, sin x2`` in raw units (no scaling), as TensorFlow
Playground offers them: with ``x1^2`` and ``x2^2`` a model with no hidden layer can already
draw a circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the server process reads FEATURES without importing torch
    import torch

FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
LABELS = {"x1": "x\u2081", "x2": "x\u2082", "x1sq": "x\u2081\u00b2", "x2sq": "x\u2082\u00b2",
          "x1x2": "x\u2081x\u2082", "sinx1": "sin x\u2081", "sinx2": "sin x\u2082"}


def inputs(X: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """The named features of points X (n, 2), one column each, in the order given: (n, f).

    ``x1sq = x1^2``, ``x2sq = x2^2``, ``x1x2 = x1 x2``, ``sinx1 = sin(x1)``, ``sinx2 = sin(x2)``.
    """
    import torch

    x1, x2 = X[:, 0], X[:, 1]
    table = {"x1": x1, "x2": x2, "x1sq": x1 * x1, "x2sq": x2 * x2, "x1x2": x1 * x2,
             "sinx1": torch.sin(x1), "sinx2": torch.sin(x2)}
    return torch.stack([table[name] for name in names], dim=1).contiguous()
