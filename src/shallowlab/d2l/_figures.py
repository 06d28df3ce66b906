"""The book's figures, working everywhere: animated in Jupyter, PNG files in scripts and IDEs.

Inside a Jupyter kernel (Jupyter, Colab, VS Code notebooks) everything behaves as in the book:
figures are SVG, :class:`Animator` redraws in place through ``IPython.display``. Anywhere else
each figure is also written to ``<folder>/<script>-<n>-<kind>.png``, where the folder is
``$SHALLOWLAB_FIGURES`` or else ``./figures``, and its path is printed the first time; a figure
that changes is rewritten, and at exit every open figure that changed since it was written (or
never was, like one drawn on ``d2l.plt`` directly) is written. IPython is imported only inside a
notebook, and pyplot only when a figure is first asked for: with no display and no
``MPLBACKEND``, on the Agg backend, so a headless script never needs a window system.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
import weakref
from collections import namedtuple
from pathlib import Path

import numpy as np
import torch

from shallowlab.d2l._hyper import HyperParameters

REDRAW_SECONDS = 1.0  # outside notebooks, an Animator's PNG is rewritten at most this often
REDRAW_SHARE = 0.03  # ... and so rarely that writing it takes at most this share of the time
Point = namedtuple("Point", ["x", "y"])


def in_notebook() -> bool:
    """True inside a Jupyter kernel; asks IPython only if something has imported it already."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and hasattr(shell, "kernel")


def pyplot():
    """``matplotlib.pyplot``, imported on first use; on Agg in a script with no display."""
    notebook = in_notebook()
    if "matplotlib.pyplot" not in sys.modules and not notebook \
            and not os.environ.get("MPLBACKEND") and not _has_display():
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not notebook:
        FIGURES.watch()
    return plt


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") \
        or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class FigureFiles:
    """Outside notebooks, each figure's PNG file, named when the figure is first saved."""

    def __init__(self) -> None:
        self.files: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.saved_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.count, self.watching, self.broken = 0, False, False

    def watch(self) -> None:
        if not self.watching:
            self.watching = True
            atexit.register(self.save_changed)

    def save(self, fig, kind: str, every: float = 0.0) -> None:
        """Write ``fig`` now, unless it was written less than ``every`` seconds ago, or (with
        ``every``) so recently that writing it again would take more than ``REDRAW_SHARE`` of
        the time since (a PNG takes a few hundred milliseconds on a small CPU)."""
        if self.broken or in_notebook():
            return
        if fig not in self.files:
            self.count += 1
            folder = Path(os.environ.get("SHALLOWLAB_FIGURES") or "figures")
            shown = folder / f"{_script_name()}-{self.count:02d}-{kind}.png"
            self.files[fig] = (Path.cwd() / shown, shown)
        elif every:
            done, took = self.saved_at.get(fig, (-np.inf, 0.0))
            if time.monotonic() - done < max(every, took / REDRAW_SHARE):
                return  # left stale: the next save, or the one at exit, writes it
        path, shown = self.files[fig]
        start = time.monotonic()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # tight, as Jupyter's inline backend saves: at the book's small sizes (3.5 x 2.5
            # inches) the x-axis label falls outside the canvas otherwise
            fig.savefig(path, bbox_inches="tight")
        except OSError as e:
            self.broken = True
            print(f"d2l: cannot write figures to {path.parent} ({e.strerror or e}); set "
                  "SHALLOWLAB_FIGURES to a folder you can write to", file=sys.stderr)
            return
        fig.stale = False  # savefig leaves it stale; any later change to the figure sets it again
        if fig not in self.saved_at:
            print(f"figure saved to {shown}")
        self.saved_at[fig] = (time.monotonic(), time.monotonic() - start)

    def save_changed(self) -> None:
        """Write every open figure that changed since it was written, or never was."""
        plt = sys.modules.get("matplotlib.pyplot")
        for num in plt.get_fignums() if plt is not None else []:
            fig = plt.figure(num)
            if fig.axes and (fig.stale or fig not in self.saved_at):
                self.save(fig, "figure")


FIGURES = FigureFiles()


def _script_name() -> str:
    name = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] not in ("", "-c", "-") else ""
    return name or "figure"


def use_svg_display() -> None:
    """In Jupyter, draw figures as SVG; elsewhere nothing (figures are written as PNG files)."""
    if in_notebook():
        try:
            from matplotlib_inline import backend_inline
        except ImportError:  # IPython older than 7.23 carries no matplotlib_inline: keep PNG
            return
        backend_inline.set_matplotlib_formats("svg")


def set_figsize(figsize=(3.5, 2.5)) -> None:
    """The size, in inches, of the figures made from now on."""
    use_svg_display()
    pyplot().rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend) -> None:
    """Labels, limits, scales, legend and a grid for ``axes``."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), figsize=(3.5, 2.5),
         axes=None):
    """Plot one or more curves: ``Y`` against ``X``, or ``X`` against its indices if no ``Y``.

    ``X`` and ``Y`` are each one sequence or a list of them; ``fmts`` styles the curves in
    turn. Without ``axes``, a script draws each call on a fresh figure, as each notebook cell
    does.
    """
    if legend is None:
        legend = []
    set_figsize(figsize)
    plt = pyplot()
    if axes is None:
        if not in_notebook() and plt.get_fignums() and plt.gcf() in FIGURES.files:
            plt.figure()  # the current figure is a finished plot: start the next one
        axes = plt.gca()

    def has_one_axis(X):
        return (hasattr(X, "ndim") and X.ndim == 1
                or isinstance(X, list) and not hasattr(X[0], "__len__"))

    if has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
    FIGURES.save(axes.figure, "plot")


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """A ``num_rows`` x ``num_cols`` grid of images (tensors or PIL images); returns the axes."""
    fig, axes = pyplot().subplots(num_rows, num_cols, figsize=(num_cols * scale,
                                                              num_rows * scale))
    axes = np.asarray(axes).flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(img.detach().cpu().numpy() if torch.is_tensor(img) else img)
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    FIGURES.save(fig, "images")
    return axes


class Animator:
    """Curves that grow point by point, e.g. loss and accuracy after each epoch.

    In Jupyter each :meth:`add` redraws the figure in place; elsewhere it rewrites the
    figure's PNG, at most once a second (the last state is written at the latest at exit).
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1,
                 ncols=1, figsize=(3.5, 2.5)):
        if legend is None:
            legend = []
        use_svg_display()
        self.fig, self.axes = pyplot().subplots(nrows, ncols, figsize=figsize)
        if nrows * ncols == 1:
            self.axes = [self.axes]
        self._config = (xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
        self.X, self.Y, self.fmts = None, None, fmts

    def config_axes(self) -> None:
        set_axes(self.axes[0], *self._config)

    def add(self, x, y) -> None:
        """Add the point ``(x, y_i)`` to curve ``i``, for each ``y_i`` of ``y`` that is not None."""
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        self.axes[0].cla()
        for xs, ys, fmt in zip(self.X, self.Y, self.fmts):
            self.axes[0].plot(xs, ys, fmt)
        self.config_axes()
        if in_notebook():
            from IPython import display

            display.display(self.fig)
            display.clear_output(wait=True)
        else:
            FIGURES.save(self.fig, "animator", every=REDRAW_SECONDS)


class ProgressBoard(HyperParameters):
    """Curves drawn as they grow, the English edition's live plot of training (d2l 1.0, 3.2).

    ``draw(x, y, label, every_n)`` collects points of the curve ``label`` and, once it holds
    ``every_n`` of them, adds their mean as one point and redraws. ``y`` may be a tensor: it is
    read once per drawn point. In Jupyter the figure is one output of the cell, updated in
    place; elsewhere it is a PNG, rewritten as an ``Animator``'s is (see ``FigureFiles.save``)
    and at the end of a ``Trainer.fit``. With ``display=False`` the points are kept
    (``board.data``) and not drawn.
    """

    def __init__(self, xlabel=None, ylabel=None, xlim=None, ylim=None, xscale="linear",
                 yscale="linear", ls=("-", "--", "-.", ":"), colors=("C0", "C1", "C2", "C3"),
                 fig=None, axes=None, figsize=(3.5, 2.5), display=True):
        self.save_hyperparameters()
        self.raw_points, self.data = {}, {}  # label -> pending points, label -> drawn points
        self._lines, self._shown = {}, None

    def draw(self, x, y, label, every_n=1):
        points = self.raw_points.setdefault(label, [])
        line = self.data.setdefault(label, [])
        points.append((x, y))
        if len(points) < max(every_n, 1):
            return
        xs, ys = zip(*points)
        line.append(Point(sum(xs) / len(xs), float(sum(ys) / len(ys))))
        points.clear()
        if self.display:
            self._render()

    def _render(self) -> None:
        plt = pyplot()
        if self.fig is None:
            use_svg_display()
            self.fig = plt.figure(figsize=self.figsize)
            if in_notebook():  # shown by _show only: not again by the inline backend at the end
                plt.close(self.fig)
        axes = self.axes or (self.fig.axes[0] if self.fig.axes else self.fig.add_subplot())
        new = False
        for (label, points), ls, color in zip(self.data.items(), self.ls, self.colors):
            if label not in self._lines:
                self._lines[label], new = axes.plot([], [], linestyle=ls, color=color)[0], True
            self._lines[label].set_data([p.x for p in points], [p.y for p in points])
        axes.relim()
        axes.autoscale_view()
        if self.xlim:
            axes.set_xlim(self.xlim)
        if self.ylim:
            axes.set_ylim(self.ylim)
        axes.set_xlabel(self.xlabel)
        axes.set_ylabel(self.ylabel)
        axes.set_xscale(self.xscale)
        axes.set_yscale(self.yscale)
        if new:
            axes.legend(list(self._lines.values()), list(self._lines))
        if in_notebook():
            self._show()
        else:
            FIGURES.save(self.fig, "board", every=REDRAW_SECONDS)

    def _show(self) -> None:
        """One display per cell: the first draw of a cell shows the figure, later ones
        replace it in place."""
        from IPython import display, get_ipython

        cell = get_ipython().execution_count
        if self._shown is not None and self._shown[0] == cell:
            self._shown[1].update(self.fig)
        else:
            self._shown = (cell, display.display(self.fig, display_id=True))
