"""Figures. The only module that imports matplotlib, and only inside its functions.

Figures are built as ``matplotlib.figure.Figure`` objects without pyplot, so drawing never
touches a global backend or opens a window: it works the same in a terminal, a CI log or a
notebook, and the caller decides where the PNG goes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import torch


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def png_bytes(fig, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def curves(history: list[dict], title: str = "", floor: float | None = None):
    """Loss (and accuracy, if recorded) per epoch, train against test.

    The loss axis turns logarithmic when the loss spans more than two decades; ``floor``
    draws the lowest loss any model can reach as a dotted line.
    """
    metrics = ["loss"] + (["acc"] if any(r["train_acc"] is not None for r in history) else [])
    fig = _figure(4.5 * len(metrics), 3.5)
    epochs = [r["epoch"] for r in history]
    for ax, metric in zip(fig.subplots(1, len(metrics), squeeze=False)[0], metrics):
        for split, style in (("train", "-"), ("test", "--")):
            values = [r[f"{split}_{metric}"] for r in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, style, marker="o", markersize=3, label=split)
        if metric == "loss":
            if floor is not None:
                ax.axhline(floor, color="gray", linestyle=":", label="noise floor")
            losses = [v for r in history for v in (r["train_loss"], r["test_loss"]) if v]
            if losses and max(losses) > 100 * min(losses) > 0:
                ax.set_yscale("log")
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


def scatter(features: torch.Tensor, y: torch.Tensor, title: str = ""):
    """``y`` against each column of ``features``, one panel per column (d2l 3.2's data plot)."""
    d = features.shape[1]
    fig = _figure(4 * d, 3.2)
    for j, ax in enumerate(fig.subplots(1, d, squeeze=False)[0]):
        ax.scatter(features[:, j].cpu().numpy(), y.reshape(-1).cpu().numpy(), s=2)
        ax.set_xlabel(f"x{j + 1}")
        ax.set_ylabel("y")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def activations(x: torch.Tensor, curves: dict[str, tuple[torch.Tensor, torch.Tensor]],
                title: str = ""):
    """One panel per function: ``f(x)`` solid and its derivative ``f'(x)`` dashed (d2l 4.1)."""
    fig = _figure(4 * len(curves), 3.2)
    panels = fig.subplots(1, len(curves), squeeze=False)[0]
    for ax, (name, (y, dy)) in zip(panels, curves.items()):
        ax.plot(x.cpu().numpy(), y.cpu().numpy(), label=f"{name}(x)")
        ax.plot(x.cpu().numpy(), dy.cpu().numpy(), "--", label=f"{name}'(x)")
        ax.set_xlabel("x")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def slopes(x: torch.Tensor, y: torch.Tensor, lines: dict[str, float], xlabel: str = "x",
           ylabel: str = "y", title: str = ""):
    """``y`` against ``x`` as points, and a line ``y = k x`` through the origin per named k."""
    fig = _figure(5, 3.8)
    ax = fig.subplots()
    x, y = x.reshape(-1).cpu(), y.reshape(-1).cpu()
    ax.scatter(x.numpy(), y.numpy(), s=4, alpha=0.6, color="gray", label="measurements")
    ends = torch.tensor([0.0, float(x.max())])
    for (name, k), style in zip(lines.items(), ("-", "--", ":", "-.")):
        ax.plot(ends.numpy(), (k * ends).numpy(), style, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def sweep(losses: dict[str, Sequence[float | None]], floor: float | None = None,
          title: str = ""):
    """One loss curve per run (epoch 0 = before training) on one logarithmic axis.

    The axis stops at 10x the highest starting loss, so a run that diverges leaves the chart
    upwards: its first non-finite loss (inf, nan, or None as JSON stores them) is drawn above
    the top, and the line stops there.
    """

    def finite(v) -> bool:
        return v is not None and math.isfinite(v)

    top = 10 * max(vs[0] for vs in losses.values() if vs and finite(vs[0]))
    fig = _figure(6, 4)
    ax = fig.subplots()
    for name, values in losses.items():
        bad = next((i for i, v in enumerate(values) if not finite(v)), len(values))
        shown = [*values[:bad], *([100 * top] if bad < len(values) else [])]
        ax.plot(range(len(shown)), shown, marker="o", markersize=3, label=name)
    low = min([v for vs in losses.values() for v in vs if finite(v)] + [floor or math.inf])
    if floor is not None:
        ax.axhline(floor, color="gray", linestyle=":", label="noise floor")
    ax.set_yscale("log")
    ax.set_ylim(low / 2, top)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def robust_fit(errors: dict[str, Sequence[float]], residuals: dict[str, torch.Tensor],
               span: float = 1.0, title: str = ""):
    """Two panels: each fit's parameter error per epoch (log axis), and its residuals.

    ``residuals`` are ``y - y_hat`` of the examples to show (the clean ones, say), drawn as
    histograms over ``[-span, span]``; a fit that outliers dragged away is wide or off-centre.
    """
    fig = _figure(10, 3.8)
    left, right = fig.subplots(1, 2)
    for name, values in errors.items():
        left.plot(range(len(values)), values, marker="o", markersize=3, label=name)
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel("max |parameter - truth|")
    left.grid(alpha=0.3, which="both")
    left.legend()
    for name, r in residuals.items():
        right.hist(r.reshape(-1).cpu().clamp(-span, span).numpy(), bins=80,
                   range=(-span, span), alpha=0.6, label=name)
    right.set_xlabel(f"residual y - y_hat (clipped to +-{span:g})")
    right.set_ylabel("examples")
    right.legend()
    if title:
        fig.suptitle(title)
    return fig
