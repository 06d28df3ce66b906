"""A multilayer perceptron on Fashion-MNIST (book sections 4.2 scratch, 4.3 concise, 4.6)."""

from __future__ import annotations

import torch

from shallowlab import nets, scratch
from shallowlab.experiments.base import Experiment, Headline
from shallowlab.experiments.classify import check_scratch, common_defaults, train_classifier

TITLE = "MLP on Fashion-MNIST (d2l 4.2-4.3)"


def build(config: dict, generator):
    drop = config["dropout"]  # one value for every hidden layer, or one per layer
    drop = drop[0] if len(drop) == 1 else drop
    if config["impl"] == "scratch":
        std = config["init_std"] if config["init"] == "normal" else 0.0
        return scratch.MLP(784, config["hidden"], 10, drop, std, generator)
    model = nets.mlp(784, config["hidden"], 10, config["activation"], drop)
    return nets.init_(model, config["init"], config["init_std"], generator)


def distinct_hidden_units(model) -> int:
    """How many units of the first hidden layer differ (weights and bias, to 1e-6).

    With every weight initialised alike (``--init zeros``), all units receive the same
    gradient and stay copies of one another: the symmetry SGD cannot break (d2l 4.8).
    """
    state = model.state_dict()
    if "W1" in state:  # scratch: W (inputs, hidden)
        W, b = state["W1"].T, state["b1"]
    else:  # concise: Linear.weight (hidden, inputs)
        W, b = state["1.weight"], state["1.bias"]
    rows = torch.cat([W, b[:, None]], dim=1).detach().cpu()
    return len(torch.unique(torch.round(rows * 1e6), dim=0))


def run(config, run_dir, log):
    extra, model = train_classifier(config, run_dir, log, build, TITLE)
    distinct = distinct_hidden_units(model)
    log(f"first hidden layer: {distinct} distinct units of {config['hidden'][0]}")
    return {**extra, "distinct_hidden_units": distinct}


EXPERIMENT = Experiment(
    "mlp", TITLE,
    {**common_defaults(), "hidden": (256,), "activation": "relu", "dropout": (0.0,)},
    run, check_scratch,
    lesson="One hidden layer of 256 ReLUs beats softmax regression on the same data in the "
           "same 10 epochs: the nonlinearity is what the extra weights buy.",
    headlines=lambda s: [Headline("test accuracy", s.get("final_test_acc"), 0.84, 0.02)])
