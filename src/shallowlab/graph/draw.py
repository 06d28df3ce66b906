"""The autograd graph of a PyTorch result, drawn with Graphviz, values and gradients on it.

Micrograd's ``draw_dot`` shows a value and a gradient on every node of its scalar graph;
torchviz draws PyTorch's real graph but shows neither. :func:`draw_graph` draws PyTorch's
graph as micrograd draws its own: the forward pass from left to right, each operation with its
shape and forward value, each leaf with its name, value and gradient, the inputs that need no
gradient in grey. A scalar shows as a number, a small tensor entry by entry, a larger one as
its mean, spread and range.

Graphviz is optional (``pip install 'shallowlab[graph]'`` and Debian's ``graphviz``): it is
imported here only when a graph is drawn, and its absence is one line, a
:class:`GraphvizMissing` (a ``ConfigError``: exit status 2 at the command line).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from shallowlab.errors import ConfigError
from shallowlab.files import atomic_write
from shallowlab.graph.collapse import collapse
from shallowlab.graph.trace import Names, Node, trace

STYLE = {  # kind: Graphviz node attributes
    "op": {"shape": "box", "style": "rounded", "color": "#57606a"},
    "leaf": {"shape": "box", "style": "filled", "fillcolor": "#ddf4ff", "color": "#0969da"},
    "constant": {"shape": "box", "style": "filled", "fillcolor": "#eaeef2", "color": "#8c959f"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#fff8c5", "color": "#9a6700"},
}
SMALL = 12  # tensors with at most this many entries are shown entry by entry


class GraphvizMissing(ConfigError):
    """Graphviz (the Python package or the ``dot`` program) is not installed."""


def require_graphviz():
    """The ``graphviz`` module, once both it and Graphviz's ``dot`` program are there; else
    :class:`GraphvizMissing`, one line naming what to install."""
    try:
        import graphviz
    except ImportError:
        raise GraphvizMissing("drawing a graph needs the Python package graphviz, which is not "
                              "installed: pip install 'shallowlab[graph]' (or pip install "
                              "graphviz)") from None
    if shutil.which("dot") is None:
        raise GraphvizMissing("drawing a graph needs Graphviz's dot program, which is not on "
                              "PATH: install the graphviz package (Debian and Ubuntu: sudo "
                              "apt-get install graphviz; macOS: brew install graphviz)")
    return graphviz


def number(x: float, digits: int) -> str:
    return f"{x:.{digits}g}"


def summary(t: torch.Tensor, digits: int = 4) -> list[str]:
    """``t`` in a few lines: a number, the entries (a matrix row by row), or its statistics."""
    t = t.detach().to("cpu", torch.float64) if t.is_floating_point() else t.detach().cpu()
    if t.numel() == 1:
        return [number(t.item(), digits)]
    if t.numel() <= SMALL and t.dim() <= 2:
        rows = t.reshape(1, -1) if t.dim() <= 1 else t
        text = ["[" + ", ".join(number(v, digits) for v in row.tolist()) + "]" for row in rows]
        if t.dim() == 2:  # a matrix: "[[a, b]," above " [c, d]]"
            text = [("[" if i == 0 else " ") + r + ("]" if i == len(text) - 1 else ",")
                    for i, r in enumerate(text)]
        return text
    if t.numel() == 0:
        return ["empty"]
    t = t.double()
    return [f"mean {number(t.mean().item(), digits)}, std {number(t.std().item(), digits)}",
            f"min {number(t.min().item(), digits)}, max {number(t.max().item(), digits)}"]


def label(node: Node, digits: int = 4) -> str:
    """The text of a node's box: what it is, its shape, value and gradient, one per line."""
    lines = [node.title + (f" {node.extra}" if node.extra and node.kind == "op" else "")]
    if node.kind == "module" and node.extra:
        lines.append(node.extra)
    if node.shape is not None and len(node.shape) > 0 and any(s != 1 for s in node.shape):
        lines.append("shape " + "\u00d7".join(map(str, node.shape)))
    for word, value in (("value", node.value), ("now", node.now), ("grad", node.grad)):
        if value is not None:
            text = summary(value, digits)
            lines.append(f"{word} {text[0]}")
            lines += [" " * (len(word) + 1) + line for line in text[1:]]
    return "\n".join(lines)


def draw_graph(result: torch.Tensor, names: Names = None, *, digits: int = 4,
               max_nodes: int = 60, title: str | None = None, rankdir: str = "LR"):
    """The autograd graph of ``result``, back to its leaves, as a ``graphviz.Digraph``.

    In Jupyter it shows inline; :func:`save` writes it as SVG or PNG. Each operation shows
    its shape and forward value, each leaf its name, value and, after ``backward()``, its
    gradient ``d result / d leaf``. For the value and gradient of every intermediate result
    too, compute it inside ``with shallowlab.graph.record():``.

    Args:
        result: a tensor computed with autograd (a loss, an output).
        names: what to call the tensors: a module (its ``named_parameters``), a dict
            ``{name: tensor}``, or a list of these. Unnamed leaves are called ``leaf``.
        digits: significant digits of every number shown.
        max_nodes: above this many boxes the graph is collapsed by module, and a line under
            it says what was collapsed.
        title: a line drawn under the graph.
        rankdir: ``"LR"``, the forward pass from left to right, or ``"TB"``, top to bottom
            (for a long chain of operations).

    Raises:
        GraphError: ``result`` has no graph, or its graph was freed by ``backward()`` before
            its values were recorded.
        GraphvizMissing: Graphviz is not installed.
    """
    graphviz = require_graphviz()
    graph = collapse(trace(result, names), max_nodes)
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                       "fontsize": "11"},
                           node_attr={"fontname": "Helvetica", "fontsize": "10"},
                           edge_attr={"color": "#57606a", "arrowsize": "0.7"})
    for node in graph.nodes.values():
        style = dict(STYLE[node.kind])
        if node.result:
            style.update(penwidth="2.5", color="#bf3989")
        dot.node(node.key, label(node, digits).replace("\n", "\\l") + "\\l", **style)
    for a, b in graph.edges:
        dot.edge(a, b)
    lines = ([title] if title else []) + graph.notes
    if lines:
        dot.attr(label="\\l".join(lines) + "\\l", labelloc="b", labeljust="l")
    return dot


def save(graph, path: str | Path) -> Path:
    """Write a drawn graph (from :func:`draw_graph`) to ``path``; the suffix (``.svg``,
    ``.png``, ``.pdf``) picks the format. The file is written whole or not at all."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ConfigError(f"{path}: a graph is saved as .svg, .png or .pdf, not {path.suffix!r}")
    require_graphviz()
    atomic_write(path, graph.pipe(format=fmt))
    return path
