"""The figures only one experiment draws, one function each, kept apart from the experiments.

Each takes plain data (numbers, lists, numpy arrays) and returns a matplotlib Figure; nothing
here imports torch, so the painter (:mod:`shallowlab.figures.painter`) draws them without it. The
figures several experiments share are in :mod:`shallowlab.figures.plots`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from shallowlab.figures import plots


# linreg
def scatter(features: np.ndarray, y: np.ndarray, title: str):
    """``y`` against each column of ``features``, one panel per column (d2l 3.2's data plot)."""
    d = features.shape[1]
    fig = plots.figure(4 * d, 3.2)
    for j, ax in enumerate(fig.subplots(1, d, squeeze=False)[0]):
        ax.scatter(features[:, j], y.reshape(-1), s=2)
        ax.set_xlabel(f"x{j + 1}")
        ax.set_ylabel("y")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


# ohm
def slopes(x: np.ndarray, y: np.ndarray, lines: dict[str, float], xlabel: str,
           ylabel: str, title: str):
    """``y`` against ``x`` as points, and a line ``y = k x`` through the origin per named k."""
    fig = plots.figure(5, 3.8)
    ax = fig.subplots()
    x, y = x.reshape(-1), y.reshape(-1)
    ax.scatter(x, y, s=4, alpha=0.6, color="gray", label="measurements")
    ends = np.array([0.0, float(x.max())], dtype=x.dtype)
    for (name, k), style in zip(lines.items(), ("-", "--", ":", "-.")):
        ax.plot(ends, k * ends, style, label=name)
    plots.finish(ax, xlabel, ylabel, title)
    return fig


# huber
def robust_fit(errors: dict[str, Sequence[float]], residuals: dict[str, np.ndarray],
               span: float, title: str):
    """Two panels: each fit's parameter error per epoch (log axis), and its residuals.

    ``residuals`` are ``y - y_hat`` of the examples to show (the clean ones, say), drawn as
    histograms over ``[-span, span]``; a fit that outliers dragged away is wide or off-centre.
    """
    fig = plots.figure(10, 3.8)
    left, right = fig.subplots(1, 2)
    for name, values in errors.items():
        left.plot(range(len(values)), values, marker="o", markersize=3, label=name)
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel("max |parameter - truth|")
    left.grid(alpha=0.3, which="both")
    left.legend()
    for name, r in residuals.items():
        right.hist(r.reshape(-1).clip(-span, span), bins=80,
                   range=(-span, span), alpha=0.6, label=name)
    right.set_xlabel(f"residual y - y_hat (clipped to +-{span:g})")
    right.set_ylabel("examples")
    right.legend()
    fig.suptitle(title)
    return fig


# lr_sweep
def sweep(losses: dict[str, Sequence[float | None]], floor: float | None, title: str):
    """One loss curve per run (epoch 0 = before training) on one logarithmic axis.

    The axis stops at 10x the highest starting loss, so a run that diverges leaves the chart
    upwards: its first non-finite loss (inf, nan, or None as JSON stores them) is drawn above
    the top, and the line stops there.
    """

    def finite(v) -> bool:
        return v is not None and math.isfinite(v)

    top = 10 * max(vs[0] for vs in losses.values() if vs and finite(vs[0]))
    fig = plots.figure(6, 4)
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
    ax.set_title(title)
    return fig


# planck
def spectra(x: Sequence[float], measured: dict[str, Sequence[float]],
            fitted: dict[str, Sequence[float]], xlabel: str, ylabel: str, title: str):
    """Measured points and, paired in order, one named fitted line each, on a log axis."""
    fig = plots.figure(6.5, 4.2)
    ax = fig.subplots()
    for points, (name, line) in zip(measured.values(), fitted.items(), strict=True):
        dots = ax.plot(x, points, ".", markersize=3, alpha=0.5)[0]
        ax.plot(x, line, "-", color=dots.get_color(), label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return fig


# normal
def lines(x: Sequence[float], ys: dict[str, Sequence[float]], xlabel: str, ylabel: str,
          title: str):
    """One named line per entry of ``ys`` against the shared ``x`` (the book's ``d2l.plot``)."""
    fig = plots.figure(5.5, 3.6)
    ax = fig.subplots()
    for (name, y), style in zip(ys.items(), ("-", "m--", "g-.", "r:", "c-", "k--")):
        ax.plot(x, y, style, label=name)
    plots.finish(ax, xlabel, ylabel, title)
    return fig


# vectorize
def bars(values: dict[str, float], ylabel: str, title: str):
    """One labelled bar per entry on a logarithmic axis, its value written above it."""
    fig = plots.figure(4.5, 3.6)
    ax = fig.subplots()
    bars_ = ax.bar(list(values), list(values.values()), color=["tab:red", "tab:blue",
                                                               "tab:green", "tab:gray"])
    ax.bar_label(bars_, labels=[f"{v:.3g}" for v in values.values()])
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


# stability
def log_panels(panels: dict[str, dict[str, Sequence[float | None]]], xlabel: str,
               ylabel: str, title: str, band: tuple[float, float] | None = None):
    """One panel per outer key, one line per inner key, on a shared logarithmic y axis.

    ``None`` values (a non-finite number, as JSON stores it) leave gaps; ``band = (low, high)``
    shades the range the lines should stay in (d2l 4.8's gradient norms per layer).
    """
    fig = plots.figure(4.2 * len(panels), 3.6)
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
    fig.suptitle(title)
    return fig


# label_smoothing
def reliability_diagrams(diagrams: dict[str, dict], title: str):
    """Reliability diagrams: per confidence bin, accuracy against mean confidence.

    ``diagrams`` maps a model's name to :func:`shallowlab.core.metrics.reliability`'s dict
    (``confidence``, ``accuracy``, ``count`` per bin, None where empty); a calibrated model
    lies on the diagonal, an overconfident one below it. Below: how many predictions per bin.
    """
    fig = plots.figure(5, 6)
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
    fig.suptitle(title)
    return fig



# backprop
def descents(losses: Sequence[float], errors: Sequence[float], published: tuple[int, float],
             title: str):
    """Two descents on log axes: the seed's ``y = w x`` loss per SGD step, and Mazur's total
    error after each number of updates, with the post's printed figure marked at its count."""
    fig = plots.figure(9, 3.6)
    left, right = fig.subplots(1, 2)
    left.plot(range(1, len(losses) + 1), losses, color="tab:blue", label="loss of the step")
    left.set_yscale("log")
    plots.finish(left, "SGD step (3 per epoch)", "squared error", "y = w x, lr 0.01, from w = 1")
    right.plot(range(len(errors)), errors, color="tab:red", label="exact (float64)")
    right.scatter([published[0]], [published[1]], color="black", zorder=3, s=18,
                  label=f"the post: {published[1]:.6g} at {published[0]:,}")
    right.set_xscale("symlog", linthresh=1)
    right.set_yscale("log")
    plots.finish(right, "updates", "total error E", "Mazur's 2-2-2 network, lr 0.5")
    fig.suptitle(title)
    return fig
