"""The answers of the run exercises: what each runs, at the quick settings (about a minute or
less on a 2-core CPU) and at the book's (``--full``), without importing anything (no torch).

Three ways an answer runs (:mod:`shallowlab.exercises.answers` carries them out):

- ``experiment``: an existing experiment, with settings, into a run folder; where it already
  answers the exercise, it is pointed to, not copied;
- ``sweep``: an existing experiment over a grid of its settings, through
  :mod:`shallowlab.sweep` (a sweep folder of run folders, its table and figure);
- ``own``: a small experiment of the exercise's own, an ``Experiment`` in the module named
  here (``autograd_runs``, ``linear_runs``, ``selection_runs``, ``speed_runs``,
  ``network_runs``, ``overfit_runs``), run into a run folder the same way.

Each answer's sentence, with its numbers, comes from :mod:`shallowlab.exercises.verdicts`.
"""

from __future__ import annotations

from typing import NamedTuple


class Run(NamedTuple):
    how: str  # experiment, sweep, own
    target: str  # the experiment; for own, the module in this package
    quick: dict = {}  # settings at the quick size
    full: dict = {}  # the book's settings (``--full``)
    grid: dict = {}  # sweep: setting -> values
    seeds: int = 1  # sweep: seeds per configuration

    def what(self) -> str:
        if self.how == "own":
            return "own run"
        return f"{self.how} {self.target}"


def _epochs(quick: int, full: int = 10) -> tuple[dict, dict]:
    return {"epochs": quick}, {"epochs": full}


_E3 = _epochs(3)
DEEP = {"hidden": (256, 256), "lr": 0.5}  # the book's dropout network and learning rate

RUNS: dict[str, Run] = {
    # existing experiments
    "autograd": Run("experiment", "autograd"),
    "ohm": Run("experiment", "ohm"),
    "planck": Run("experiment", "planck"),
    "lr-sweep": Run("experiment", "lr-sweep", {}, {"epochs": 20}),
    "huber": Run("experiment", "huber"),
    "polyfit": Run("experiment", "polyfit", {"epochs": 200}, {"epochs": 400}),
    "weight-decay": Run("experiment", "weight-decay"),
    "softmax-epochs": Run("experiment", "softmax", *_epochs(20, 50)),
    "mlp-fast": Run("experiment", "mlp", {"fast": True, "epochs": 10}, {"fast": True}),
    # sweeps of existing experiments
    "softmax-zero-init": Run("sweep", "softmax", *_E3, grid={"init": ["zeros", "normal"]}),
    "softmax-lr": Run("sweep", "softmax", *_E3,
                      grid={"lr": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]}),
    "softmax-batch": Run("sweep", "softmax", *_epochs(2),
                         grid={"batch_size": [16, 64, 256, 1024, 4096]}),
    "softmax-grid": Run("sweep", "softmax", *_E3,
                        grid={"lr": [0.03, 0.1, 0.3], "batch_size": [64, 256, 1024]}),
    "mlp-width": Run("sweep", "mlp", *_E3,
                     grid={"hidden": [(4,), (16,), (64,), (256,), (1024,)]}),
    "mlp-depth": Run("sweep", "mlp", *_E3,
                     grid={"hidden": [(256,), (256, 256), (256, 256, 256)], "lr": [0.1, 0.4]}),
    "mlp-one-unit": Run("sweep", "mlp", *_epochs(2), grid={"hidden": [(1,), (2,), (256,)]},
                        seeds=3),
    "mlp-lr": Run("sweep", "mlp", *_E3, grid={"lr": [0.01, 0.03, 0.1, 0.3, 1.0]}),
    "mlp-activation": Run("sweep", "mlp", *_E3,
                          grid={"activation": ["relu", "sigmoid", "tanh"]}),
    "mlp-init": Run("sweep", "mlp", *_E3, grid={"init": ["zeros", "normal", "xavier", "he"]}),
    "dropout-rates": Run("sweep", "mlp", {**DEEP, "epochs": 3}, {**DEEP, "epochs": 10},
                         grid={"dropout": [(0.0,), (0.2, 0.5), (0.5, 0.2), (0.5, 0.5)]},
                         seeds=3),
    # small experiments of their own
    "control-flow": Run("own", "autograd_runs"),
    "newton-sqrt": Run("own", "autograd_runs"),
    "sin-derivative": Run("own", "autograd_runs"),
    "save-hyperparameters": Run("own", "autograd_runs"),
    "last-batch": Run("own", "linear_runs"),
    "zero-init": Run("own", "linear_runs"),
    "reshape": Run("own", "linear_runs"),
    "absolute-loss": Run("own", "linear_runs"),
    "outlier": Run("own", "linear_runs"),
    "epochs-and-lr": Run("own", "linear_runs"),
    "data-amount": Run("own", "linear_runs"),
    "polyfit-data": Run("own", "selection_runs"),
    "polyfit-unscaled": Run("own", "selection_runs"),
    "validation-lambda": Run("own", "selection_runs"),
    "naive-softmax": Run("own", "network_runs"),
    "dropout-variance": Run("own", "network_runs", {"epochs": 3}, {"epochs": 10}),
    "dropout-epochs": Run("own", "overfit_runs", {"seeds": 5, "epochs": 60},
                          {"seeds": 10, "epochs": 100}),
    "dropout-weight-decay": Run("own", "overfit_runs", {"seeds": 5, "epochs": 60},
                                {"seeds": 10, "epochs": 100}),
    "reading-speed": Run("own", "speed_runs"),
    "scratch-vs-concise": Run("own", "speed_runs"),
    "matmul-alignment": Run("own", "speed_runs"),
}
