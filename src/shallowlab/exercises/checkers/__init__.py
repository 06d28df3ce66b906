"""Checkers of a learner's code: for each code exercise, the function it asks for, and the
properties a solution must have (tested in :mod:`shallowlab.exercises.sandbox`, the learner's
code in a process of its own).

``CHECKERS`` says what each checker wants without importing it (no torch: ``shallowlab
exercise ID`` describes a checker at once); the properties and the reference solution are in
the module named, as a :class:`~shallowlab.exercises.checkers.harness.Checking`:

- ``losses``: softmax, cross-entropy, absolute-loss;
- ``data``: fresh-data, same-data (synthetic data generators);
- ``regularise``: l1-step, drop-weights, noise-layer;
- ``backprop``: backprop (a two-layer MLP's gradients by hand);
- ``shift``: shift-detector, shift-weights (covariate shift).
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Checker(NamedTuple):
    module: str  # in shallowlab.exercises.checkers
    attribute: str  # the module's Checking
    function: str  # the name the learner's file must define
    signature: str
    properties: tuple[str, ...]  # what is tested, in order: the Checking's property names


CHECKERS: dict[str, Checker] = {
    "softmax": Checker("losses", "SOFTMAX", "softmax", "softmax(X) -> Tensor: X (n, q) of logits; "
                       "each row's probabilities, X's shape and dtype", (
                           "shape and dtype", "equal to softmax on random logits",
                           "finite for logits of +-1000", "finite when every logit is below -100",
                           "gradient")),
    "cross-entropy": Checker("losses", "CROSS_ENTROPY", "cross_entropy",
                             "cross_entropy(y_hat, y) -> Tensor: probabilities y_hat (n, q), "
                             "one-hot or soft labels y (n, q); the mean over examples of "
                             "-sum_j y_j log y_hat_j, a scalar", (
                                 "a scalar", "the mean over examples of the definition",
                                 "soft labels", "zero probabilities where the label is 0",
                                 "gradient")),
    "absolute-loss": Checker("losses", "ABSOLUTE", "absolute_loss",
                             "absolute_loss(y_hat, y) -> Tensor: y_hat (n, 1), y (n,); "
                             "|y_hat - y| per example, shaped like y_hat", (
                                 "one loss per example, shaped like y_hat",
                                 "equal to |y_hat - y|", "gradient")),
    "fresh-data": Checker("data", "FRESH", "stream",
                          "stream(w, b, batch_size, batches): yields `batches` pairs (X, y), "
                          "X (batch_size, len(w)) ~ N(0, 1), y = X w + b + noise of shape "
                          "(batch_size, 1)", (
                              "batches and shapes", "y = X w + b + small noise",
                              "X is standard normal", "new data on every pass")),
    "same-data": Checker("data", "SAME", "replay",
                         "replay(w, b, batch_size, batches, seed): like stream, but every pass "
                         "over it yields the same batches, and another seed other ones", (
                             "batches and shapes", "y = X w + b + small noise",
                             "the same data on every pass", "another seed, other data",
                             "the global generator left alone")),
    "l1-step": Checker("regularise", "L1_STEP", "l1_step",
                       "l1_step(w, grad, lr, lambd) -> Tensor: the weights after one SGD step "
                       "on the loss plus lambd * sum |w_i|", (
                           "shape", "a step of lr (grad + lambd sign(w)) away from zero",
                           "the same pull on every weight, whatever its size",
                           "zero stays zero without a gradient")),
    "drop-weights": Checker("regularise", "DROP_WEIGHTS", "drop_weights",
                            "drop_weights(W, p, generator) -> Tensor: each entry of W zeroed "
                            "with probability p, the others divided by 1 - p", (
                                "shape and dtype", "p = 0 keeps W", "p = 1 gives zeros",
                                "kept entries are scaled by 1/(1 - p)",
                                "a fraction p dropped, entry by entry",
                                "a fresh mask every call")),
    "noise-layer": Checker("regularise", "NOISE", "noise",
                           "noise(X, p, training, generator) -> Tensor: X with random noise of "
                           "strength p while training, unchanged at test time", (
                               "shape and dtype", "off at test time", "p = 0 keeps X",
                               "noisy while training", "unbiased: the mean output is X")),
    "backprop": Checker("backprop", "BACKPROP", "backward",
                        "backward(X, y, W1, b1, W2, lambd) -> (dW1, db1, dW2): the gradients "
                        "of J = mean cross-entropy(relu(X W1^T + b1) W2^T, y) + lambd/2 "
                        "(||W1||^2 + ||W2||^2)", (
                            "three gradients shaped like W1, b1, W2", "dW2 equals autograd's",
                            "db1 equals autograd's", "dW1 equals autograd's")),
    "shift-detector": Checker("shift", "DETECTOR", "shift_score",
                              "shift_score(source, target) -> float: how well a classifier "
                              "tells the two (n, d) samples apart on held-out examples, "
                              "0.5 when it cannot", (
                                  "a number from 0 to 1", "about 0.5 without a shift",
                                  "high with a shift")),
    "shift-weights": Checker("shift", "WEIGHTS", "shift_weights",
                             "shift_weights(source, target) -> Tensor: one weight per source "
                             "example, about p_target(x) / p_source(x), averaging 1", (
                                 "one positive weight per source example, averaging 1",
                                 "the weights grow towards the target",
                                 "the reweighted source has the target's mean")),
}


def checking(name: str):
    """The :class:`~shallowlab.exercises.checkers.harness.Checking` of checker ``name``
    (imports its module, and torch)."""
    entry = CHECKERS[name]
    module = importlib.import_module(f"{__name__}.{entry.module}")
    return getattr(module, entry.attribute)
