"""Autograd's gradients against finite differences, in float64, with the worst entry named.

For a scalar function ``f`` of tensors, the central difference

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

errs by about ``eps^2 |f'''| / 6`` (truncation) plus ``u |f| / eps`` (rounding, u = 2^-53
in float64): some 1e-10 at ``eps = 1e-6`` for values near 1, where float32's rounding alone
would be 1e-1. An entry passes when ``|numeric - autograd| <= atol + rtol |numeric|``.

A function whose output is not a scalar is checked through ``s = sum(v * f(x))`` with a fixed
random ``v`` (drawn from ``seed``): a wrong gradient anywhere changes ``ds/dx`` unless it is
exactly orthogonal to ``v``, which happens with probability zero.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Entry:
    """One entry of one input: its derivative by finite differences and by autograd."""

    input: str
    index: tuple[int, ...]
    numeric: float
    autograd: float

    @property
    def error(self) -> float:
        return abs(self.numeric - self.autograd)


@dataclass(frozen=True)
class Check:
    """The outcome of :func:`gradcheck`; true when every entry agreed, printed as one line."""

    passed: bool
    worst: Entry | None  # the entry furthest outside (or nearest to) its tolerance
    entries: int
    atol: float
    rtol: float

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.worst is None:
            return "gradcheck: no floating-point input to check"
        w = self.worst
        where = f"input {w.input!r} entry {w.index}: finite differences {w.numeric:.10g}, " \
                f"autograd {w.autograd:.10g}"
        if self.passed:
            return (f"gradcheck passed: {self.entries} entries agree; the worst, {where} "
                    f"(difference {w.error:.2g})")
        return (f"gradcheck failed: {where} (difference {w.error:.3g}, more than "
                f"{self.atol:g} + {self.rtol:g} x |finite difference|)")

    __repr__ = __str__


def _names(fn: Callable, count: int, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        return list(names)
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"args[{i}]" for i in range(count)]


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of entry ``flat`` of a row-major tensor of ``shape``."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))


def _float64(inputs: Sequence) -> list:
    return [x.detach().to(torch.float64).clone().requires_grad_()
            if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs]


def finite_differences(fn: Callable[..., torch.Tensor], *inputs,
                       eps: float = 1e-6) -> list[torch.Tensor | None]:
    """The central-difference gradient of the scalar ``fn(*inputs)`` with respect to each
    floating-point input (None for the others), computed in float64 without autograd."""
    args = [x.detach().to(torch.float64).clone() if isinstance(x, torch.Tensor)
            and x.is_floating_point() else x for x in inputs]
    grads: list[torch.Tensor | None] = []
    with torch.no_grad():
        for x in args:
            if not (isinstance(x, torch.Tensor) and x.is_floating_point()):
                grads.append(None)
                continue
            flat, grad = x.view(-1), torch.empty(x.numel(), dtype=torch.float64)
            for i in range(x.numel()):
                keep = flat[i].item()
                flat[i] = keep + eps
                up = float(fn(*args))
                flat[i] = keep - eps
                down = float(fn(*args))
                flat[i] = keep
                grad[i] = (up - down) / (2 * eps)
            grads.append(grad.view(x.shape))
    return grads


def gradcheck(fn: Callable[..., torch.Tensor], *inputs, names: Sequence[str] | None = None,
              eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5,
              seed: int = 0) -> Check:
    """Check autograd's gradient of ``fn(*inputs)`` against finite differences, in float64.

    Every floating-point tensor among ``inputs`` is copied to float64 and checked entry by
    entry; other arguments (labels, numbers) pass through unchanged. ``names`` names the
    inputs in the report (default: ``fn``'s parameter names). A non-scalar output is weighted
    by a fixed random tensor first (see the module's docstring).

    Returns a :class:`Check`: true when all agree; ``str()`` is one line naming the worst
    entry (which input, which index, both values)::

        >>> gradcheck(lambda x: (x ** 3).sum(), torch.randn(3))
        gradcheck passed: 3 entries agree; the worst, input 'x' entry (1,): ...
    """
    args = _float64(inputs)
    labels = _names(fn, len(args), names)
    out = fn(*args)
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise TypeError(f"gradcheck needs a function returning a floating-point tensor, got "
                        f"{type(out).__name__}")
    weights = None
    if out.numel() != 1:
        generator = torch.Generator().manual_seed(seed)
        weights = torch.randn(out.shape, generator=generator, dtype=torch.float64)

    def scalar(*a):
        y = fn(*a)
        return y.sum() if weights is None else (y * weights.to(y.dtype)).sum()

    checked = [i for i, x in enumerate(args) if isinstance(x, torch.Tensor)
               and x.is_floating_point()]
    grads = torch.autograd.grad(scalar(*args), [args[i] for i in checked], allow_unused=True)
    numeric = finite_differences(scalar, *args, eps=eps)
    worst, ratio, count = None, -1.0, 0
    for i, grad in zip(checked, grads):
        grad = torch.zeros_like(args[i]) if grad is None else grad.detach()
        allowed = atol + rtol * numeric[i].abs()
        ratios = ((numeric[i] - grad).abs() / allowed).view(-1)
        count += ratios.numel()
        if ratios.numel() and ratios.max().item() > ratio:
            k = int(ratios.argmax())
            index = _index(k, tuple(grad.shape))
            worst = Entry(labels[i], index, numeric[i].view(-1)[k].item(),
                          grad.reshape(-1)[k].item())
            ratio = ratios.max().item()
    return Check(ratio <= 1.0, worst, count, atol, rtol)
