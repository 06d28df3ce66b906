"""``with record():``: every operation's forward value, and after ``backward()`` its gradient.

Autograd keeps the graph's structure (``grad_fn`` and its ``next_functions``) but not the
values that flowed through it: an intermediate tensor is gone once nothing holds it, and the
tensors saved for the backward pass are freed by ``backward()``. Inside :func:`record` each
operation that builds a node of the graph leaves on that node (``grad_fn.metadata``):

* its output's value at that moment (a detached copy);
* the tensors it took that need no gradient (inputs such as ``x``, targets), and the Python
  numbers it took in arithmetic (``w * 2.0``);
* the leaves it took (the parameters), with their value then, so a graph drawn after an
  update still shows the value the forward pass used;
* the modules it ran inside (``nn.Module`` calls), for collapsing a large graph by module;
* the nodes the same function call made on the way (``linear`` is a transpose, a product
  and views): these are marked as inside it, and drawn as part of its box;
* a hook that keeps the gradient reaching the node in ``backward()``: ``dresult/doutput``,
  summed over backward passes as ``.grad`` is.

Nothing here holds a tensor that has a ``grad_fn``, so the metadata makes no reference cycle.
Outside the block nothing changes; the recording costs a copy of each intermediate value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

KEY = "shallowlab.graph"  # the entry of grad_fn.metadata this module writes
# functions whose Python-number arguments are data (``w * 2.0``), not options (``sum(1)``)
ARITHMETIC = {"__add__", "__radd__", "__iadd__", "add", "__sub__", "__rsub__", "__isub__", "sub",
              "rsub", "__mul__", "__rmul__", "__imul__", "mul", "__truediv__", "__rtruediv__",
              "__itruediv__", "div", "true_divide", "__pow__", "__rpow__", "pow"}


def _tensors(value) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)


def _keep_gradient(node, meta: dict) -> None:
    """Sum the gradient of each of ``node``'s outputs into ``meta["grad"]`` in backward."""
    def hook(grad_outputs):
        for i, g in enumerate(grad_outputs):
            if g is not None:
                old = meta["grad"].get(i)
                meta["grad"][i] = g.detach().clone() if old is None else old + g.detach()
    node.register_prehook(hook)


def _fold(node, before: set) -> int:
    """Mark the nodes one function call made on the way to its output ``node`` (``linear``
    makes a transpose, a product and views) as folded into it; return how many there were."""
    count, stack = 0, [n for n, _ in node.next_functions if n is not None]
    while stack:
        fn = stack.pop()
        if fn in before or hasattr(fn, "variable") or KEY in fn.metadata:
            continue
        fn.metadata[KEY] = {"inside": True}
        count += 1
        stack.extend(n for n, _ in fn.next_functions if n is not None)
    return count


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.modules: list[nn.Module] = []  # the nn.Module calls now running, outermost first

    def __torch_function__(self, func, types, args=(), kwargs=None):
        inputs = list(args) + list((kwargs or {}).values())
        before = {t.grad_fn for t in _tensors(inputs) if t.grad_fn is not None}
        out = func(*args, **(kwargs or {}))
        name = getattr(func, "__name__", "")
        for t in _tensors(out):
            if t.grad_fn is not None:
                self._note(t, name, inputs, before)
        return out

    def _note(self, t: torch.Tensor, name: str, inputs: list, before: set) -> None:
        meta = t.grad_fn.metadata.setdefault(KEY, {"values": {}, "grad": {}})
        if not meta["values"]:  # the first output of this node: what it took, and a hook
            _keep_gradient(t.grad_fn, meta)
            tensors = list(_tensors(inputs))
            meta["function"] = name
            meta["folded"] = _fold(t.grad_fn, before)
            meta["constants"] = [a for a in tensors if not a.requires_grad]
            meta["leaves"] = [(a, a.detach().clone()) for a in tensors
                              if a.requires_grad and a.grad_fn is None]
            meta["numbers"] = [a for a in inputs if isinstance(a, (int, float))
                               and not isinstance(a, bool)] if name in ARITHMETIC else []
            meta["modules"] = tuple(self.modules)
        meta["values"][t.output_nr] = t.detach().clone()


@contextlib.contextmanager
def record() -> Iterator[None]:
    """Within the block, each operation of autograd's graph keeps its value and, after
    ``backward()``, its gradient, for :func:`shallowlab.graph.draw_graph` to show::

        with record():
            loss = ((w * x - y) ** 2).mean()
        loss.backward()
        draw_graph(loss, names={"w": w, "x": x, "y": y})
    """
    recorder = _Recorder()

    def enter(module, args):
        recorder.modules.append(module)

    def leave(module, args, output):
        if recorder.modules and recorder.modules[-1] is module:
            recorder.modules.pop()

    pre = nn.modules.module.register_module_forward_pre_hook(enter)
    post = nn.modules.module.register_module_forward_hook(leave, always_call=True)
    try:
        with recorder:
            yield
    finally:
        pre.remove()
        post.remove()


def recorded(node) -> dict | None:
    """What :func:`record` left on the graph node ``node``, or None."""
    try:
        return node.metadata.get(KEY)
    except (AttributeError, RuntimeError):
        return None
