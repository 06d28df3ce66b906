"""The experiments, by the name the CLI runs them under.

``CATALOG`` says what each is (its module, its title, its presets) without importing it, so
that ``shallowlab list`` and ``--help`` answer without torch. ``EXPERIMENTS`` maps a name to
its :class:`Experiment`, importing the experiment's module the first time it is asked for;
``Experiment`` and ``Headline`` come from ``base`` on first use too.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import NamedTuple


class Entry(NamedTuple):
    module: str
    title: str
    presets: tuple[str, ...] = ()


CATALOG: dict[str, Entry] = {
    "autograd": Entry("autograd", "autograd: a hand-made gradient descent, higher derivatives, "
                      "activations (d2l 2.5)"),
    "linreg": Entry("linreg", "linear regression on synthetic data (d2l 3.2-3.3)"),
    "ohm": Entry("ohm", "Ohm's law: a resistance learned from noisy I, V pairs (d2l 3.2 "
                 "exercise)"),
    "lr-sweep": Entry("lr_sweep", "linear regression at eight learning rates, one start, one "
                      "batch order (d2l 3.2-3.3)"),
    "huber": Entry("huber", "squared vs Huber loss on labels with 5% outliers (d2l 3.2-3.3 "
                   "exercise)"),
    "softmax": Entry("softmax", "softmax regression on Fashion-MNIST (d2l 3.6-3.7)"),
    "mlp": Entry("mlp", "MLP on Fashion-MNIST (d2l 4.2-4.3)", ("fast",)),
    "polyfit": Entry("polyfit", "polynomial under- and over-fitting, degree by "
                     "cross-validation (d2l 4.4)"),
    "weight-decay": Entry("weight_decay", "weight decay on 200 inputs and 20 examples, swept "
                          "over lambda (d2l 4.5)"),
    "dropout": Entry("dropout", "dropout on a 784-256-256-10 MLP against none (d2l 4.6)"),
    "backprop": Entry("backprop", "backpropagation by hand against autograd: y = w x, "
                      "Mazur's 2-2-2 network, the book's graph (d2l 4.7)"),
    "stability": Entry("stability", "vanishing and exploding gradients; initialisation "
                       "(d2l 4.8)"),
    "label-smoothing": Entry("label_smoothing", "label smoothing: accuracy and calibration on "
                             "Fashion-MNIST"),
    "planck": Entry("planck", "a black body's temperature from its spectrum, by gradient "
                    "descent (Planck's law)"),
    "normal": Entry("normal", "the normal distribution for several means and standard "
                    "deviations (d2l 3.1)"),
    "vectorize": Entry("vectorize", "a Python loop against vectorised addition (d2l 3.1)"),
}


def title(name: str) -> str:
    """The title of the experiment ``name``: its module's ``TITLE`` comes from here."""
    return CATALOG[name].title


class _Experiments(Mapping):
    """name -> Experiment, in the catalog's order; a module is imported when first needed."""

    def __getitem__(self, name: str):
        module = importlib.import_module(f"{__name__}.{CATALOG[name].module}")
        return module.EXPERIMENT

    def __iter__(self) -> Iterator[str]:
        return iter(CATALOG)

    def __len__(self) -> int:
        return len(CATALOG)


EXPERIMENTS: Mapping = _Experiments()
_FROM_BASE = ("Experiment", "Headline")


def __getattr__(name: str):
    if name in _FROM_BASE:
        from shallowlab.experiments import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CATALOG", "EXPERIMENTS", "title", *_FROM_BASE]
