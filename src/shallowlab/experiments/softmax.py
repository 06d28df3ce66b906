"""Softmax regression on Fashion-MNIST (book sections 3.6 and 3.7)."""

from __future__ import annotations

from shallowlab import nets
from shallowlab.experiments.base import Experiment
from shallowlab.experiments.classify import common_defaults, train_classifier

TITLE = "softmax regression on Fashion-MNIST (d2l 3.6-3.7)"


def run(config, run_dir, log):
    return train_classifier(config, run_dir, log, lambda c: nets.softmax_regression(), TITLE)


EXPERIMENT = Experiment("softmax", TITLE, common_defaults(), run)
