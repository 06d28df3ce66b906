"""What a checker is made of: properties a learner's function must have, each tested on inputs
chosen to catch the usual mistakes, and the words for the one that fails.

A property's test calls the learner's function and raises :class:`Failed` with one line (two
at most: what went wrong on which input, then a hint) when the property does not hold.
:func:`verify` runs the properties in order and stops at the first that fails, so the learner
reads one problem at a time. Nothing here shows the reference solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


class Failed(Exception):
    """A property that does not hold: which input, what came out, what was wanted."""


@dataclass(frozen=True)
class Property:
    name: str
    test: Callable[[Callable], None]


@dataclass(frozen=True)
class Checking:
    """A checker's properties, in the order they are tested, and its reference solution."""

    properties: tuple[Property, ...]
    reference: Callable


def verify(checking: Checking, fn: Callable) -> tuple[bool, list[str]]:
    """``(True, [one line naming what holds])`` or ``(False, [one or two lines])``."""
    for prop in checking.properties:
        try:
            prop.test(fn)
        except Failed as failed:
            return False, [f"{prop.name}: {line}" if i == 0 else line
                           for i, line in enumerate(str(failed).splitlines()[:2])]
        except Exception as error:  # the learner's code raised: say so, in one line
            said = " ".join(str(error).split())[:160]
            cap = " (under the check's memory cap)" if isinstance(error, MemoryError) or \
                "allocate" in said else ""
            return False, [f"{prop.name}: your function raised {type(error).__name__}{cap}: "
                           f"{said}"]
    names = "; ".join(p.name for p in checking.properties)
    return True, [f"all {len(checking.properties)} properties hold: {names}"]


def show(t) -> str:
    """A tensor (or number) as a message shows it: small ones in full, big ones by shape."""
    if not isinstance(t, torch.Tensor):
        return repr(t)
    if t.numel() <= 6:
        values = ", ".join(f"{v:.4g}" for v in t.detach().double().flatten().tolist())
        return f"[{values}]" if t.dim() <= 1 else f"[[{values}]]" if t.shape[0] == 1 else \
            f"a {tuple(t.shape)} tensor [{values}]"
    first = ", ".join(f"{v:.4g}" for v in t.detach().double().flatten()[:3].tolist())
    return f"a {tuple(t.shape)} {str(t.dtype).removeprefix('torch.')} tensor [{first}, ...]"


def tensor(value, what: str) -> torch.Tensor:
    """``value`` if it is a tensor; else Failed saying what came back instead."""
    if not isinstance(value, torch.Tensor):
        raise Failed(f"{what} returned {type(value).__name__}, not a torch.Tensor")
    return value


def same_shape(got: torch.Tensor, want_shape: tuple, what: str, hint: str = "") -> None:
    if tuple(got.shape) != tuple(want_shape):
        raise Failed(f"{what} has shape {tuple(got.shape)}, want {tuple(want_shape)}"
                     + (f"\nhint: {hint}" if hint else ""))


def finite(got: torch.Tensor, what: str, hint: str = "") -> None:
    if not torch.isfinite(got).all():
        bad = "nan" if torch.isnan(got).any() else "inf"
        raise Failed(f"{what} holds {bad}: {show(got)}" + (f"\nhint: {hint}" if hint else ""))


TOLERANCES = {torch.float16: (1e-3, 1e-5), torch.bfloat16: (1.6e-2, 1e-5),
              torch.float32: (1.3e-6, 1e-5), torch.float64: (1e-7, 1e-7)}  # torch.testing's


def close(got: torch.Tensor, want: torch.Tensor, what: str, *, rtol: float | None = None,
          atol: float | None = None, hint: str = "") -> None:
    """``got`` equals ``want``: ``|got - want| <= atol + rtol |want|`` entry by entry, with
    the tolerances of want's dtype unless given (torch.testing's defaults)."""
    same_shape(got, want.shape, what, hint)
    finite(got, what, hint)
    default_rtol, default_atol = TOLERANCES.get(want.dtype, (0.0, 0.0))
    got = got.detach().to(want.dtype)
    if not torch.allclose(got, want, rtol=default_rtol if rtol is None else rtol,
                          atol=default_atol if atol is None else atol):
        worst = (got - want).abs().max().item()
        raise Failed(f"{what} is off by up to {worst:.3g}: got {show(got)}, want {show(want)}"
                     + (f"\nhint: {hint}" if hint else ""))


def numeric_gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                     eps: float = 1e-6) -> torch.Tensor:
    """Central differences of the scalar ``f`` at ``x`` (float64):
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry i."""
    x = x.detach().double()
    grad = torch.zeros_like(x)
    flat, out = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        keep = flat[i].item()
        flat[i] = keep + eps
        up = float(f(x))
        flat[i] = keep - eps
        down = float(f(x))
        flat[i] = keep
        out[i] = (up - down) / (2 * eps)
    return grad


def gradient_matches(fn: Callable, make: Callable[[torch.Tensor], tuple], x: torch.Tensor,
                     what: str) -> None:
    """The gradient autograd takes through ``fn(*make(x))`` (weighted by fixed random
    numbers, summed) equals central differences at ``x``, in float64."""
    weights = torch.randn(tensor(fn(*make(x.double())), what).shape,
                          generator=torch.Generator().manual_seed(7), dtype=torch.float64)

    def scalar(v: torch.Tensor) -> torch.Tensor:
        return (fn(*make(v)) * weights).sum()

    leaf = x.detach().double().requires_grad_()
    out = scalar(leaf)
    if out.requires_grad:
        out.backward()
    if leaf.grad is None:
        raise Failed(f"no gradient reaches the input through {what}: is the graph cut (detach, "
                     "numpy, .item(), an in-place write under no_grad)?")
    with torch.no_grad():
        numeric = numeric_gradient(scalar, x)
    close(leaf.grad, numeric, f"the gradient through {what} (autograd against central "
          "differences)", rtol=1e-4, atol=1e-6)
