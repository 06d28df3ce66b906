"""Softmax regression on Fashion-MNIST (book sections 3.6 scratch and 3.7 concise)."""

from __future__ import annotations

from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment, Headline
from shallowlab.models import nets, scratch
from shallowlab.runs.classifier import check_scratch, common_defaults, train_classifier

TITLE = title("softmax")


def build(config: dict, generator):
    if config["impl"] == "scratch":
        std = config["init_std"] if config["init"] == "normal" else 0.0
        return scratch.SoftmaxRegression(784, 10, std, generator)
    return nets.init_(nets.softmax_regression(), config["init"], config["init_std"], generator)


def run(config, run_dir, log):
    return train_classifier(config, run_dir, log, build, TITLE)[0]


QUESTION = ('How much of Fashion-MNIST does a linear model with a softmax classify right?')


def answer(s: dict) -> str:
    return (f"{s['final_test_acc']:.1%} of the 10,000 test images after {s['epochs']} epochs "
            f"(best {s['best_test_acc']:.1%}); the book reports about 83%.")


EXPERIMENT = Experiment(
    "softmax", TITLE, common_defaults(), run, check_scratch,
    lesson="A linear model with a softmax gets about 83% of Fashion-MNIST right: the baseline "
           "a deeper model has to beat.",
    headlines=lambda s: [Headline("test accuracy", s.get("final_test_acc"), 0.83, 0.02)],
    question=QUESTION, answer=answer)
