"""Figures. The only module that imports matplotlib, and only inside its functions.

Figures are built as ``matplotlib.figure.Figure`` objects without pyplot, so drawing never
touches a global backend or opens a window: it works the same in a terminal, a CI log or a
notebook, and the caller decides where the PNG goes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import torch


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def png_bytes(fig, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def curves(history: list[dict], title: str = ""):
    """Loss and accuracy per epoch, train against test, side by side."""
    fig = _figure(9, 3.5)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [r["epoch"] for r in history]
    for ax, metric in ((ax_loss, "loss"), (ax_acc, "acc")):
        for split, style in (("train", "-"), ("test", "--")):
            values = [r[f"{split}_{metric}"] for r in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, style, marker="o", markersize=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if metric == "loss" else "accuracy")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def predictions(images: torch.Tensor, labels: Sequence[int], predicted: Sequence[int],
                class_names: Sequence[str], columns: int = 9):
    """A grid of images titled ``true / predicted``; wrong predictions in red."""
    n = len(images)
    rows = -(-n // columns)
    fig = _figure(1.3 * columns, 1.6 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, img, t, p in zip(axes, images, labels, predicted, strict=False):
        ax.imshow(img.reshape(28, 28).cpu().numpy(), cmap="gray_r")
        right = int(t) == int(p)
        ax.set_title(f"{class_names[int(t)]}\n{'' if right else '✗ '}{class_names[int(p)]}",
                     fontsize=8, color="black" if right else "red")
    return fig
