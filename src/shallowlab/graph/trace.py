"""The autograd graph of a result, walked once from its ``grad_fn`` back to the leaves.

:func:`trace` returns plain data (:class:`Graph`: nodes with their values and gradients, and
edges in the direction of the forward pass); drawing it is :mod:`.draw`'s job. Where a value
comes from, best first:

* what :func:`shallowlab.graph.record` left on each node (every value and gradient);
* the tensors the caller names (``names``): leaves and any kept intermediate tensor, whose
  ``.grad`` shows after ``backward()`` if it called ``retain_grad()``;
* the leaves themselves (``.grad`` after ``backward()``) and the result;
* the tensors autograd saved for the backward pass, while they exist: ``backward()`` frees
  them, and a graph that needs them then is refused with one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from shallowlab.errors import ShallowlabError
from shallowlab.graph.record import recorded

Names = nn.Module | Mapping[str, torch.Tensor] | Iterable | None
RECORD = "compute the result inside `with shallowlab.graph.record():`"


class GraphError(ShallowlabError, ValueError):
    """A tensor that has no graph to draw, or whose graph's values are gone."""


@dataclass
class Node:
    """One box of the drawing: an operation, a leaf, a constant input, or a module."""

    key: str
    kind: str  # "op", "leaf", "constant" or "module"
    title: str  # the operation (Mul, Sigmoid) or the tensor's name
    shape: tuple[int, ...] | None = None
    value: torch.Tensor | None = None  # forward value
    grad: torch.Tensor | None = None  # d result / d this, after backward()
    now: torch.Tensor | None = None  # a leaf's value now, where it changed since the forward
    extra: str = ""  # the Python numbers an operation took: "with 0.5"
    module: tuple[str, ...] = ()  # the module an operation ran in: ("0",), ("encoder", "1")
    result: bool = False


@dataclass
class Graph:
    nodes: dict[str, Node]
    edges: list[tuple[str, str]]  # (input, consumer), the forward direction
    kinds: dict[tuple[str, ...], str] = field(default_factory=dict)  # module path -> class
    notes: list[str] = field(default_factory=list)


def op_name(fn) -> str:
    """``MulBackward0`` -> ``Mul``: the forward operation a backward node stands for."""
    return re.sub(r"Backward\d*$", "", type(fn).__name__) or type(fn).__name__


def _check(result) -> None:
    if not isinstance(result, torch.Tensor):
        raise GraphError(f"draw_graph takes a tensor, not {type(result).__name__}")
    if result.grad_fn is None:
        if result.requires_grad:
            raise GraphError(f"this tensor (shape {tuple(result.shape)}) is a leaf: it has no "
                             "graph of its own; draw a result computed from it")
        raise GraphError(f"this tensor (shape {tuple(result.shape)}) has no autograd graph: "
                         "nothing it came from requires grad, or it was computed under "
                         "torch.no_grad() or detached; call requires_grad_() on its inputs "
                         "and compute it again")


def _named(names: Names) -> tuple[dict[int, tuple[str, torch.Tensor]], dict[int, str],
                                  dict[str, str]]:
    """(id(tensor) -> (name, tensor), id(module) -> qualified name, name -> module class)."""
    tensors, modules, kinds = {}, {}, {}
    items = [names] if isinstance(names, (nn.Module, Mapping)) else list(names or [])
    for item in items:
        if isinstance(item, nn.Module):
            for name, t in [*item.named_parameters(), *item.named_buffers()]:
                tensors[id(t)] = (name, t)
            for name, m in item.named_modules():
                if name:
                    modules[id(m)], kinds[name] = name, type(m).__name__
        elif isinstance(item, Mapping):
            tensors.update({id(t): (str(name), t) for name, t in item.items()})
        else:
            raise GraphError(f"names must be a module or a dict of tensors, not "
                             f"{type(item).__name__}")
    return tensors, modules, kinds


def _inputs(fn) -> list:
    """The nodes ``fn`` takes, looking through those a recorded call made inside itself."""
    found, stack, seen = [], [n for n, _ in getattr(fn, "next_functions", ()) if n], set()
    while stack:
        nxt = stack.pop(0)
        if nxt in seen:
            continue
        seen.add(nxt)
        if (recorded(nxt) or {}).get("inside"):
            stack.extend(n for n, _ in nxt.next_functions if n is not None)
        else:
            found.append(nxt)
    return found


class _Walk:
    def __init__(self, result: torch.Tensor, names: Names) -> None:
        self.tensors, self.modules, kinds = _named(names)
        self.kept = {(t.grad_fn, t.output_nr): (name, t) for name, t in self.tensors.values()
                     if t.grad_fn is not None}
        self.graph = Graph({}, [], {tuple(k.split(".")): v for k, v in kinds.items()})
        self.keys: dict[object, str] = {}
        self.saved: dict[tuple, torch.Tensor] = {}
        self.freed = False
        self.result = result

    def key(self, thing) -> str:
        return self.keys.setdefault(thing, f"n{len(self.keys)}")

    def run(self) -> Graph:
        order, stack, seen = [], [self.result.grad_fn], set()
        while stack:
            fn = stack.pop()
            if fn in seen:
                continue
            seen.add(fn)
            self.key(fn)
            order.append(fn)
            for nxt in _inputs(fn):
                self.graph.edges.append((self.key(nxt), self.keys[fn]))
                stack.append(nxt)
        for fn in order:
            self._saved(fn)
        for fn in order:
            self._node(fn)
        if self.freed and not any(recorded(fn) for fn in order):
            raise GraphError("this graph was freed by backward(): the values it saved are "
                             f"gone; draw it before backward(), call backward(retain_graph="
                             f"True), or {RECORD} to keep every value and gradient")
        if any(n.kind == "op" and n.value is None for n in self.graph.nodes.values()):
            self.graph.notes.append(f"values of unnamed intermediate results: {RECORD}")
        return self.graph

    def _saved(self, fn) -> None:
        """The values autograd saved for backward: the outputs of the nodes they came from."""
        for attr in dir(fn):
            if not attr.startswith("_saved_"):
                continue
            try:
                value = getattr(fn, attr)
            except RuntimeError:  # freed by backward()
                self.freed = True
                continue
            items = value if isinstance(value, (list, tuple)) else [value]
            for t in items:
                if not isinstance(t, torch.Tensor):
                    continue
                if attr == "_saved_result":
                    self.saved.setdefault((fn, 0), t)
                elif t.grad_fn is not None:
                    self.saved.setdefault((t.grad_fn, t.output_nr), t)

    def _node(self, fn) -> None:
        if hasattr(fn, "variable"):  # AccumulateGrad: a leaf
            self._leaf(fn)
            return
        meta = recorded(fn) or {}
        title = meta["function"] if meta.get("folded") else op_name(fn)
        node = Node(self.keys[fn], "op", title, result=fn is self.result.grad_fn)
        out = self.result.output_nr if node.result else 0  # the output drawn of this node
        try:
            node.shape = tuple(fn._input_metadata[out].shape)
        except (AttributeError, IndexError, RuntimeError):
            pass
        node.value = meta.get("values", {}).get(out)
        node.grad = meta.get("grad", {}).get(out)
        name, kept = self.kept.get((fn, out), (None, None))
        if node.result and kept is None:
            kept = self.result
        if kept is not None:
            node.title = f"{name}: {node.title}" if name else node.title
            node.value = kept.detach() if node.value is None else node.value
            node.grad = kept.grad if node.grad is None and kept.retains_grad else node.grad
        if node.value is None and (fn, out) in self.saved:
            node.value = self.saved[(fn, out)].detach()
        if meta.get("numbers"):
            node.extra = "with " + ", ".join(f"{n:g}" for n in meta["numbers"])
        node.module = self._module(fn, meta)
        if node.module:
            node.title += f" ({'.'.join(node.module)})"
        self.graph.nodes[node.key] = node
        for t in meta.get("constants", []):
            key = self.key(("constant", id(t)))
            if key not in self.graph.nodes:
                name = self.tensors.get(id(t), ("input", None))[0]
                self.graph.nodes[key] = Node(key, "constant", name, tuple(t.shape), t.detach())
            self.graph.edges.append((key, node.key))

    def _leaf(self, fn) -> None:
        t = fn.variable
        name = self.tensors.get(id(t), ("leaf", None))[0]
        node = Node(self.keys[fn], "leaf", name, tuple(t.shape), t.detach(), t.grad)
        then = next((value for thing in self.keys if not isinstance(thing, tuple)
                     for leaf, value in (recorded(thing) or {}).get("leaves", [])
                     if leaf is t), None)
        if then is not None:  # the value the forward pass used, and the value now if changed
            node.value, node.now = then, None if torch.equal(then, t.detach()) else t.detach()
        self.graph.nodes[node.key] = node

    def _module(self, fn, meta: dict) -> tuple[str, ...]:
        """The module an operation ran in: recorded, else the owner of a named parameter it
        took directly (``0.weight`` -> ``("0",)``)."""
        for m in reversed(meta.get("modules", ())):
            if id(m) in self.modules:
                return tuple(self.modules[id(m)].split("."))
        for nxt in _inputs(fn):
            name = self.tensors.get(id(getattr(nxt, "variable", None)), ("", None))[0]
            if "." in name:
                return tuple(name.split(".")[:-1])
        return ()


def trace(result: torch.Tensor, names: Names = None) -> Graph:
    """The graph of ``result``: every operation and leaf it came from, with what is known of
    each one's value and gradient (see the module's docstring for where they come from).

    ``names``: a module (its ``named_parameters`` and buffers), a dict ``{name: tensor}``
    (leaves, inputs, kept intermediates), or a list of these. Raises :class:`GraphError` for a
    tensor without a graph, and for a graph freed by ``backward()`` that was not recorded.
    """
    _check(result)
    return _Walk(result, names).run()
