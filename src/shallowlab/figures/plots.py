"""Figures several experiments share. The only matplotlib importer outside ``d2l/``, and only
inside its functions, so importing shallowlab never loads matplotlib.

Figures are built as ``matplotlib.figure.Figure`` objects without pyplot, so drawing never
touches a global backend or opens a window: it works the same in a terminal, a CI log or a
notebook, and the caller decides where the PNG goes (a run folder's ``RunDir.save_figure``).
Here: a new figure and the common finish of a panel, the training curves, a grid of
predictions, a confusion matrix, the activation panels and side-by-side series; a figure only
one experiment draws lives in that experiment's module, built from :func:`figure` and
:func:`finish`.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Sequence

import numpy as np


def figure(width: float, height: float):
    """An empty ``width`` x ``height`` inch figure with constrained layout, outside pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def fixed(width: float, height: float, grid: tuple[int, int], margins: tuple[float, ...],
          **subplots):
    """A ``width`` x ``height`` inch figure and its ``grid = (rows, columns)`` of axes, at
    fixed ``margins = (left, bottom, right, top, between columns, between rows)`` in inches.

    Constrained layout measures every label before it draws them, which doubles the drawing
    time; a figure whose labels are known in advance (a confusion matrix, a grid of images)
    is laid out here at margins fitted to them once, by eye.
    """
    from matplotlib.figure import Figure

    rows, columns = grid
    left, bottom, right, top, wgap, hgap = margins
    cell_w = (width - left - right - (columns - 1) * wgap) / columns
    cell_h = (height - bottom - top - (rows - 1) * hgap) / rows
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, bottom=bottom / height, right=1 - right / width,
                        top=1 - top / height, wspace=wgap / cell_w, hspace=hgap / cell_h)
    return fig, fig.subplots(rows, columns, squeeze=False, **subplots)


def finish(ax, xlabel: str, ylabel: str, title: str = "") -> None:
    """Labels, a light grid, the legend and the title: how every single-panel plot ends."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)


def png_bytes(fig, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def warm_up() -> None:
    """Import matplotlib and draw a small figure, so the first real one pays no first-time cost
    (fonts found and loaded, the Agg canvas imported): what the painter does while it waits."""
    fig = figure(2, 2)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], marker="o", label="warm-up")
    finish(ax, "x", "y", "warm-up")
    png_bytes(fig)
    close(fig)


def close(fig) -> None:
    """Let go of ``fig`` now: out of pyplot's registry (if it is there), its artists cleared.

    A figure holds cycles (axes and figure refer to each other) that only the cyclic garbage
    collector would free, and pyplot keeps every figure it made until it is closed.
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
    fig.clear()


def curves(history: list[dict], title: str = "", floor: float | None = None):
    """Loss (and accuracy, if recorded) per epoch, train against test.

    The loss axis turns logarithmic when the loss spans more than two decades; ``floor``
    draws the lowest loss any model can reach as a dotted line.
    """
    from matplotlib.ticker import MaxNLocator

    metrics = ["loss"] + (["acc"] if any(r["train_acc"] is not None for r in history) else [])
    fig = figure(4.5 * len(metrics), 3.5)
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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("loss" if metric == "loss" else "accuracy")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def predictions(images: np.ndarray, labels: Sequence[int], predicted: Sequence[int],
                class_names: Sequence[str], columns: int = 9):
    """A grid of images titled ``true / predicted``; wrong predictions in red.

    The images are tiled into one picture on one axes (a figure of 18 axes takes three times
    as long to draw), each under its two-line title.
    """
    from matplotlib import colormaps

    n, tile, gap, head = len(images), 28, 8, 14  # pixels: an image, between two, a title
    rows = -(-n // columns)
    mosaic = np.full((rows * (head + tile), columns * (tile + gap)), np.nan)
    fig = fixed(1.3 * columns, 1.3 * columns * mosaic.shape[0] / mosaic.shape[1], (1, 1),
                (0, 0, 0, 0, 0, 0))[0]
    ax = fig.axes[0]
    ax.axis("off")
    for k, (img, t, p) in enumerate(zip(images, labels, predicted, strict=False)):
        top, left = divmod(k, columns)
        top, left = top * (head + tile) + head, left * (tile + gap) + gap // 2
        mosaic[top:top + tile, left:left + tile] = np.asarray(img, dtype=float).reshape(28, 28)
        right = int(t) == int(p)
        ax.text(left + tile / 2, top - 2, f"{class_names[int(t)]}\n{'' if right else '✗ '}"
                f"{class_names[int(p)]}", ha="center", va="bottom", fontsize=8,
                color="black" if right else "red")
    cmap = colormaps["gray_r"].with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=np.nanmax(mosaic), interpolation="nearest")
    return fig


def activations(x: np.ndarray, curves: dict[str, tuple[np.ndarray, np.ndarray]],
                title: str = ""):
    """One panel per function: ``f(x)`` solid and its derivative ``f'(x)`` dashed (d2l 4.1)."""
    fig = figure(4 * len(curves), 3.2)
    panels = fig.subplots(1, len(curves), squeeze=False)[0]
    for ax, (name, (y, dy)) in zip(panels, curves.items()):
        ax.plot(x, y, label=f"{name}(x)")
        ax.plot(x, dy, "--", label=f"{name}'(x)")
        ax.set_xlabel("x")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def series_panels(x: Sequence[float], panels: dict[str, dict[str, Sequence[float | None]]],
                  xlabel: str, *, xscale: str = "linear", yscale: str = "log",
                  mark: float | None = None, title: str = ""):
    """One panel per entry of ``panels``: each named series against ``x``, side by side.

    A series whose name contains "test" or "validation" is dashed, so train and held-out
    curves pair up at a glance. ``xscale`` "symlog" shows x = 0 on an otherwise logarithmic
    axis (a sweep of lambda from 0); ``mark`` draws a dotted vertical line at a chosen x.
    """
    fig = figure(4.5 * len(panels), 3.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, series) in zip(axes, panels.items()):
        for label, values in series.items():
            held_out = "test" in label or "validation" in label
            shown = [math.nan if v is None else v for v in values]
            ax.plot(list(x)[: len(shown)], shown, "--" if held_out else "-", marker="o",
                    markersize=2.5, label=label)
        if mark is not None:
            ax.axvline(mark, color="gray", linestyle=":")
        if xscale == "symlog":
            ax.set_xscale("symlog", linthresh=min((v for v in x if v > 0), default=1.0))
        else:
            ax.set_xscale(xscale)
        ax.set_yscale(yscale)
        ax.set_xlabel(xlabel)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def confusion(matrix: Sequence[Sequence[int]], class_names: Sequence[str], title: str = ""):
    """A confusion matrix in two panels: the counts, and each row divided by its sum (the
    fraction of each true class given each prediction). True class down, predicted across;
    every cell carries its number, in white where the cell is dark."""
    counts = np.asarray(matrix, dtype=np.float64)  # (q, q), rows true
    rates = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    q = len(class_names)
    top = 0.75 if title else 0.4
    fig, axes = fixed(2 * (1.3 + 0.45 * q), 1.5 + 0.45 * q + top - 0.4, (1, 2),
                      (1.25, 1.3, 0.15, top, 1.35, 0))
    for ax, values, name, text in zip(
            axes[0], (counts, rates), ("counts", "fraction of each true class"),
            (lambda v: f"{v:.0f}", lambda v: f"{v:.2f}".lstrip("0") if 0 < v < 1 else f"{v:g}")):
        ax.imshow(values, cmap="Blues")
        dark = 0.6 * float(values.max())
        for i in range(q):
            for j in range(q):
                v = float(values[i, j])
                ax.text(j, i, text(v), ha="center", va="center", fontsize=8,
                        color="white" if v > dark else "black")
        ax.set_xticks(range(q), class_names, rotation=45, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(q), class_names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    return fig
