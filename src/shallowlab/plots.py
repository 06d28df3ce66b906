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


def _finish(ax, xlabel: str, ylabel: str, title: str = "") -> None:
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


def curves(history: list[dict], title: str = "", floor: float | None = None):
    """Loss (and accuracy, if recorded) per epoch, train against test.

    The loss axis turns logarithmic when the loss spans more than two decades; ``floor``
    draws the lowest loss any model can reach as a dotted line.
    """
    from matplotlib.ticker import MaxNLocator

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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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
    _finish(ax, xlabel, ylabel, title)
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


def series_panels(x: Sequence[float], panels: dict[str, dict[str, Sequence[float | None]]],
                  xlabel: str, *, xscale: str = "linear", yscale: str = "log",
                  mark: float | None = None, title: str = ""):
    """One panel per entry of ``panels``: each named series against ``x``, side by side.

    A series whose name contains "test" or "validation" is dashed, so train and held-out
    curves pair up at a glance. ``xscale`` "symlog" shows x = 0 on an otherwise logarithmic
    axis (a sweep of lambda from 0); ``mark`` draws a dotted vertical line at a chosen x.
    """
    fig = _figure(4.5 * len(panels), 3.6)
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


def log_panels(panels: dict[str, dict[str, Sequence[float | None]]], xlabel: str,
               ylabel: str, band: tuple[float, float] | None = None, title: str = ""):
    """One panel per outer key, one line per inner key, on a shared logarithmic y axis.

    ``None`` values (a non-finite number, as JSON stores it) leave gaps; ``band = (low, high)``
    shades the range the lines should stay in (d2l 4.8's gradient norms per layer).
    """
    fig = _figure(4.2 * len(panels), 3.6)
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (name, lines) in zip(axes, panels.items()):
        for label, values in lines.items():
            shown = [math.nan if v is None else v for v in values]
            ax.plot(range(1, len(shown) + 1), shown, marker="o", markersize=2, label=label)
        if band is not None:
            ax.axhspan(*band, color="green", alpha=0.08)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(name)
        ax.grid(alpha=0.3, which="major")
        ax.legend(fontsize=7)
    axes[0].set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    return fig


def spectra(x: Sequence[float], measured: dict[str, Sequence[float]],
            fitted: dict[str, Sequence[float]], xlabel: str = "x", ylabel: str = "y",
            title: str = ""):
    """Measured points and, paired in order, one named fitted line each, on a log axis."""
    fig = _figure(6.5, 4.2)
    ax = fig.subplots()
    for points, (name, line) in zip(measured.values(), fitted.items(), strict=True):
        dots = ax.plot(x, points, ".", markersize=3, alpha=0.5)[0]
        ax.plot(x, line, "-", color=dots.get_color(), label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def lines(x: Sequence[float], ys: dict[str, Sequence[float]], xlabel: str = "x",
          ylabel: str = "y", title: str = ""):
    """One named line per entry of ``ys`` against the shared ``x`` (the book's ``d2l.plot``)."""
    fig = _figure(5.5, 3.6)
    ax = fig.subplots()
    for (name, y), style in zip(ys.items(), ("-", "m--", "g-.", "r:", "c-", "k--")):
        ax.plot(x, y, style, label=name)
    _finish(ax, xlabel, ylabel, title)
    return fig


def bars(values: dict[str, float], ylabel: str = "", log: bool = False, title: str = ""):
    """One labelled bar per entry, its value written above it (e.g. timings)."""
    fig = _figure(4.5, 3.6)
    ax = fig.subplots()
    bars_ = ax.bar(list(values), list(values.values()), color=["tab:red", "tab:blue",
                                                               "tab:green", "tab:gray"])
    ax.bar_label(bars_, labels=[f"{v:.3g}" for v in values.values()])
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig


def reliability(diagrams: dict[str, dict], title: str = ""):
    """Reliability diagrams: per confidence bin, accuracy against mean confidence.

    ``diagrams`` maps a model's name to :func:`shallowlab.metrics.reliability`'s dict
    (``confidence``, ``accuracy``, ``count`` per bin, None where empty); a calibrated model
    lies on the diagonal, an overconfident one below it. Below: how many predictions per bin.
    """
    fig = _figure(5, 6)
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], ":", color="gray", label="calibrated")
    bins = len(next(iter(diagrams.values()))["count"])
    centres = [(b + 0.5) / bins for b in range(bins)]
    for k, (name, d) in enumerate(diagrams.items()):
        shown = [(c, a) for c, a in zip(d["confidence"], d["accuracy"]) if c is not None]
        top.plot(*zip(*shown), marker="o", markersize=4, label=name)
        width = 0.9 / bins / len(diagrams)
        bottom.bar([c - 0.45 / bins + (k + 0.5) * width for c in centres], d["count"], width,
                   label=name)
    top.set_ylabel("accuracy")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.grid(alpha=0.3)
    top.legend()
    bottom.set_yscale("log")
    bottom.set_xlabel("confidence (largest probability)")
    bottom.set_ylabel("predictions")
    if title:
        fig.suptitle(title)
    return fig
