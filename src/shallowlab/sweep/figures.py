"""The sweep's figure: its score against what was swept.

One swept setting: the score against its values, the mean over seeds with error bars of one
standard deviation. Two: a heatmap of the mean score, one cell per configuration, the values
written in. More (or two drawn at random, with too many values for cells): one panel per
setting, the score against that setting's values over every trial. A numeric setting whose
values span more than a decade (a learning rate) gets a logarithmic axis; the others are
placed evenly, labelled by their values.
"""

from __future__ import annotations

import math

from shallowlab.figures import plots
from shallowlab.sweep.results import mean_std
from shallowlab.sweep.spec import text

CELLS = 12  # the most values a setting may have on a heatmap's axis


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _values(rows: list[dict], key: str) -> list:
    """The setting's distinct values, in increasing order where they are numbers."""
    seen = {text(r[key]): r[key] for r in rows}
    values = list(seen.values())
    return sorted(values) if _numeric(values) else values


def _axis(ax, key: str, values: list, which: str = "x") -> list:
    """Place ``values`` on the axis; return their positions."""
    label = getattr(ax, f"set_{which}label")
    label(key.replace("_", " "))
    if _numeric(values) and min(values) > 0 and max(values) / min(values) > 10:
        getattr(ax, f"set_{which}scale")("log")
        getattr(ax, f"set_{which}lim")(min(values) / 1.5, max(values) * 1.5)
        return list(values)
    if _numeric(values):
        pad = (max(values) - min(values)) * 0.08 or abs(values[0]) * 0.1 or 1
        getattr(ax, f"set_{which}lim")(min(values) - pad, max(values) + pad)
        return list(values)
    getattr(ax, f"set_{which}ticks")(range(len(values)), [text(v) for v in values])
    return list(range(len(values)))


def _scores(rows: list[dict], key: str, value, score: str) -> list[float]:
    return [r[score] for r in rows if r["status"] == "completed" and text(r[key]) == text(value)
            and r.get(score) is not None]


def _panel(ax, rows: list[dict], key: str, score: str, words: str) -> None:
    values = _values(rows, key)
    x = _axis(ax, key, values)
    stats = [mean_std(_scores(rows, key, v, score)) for v in values]
    mean = [math.nan if m is None else m for m, _ in stats]
    std = [0.0 if s is None else s for _, s in stats]
    ax.errorbar(x, mean, yerr=std, marker="o", capsize=4)
    ax.set_ylabel(words)
    ax.grid(alpha=0.3, which="both")


def _heatmap(fig, rows: list[dict], swept: list[str], configs: list[dict], score: str,
             words: str):
    ax = fig.subplots()
    ys, xs = _values(rows, swept[0]), _values(rows, swept[1])
    grid = [[math.nan] * len(xs) for _ in ys]
    spread = [[""] * len(xs) for _ in ys]
    for c in configs:
        i = [text(v) for v in ys].index(text(c[swept[0]]))
        j = [text(v) for v in xs].index(text(c[swept[1]]))
        if c[f"{score}_mean"] is not None:
            grid[i][j] = c[f"{score}_mean"]
        if c[f"{score}_std"] is not None:
            spread[i][j] = f"\n± {c[f'{score}_std']:.4f}"
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label=f"{words} (mean over seeds)")
    ax.set_xticks(range(len(xs)), [text(v) for v in xs])
    ax.set_yticks(range(len(ys)), [text(v) for v in ys])
    ax.set_xlabel(swept[1].replace("_", " "))
    ax.set_ylabel(swept[0].replace("_", " "))
    finite = [v for line in grid for v in line if not math.isnan(v)]
    middle = (min(finite) + max(finite)) / 2 if finite else 0
    for i, line in enumerate(grid):
        for j, v in enumerate(line):
            shown = "failed" if math.isnan(v) else f"{v:.4f}{spread[i][j]}"
            ax.text(j, i, shown, ha="center", va="center", fontsize=9,
                    color="black" if not math.isnan(v) and v > middle else "white")


def draw(rows: list[dict], configs: list[dict], swept: list[str], score: str, words: str,
         title: str):
    """The figure for a sweep over ``swept``, ranked by ``score`` (in ``words``)."""
    if len(swept) == 2 and all(len(_values(rows, k)) <= CELLS for k in swept):
        fig = plots.figure(6.4, 4.8)
        _heatmap(fig, rows, swept, configs, score, words)
    else:
        panels = swept or ["seed"]
        fig = plots.figure(max(5.0, 4.2 * len(panels)), 3.8)
        for ax, key in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
            _panel(ax, rows, key, score, words)
    fig.suptitle(title)
    return fig
