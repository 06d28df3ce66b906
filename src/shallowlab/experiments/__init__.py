"""The experiments, by the name the CLI runs them under."""

from shallowlab.experiments import (
    autograd,
    dropout,
    huber,
    label_smoothing,
    linreg,
    lr_sweep,
    mlp,
    normal,
    ohm,
    planck,
    polyfit,
    softmax,
    stability,
    vectorize,
    weight_decay,
)
from shallowlab.experiments.base import Experiment, Headline, execute, resolve

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        autograd.EXPERIMENT,
        linreg.EXPERIMENT,
        ohm.EXPERIMENT,
        lr_sweep.EXPERIMENT,
        huber.EXPERIMENT,
        softmax.EXPERIMENT,
        mlp.EXPERIMENT,
        polyfit.EXPERIMENT,
        weight_decay.EXPERIMENT,
        dropout.EXPERIMENT,
        stability.EXPERIMENT,
        label_smoothing.EXPERIMENT,
        planck.EXPERIMENT,
        normal.EXPERIMENT,
        vectorize.EXPERIMENT,
    )
}

__all__ = ["EXPERIMENTS", "Experiment", "Headline", "execute", "resolve"]
