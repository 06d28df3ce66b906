"""Numerical checks of the worked answers of the math exercises: each computes the answer's
result another way (autograd, finite differences, sampling, enumeration, a closed form against
a solver) and says whether they agree.

A check is a function of no arguments returning ``(ok, detail)``, registered under its name
with the claim it tests by :func:`check`; the catalog's ``check`` field names it. They run in
float64 unless a dtype is the point, from fixed seeds, in well under a second each. The
modules: ``calculus`` (derivatives and graphs), ``softmax`` (softmax, log-sum-exp,
temperature, number formats), ``regression`` (least squares, likelihoods, penalties),
``counting`` (codes, estimates, decisions, VC dimensions, matrix bounds).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

MODULES = ("calculus", "softmax", "regression", "counting")


@dataclass(frozen=True)
class Checked:
    claim: str
    ok: bool
    detail: str


CHECKS: dict[str, Callable[[], Checked]] = {}


def check(name: str, claim: str):
    """Register the decorated ``() -> (ok, detail)`` as check ``name`` testing ``claim``."""
    def register(fn: Callable[[], tuple[bool, str]]):
        def run() -> Checked:
            ok, detail = fn()
            return Checked(claim, bool(ok), detail)
        CHECKS[name] = run
        return fn
    return register


def _load() -> None:
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")


def names() -> set[str]:
    _load()
    return set(CHECKS)


def run(name: str) -> Checked:
    """Run check ``name``."""
    _load()
    return CHECKS[name]()
