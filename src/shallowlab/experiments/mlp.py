"""A multilayer perceptron on Fashion-MNIST (book sections 4.2 and 4.3; dropout: 4.6)."""

from __future__ import annotations

from shallowlab import nets
from shallowlab.experiments.base import Experiment
from shallowlab.experiments.classify import common_defaults, train_classifier

TITLE = "MLP on Fashion-MNIST (d2l 4.2-4.3)"


def build(config: dict):
    drop = config["dropout"]  # one value for every hidden layer, or one per layer
    return nets.mlp(784, config["hidden"], 10, config["activation"],
                    drop[0] if len(drop) == 1 else drop)


def run(config, run_dir, log):
    return train_classifier(config, run_dir, log, build, TITLE)


EXPERIMENT = Experiment("mlp", TITLE, {**common_defaults(), "hidden": (256,), "activation": "relu",
                                       "dropout": (0.0,)}, run)
