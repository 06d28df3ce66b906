"""Hard labels against smoothed ones: accuracy and calibration on Fashion-MNIST (d2l 4 / 19.3).

The MLP of :mod:`mlp` is trained twice from the same start on the same batches: once on the
usual cross-entropy with one-hot targets, once with label smoothing ``eps`` (0.1): the target
becomes ``(1 - eps) one_hot(y) + eps / q`` (q = 10 classes: 0.91 for the label, 0.01 for each
other class), ``l = -sum_k target_k log softmax(o)_k``. A hard target is only met as the logit
gap goes to infinity, so training keeps pushing confidence up; a smoothed one is met at a
finite gap, which caps confidence near 0.91.

Calibration asks whether "p% sure" is right p% of the time: the expected calibration error
``ECE = sum_b (n_b / n) |acc_b - conf_b|`` over 15 equal-width confidence bins, with the
reliability diagram (accuracy against confidence per bin) to show it.
"""

from __future__ import annotations

import torch

from shallowlab.core import metrics
from shallowlab.data.batches import Batches
from shallowlab.experiments import mlp, title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons
from shallowlab.runs.classifier import (
    check_scratch,
    common_defaults,
    train_classifier,
)
from shallowlab.runs.folder import RunDir

TITLE = title("label-smoothing")
BINS = 15


@torch.no_grad()
def probabilities_of(model, test: Batches) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities (n, 10) of the model on the test set, and the labels (n,)."""
    model.eval()
    probs = torch.cat([torch.softmax(model(X), dim=1) for X, _ in test])
    return probs.cpu(), test.y.cpu()


def run(config, run_dir, log):
    results, diagrams = {}, {}
    for name, eps in (("hard", 0.0), ("smooth", config["label_smoothing"])):
        log(f"--- {name} labels (label smoothing {eps:g}) ---")
        settings = {**config, "label_smoothing": eps}
        extra, prepared = train_classifier(settings, RunDir(run_dir / name), log, mlp.build,
                                           f"{mlp.TITLE}, label smoothing {eps:g}")
        probs, y = probabilities_of(prepared.step.model, prepared.test)
        ece = metrics.calibration_error(probs, y, BINS)
        acc = metrics.accuracy(probs, y)
        confidence = probs.max(dim=1).values.mean().item()
        diagrams[f"{name} (eps {eps:g}): acc {acc:.3f}, ECE {ece:.3f}"] = \
            metrics.reliability(probs, y, BINS)
        results[name] = {"label_smoothing": eps, "test_acc": acc, "ece": ece,
                         "mean_confidence": confidence, **extra}
        log(f"{name}: test accuracy {acc:.4f}, mean confidence {confidence:.4f}, "
            f"ECE {ece:.4f}")
    run_dir.save_figure("reliability.png", lessons.reliability_diagrams, diagrams,
                        f"reliability on the test set ({BINS} bins)")
    return {**results, "bins": BINS, "reliability": diagrams}


QUESTION = 'What does label smoothing do to accuracy and to calibration?'


def answer(s: dict) -> str:
    hard, smooth = s["hard"], s["smooth"]
    return (f"Hard labels: {hard['test_acc']:.1%} test accuracy, calibration error "
            f"{hard['ece']:.3f}; smoothed (\u03b5 = {smooth['label_smoothing']:g}): "
            f"{smooth['test_acc']:.1%}, calibration error {smooth['ece']:.3f}, mean confidence "
            f"{hard['mean_confidence']:.2f} \u2192 {smooth['mean_confidence']:.2f}.")


EXPERIMENT = Experiment(
    "label-smoothing", TITLE,
    {**common_defaults(), "label_smoothing": 0.1, "hidden": (256,), "activation": "relu",
     "dropout": (0.0,)},
    run, check_scratch, quick={"epochs": 1}, footprint=mlp.footprint,
    lesson="Smoothed targets cap the network's confidence; side by side with hard labels, "
           "accuracy and expected calibration error show what that buys.",
    question=QUESTION, answer=answer)
