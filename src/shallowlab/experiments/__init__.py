"""The experiments, by the name the CLI runs them under."""

from shallowlab.experiments import autograd, huber, linreg, lr_sweep, mlp, ohm, softmax
from shallowlab.experiments.base import Experiment, execute, resolve

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        autograd.EXPERIMENT,
        linreg.EXPERIMENT,
        ohm.EXPERIMENT,
        lr_sweep.EXPERIMENT,
        huber.EXPERIMENT,
        softmax.EXPERIMENT,
        mlp.EXPERIMENT,
    )
}

__all__ = ["EXPERIMENTS", "Experiment", "execute", "resolve"]
