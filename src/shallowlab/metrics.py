"""Classification metrics, computed on the tensor side so a loop never waits on the host."""

from __future__ import annotations

import torch


def correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Number of rows whose arg-max matches the label, as a 0-dim tensor (no host sync)."""
    return (logits.argmax(dim=1) == y).sum()


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max matches the label."""
    return correct(logits, y).item() / max(len(y), 1)
