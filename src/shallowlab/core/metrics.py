"""Classification metrics, computed on the tensor side so a loop never waits on the host."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Number of rows whose arg-max matches the label, as a 0-dim tensor (no host sync).

    Logits stored transposed (classes x batch, as the fused step makes them) are reduced down
    their contiguous columns: on the CPU that is several times faster than across strided rows.
    """
    if logits.dim() == 2 and not logits.is_contiguous() and logits.t().is_contiguous():
        return (logits.t().max(dim=0).indices == y).sum()  # argmax(dim=0) is slower still
    return (logits.argmax(dim=1) == y).sum()


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max matches the label."""
    return correct(logits, y).item() / max(len(y), 1)


def calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> float:
    """Expected calibration error: ``ECE = sum_b (n_b / n) |acc_b - conf_b|``.

    Each row's confidence is its largest probability ``max_k p_ik`` and its prediction that
    arg-max; rows fall into ``bins`` equal-width bins ``((b - 1)/bins, b/bins]`` by confidence,
    and in bin b ``acc_b`` is the fraction predicted right and ``conf_b`` the mean confidence
    (empty bins count 0). 0 means "p% confident" is right p% of the time.

    Shape: probs (n, q), rows summing to 1; labels (n,).
    """
    conf, predicted = probs.max(dim=1)
    right = (predicted == labels).to(probs.dtype)
    which = (conf * bins).ceil().long().clamp(1, bins) - 1  # conf in ((b-1)/B, b/B] -> b - 1
    count = torch.zeros(bins, dtype=probs.dtype, device=probs.device)
    count.index_add_(0, which, torch.ones_like(conf))
    gap = torch.zeros_like(count).index_add_(0, which, right - conf)  # sum of (acc - conf)
    return (gap.abs().sum() / max(len(labels), 1)).item()


def reliability(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> dict:
    """Per confidence bin (as :func:`calibration_error`): mean confidence, accuracy, count.

    Empty bins hold None for confidence and accuracy; the lists are JSON-able.
    """
    conf, predicted = probs.max(dim=1)
    right = (predicted == labels).to(probs.dtype)
    which = (conf * bins).ceil().long().clamp(1, bins) - 1
    out = {"confidence": [], "accuracy": [], "count": []}
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        out["count"].append(n)
        out["confidence"].append(conf[mask].mean().item() if n else None)
        out["accuracy"].append(right[mask].mean().item() if n else None)
    return out


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, classes: int) -> torch.Tensor:
    """The confusion matrix ``C[i, j] = #{n : target_n = i, pred_n = j}``: rows true, columns
    predicted, int64 on the inputs' device (no host read, so batches can be summed on it).

    One ``bincount`` of ``target * classes + pred`` over ``classes**2`` cells. Row i sums to
    the number of examples of class i, and the trace is the number predicted right.

    Shape: pred (n,), target (n,), integer labels in [0, classes); returns (classes, classes).
    """
    cells = target.long() * classes + pred.long()
    return torch.bincount(cells, minlength=classes * classes).reshape(classes, classes)


def most_confused(matrix, names: Sequence[str], k: int = 5) -> list[dict]:
    """The ``k`` largest off-diagonal cells of a confusion matrix (rows true, columns
    predicted): the pairs (i, j), i != j, with the most examples of class i predicted as j.

    Returned as ``{"true": names[i], "predicted": names[j], "count": C[i, j]}``, largest count
    first (ties in row-major order); cells that count 0 are no confusion and are left out.
    """
    C = torch.as_tensor(matrix).clone()
    C.fill_diagonal_(-1)  # (q, q); the diagonal never ranks
    counts, cells = C.flatten().sort(descending=True, stable=True)
    q = C.shape[1]
    return [{"true": names[c // q], "predicted": names[c % q], "count": n}
            for n, c in zip(counts.tolist()[:k], cells.tolist()[:k]) if n > 0]
