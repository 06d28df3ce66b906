"""The experiments, by the name the CLI runs them under."""

from shallowlab.experiments import autograd, linreg, mlp, softmax
from shallowlab.experiments.base import Experiment, execute, resolve

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        autograd.EXPERIMENT,
        linreg.EXPERIMENT,
        softmax.EXPERIMENT,
        mlp.EXPERIMENT,
    )
}

__all__ = ["EXPERIMENTS", "Experiment", "execute", "resolve"]
