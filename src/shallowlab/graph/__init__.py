"""Backpropagation made visible: the autograd graph drawn with values and gradients, and a
gradient checker.

* :func:`draw_graph` draws the graph of any PyTorch result back to its leaves (Graphviz), each
  node with its operation, shape, forward value and, after ``backward()``, gradient;
  :func:`record` keeps the value and gradient of every intermediate result for it.
* :func:`gradcheck` compares autograd's gradients of any function of tensors with central
  finite differences in float64, and names the worst entry.

Graphviz is needed only to draw (``pip install 'shallowlab[graph]'`` and Debian's ``graphviz``);
nothing here imports it before a graph is drawn.
"""

from shallowlab.graph.draw import GraphvizMissing, draw_graph, require_graphviz, save
from shallowlab.graph.gradcheck import Check, finite_differences, gradcheck
from shallowlab.graph.record import record
from shallowlab.graph.trace import GraphError, trace

__all__ = ["Check", "GraphError", "GraphvizMissing", "draw_graph", "finite_differences",
           "gradcheck", "record", "require_graphviz", "save", "trace"]
