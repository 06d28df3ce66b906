"""The experiments, by the name the CLI runs them under."""

from shallowlab.experiments import linreg, mlp, softmax
from shallowlab.experiments.base import Experiment, execute, resolve

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (linreg.EXPERIMENT, softmax.EXPERIMENT, mlp.EXPERIMENT)
}

__all__ = ["EXPERIMENTS", "Experiment", "execute", "resolve"]
