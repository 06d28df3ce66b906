"""Every checker passes a correct solution and fails the usual wrong ones with the property
that is broken, each run in a forked process as ``shallowlab.exercises.check`` runs it.

The solutions are in ``tests/exercises/solutions/``; each case names the exercise, the
function and the words its verdict must hold (None: it must pass).
"""

from __future__ import annotations

import importlib

import pytest

from shallowlab import exercises
from shallowlab.exercises import catalog
from shallowlab.exercises.checkers import CHECKERS, checking

CASES = [
    ("en-4.4.1c", "softmax", "softmax", None),
    ("en-4.4.1c", "softmax", "overflows", "finite for logits of +-1000: softmax"),
    ("en-4.4.1c", "softmax", "by_columns", "equal to softmax on random logits: the rows"),
    ("zh-3.6.3", "softmax", "shifted_by_min", "finite for logits of +-1000"),
    ("en-4.4.1c", "softmax", "through_numpy", "gradient: no gradient reaches the input"),
    ("en-4.4.2a", "cross_entropy", "cross_entropy", None),
    ("en-4.4.2a", "cross_entropy", "summed", "summed over the examples where the mean is"),
    ("en-4.4.2a", "cross_entropy", "nan_at_zero", "zero probabilities where the label is 0: "
     "cross_entropy of y_hat [[0.7, 0.3, 0], [0, 0, 1]] against labels 0 and 2 holds nan"),
    ("en-4.4.2a", "cross_entropy", "no_minus", "the negative of"),
    ("en-4.4.2a", "cross_entropy", "label_only", "soft labels: cross_entropy with soft labels"),
    ("en-3.4.8a", "absolute_loss", "absolute_loss", None),
    ("en-3.4.8a", "absolute_loss", "no_reshape", "has shape (8, 8), want (8, 1)"),
    ("en-3.4.8a", "absolute_loss", "squared", "(y_hat - y)^2 (the squared loss)"),
    ("en-3.4.8a", "absolute_loss", "summed", "shaped like y_hat: absolute_loss(y_hat (8, 1), "
     "y (8,)) has shape (), want (8, 1)"),
    ("en-3.3.3", "data", "stream", None),
    ("en-3.3.3", "data", "stream_seeded", "new data on every pass: two passes yielded the same"),
    ("en-3.3.3", "data", "stream_no_bias", "y = X w + b + small noise: least squares on a pass"),
    ("en-3.3.3", "data", "stream_flat_labels", "batches and shapes: y has shape (50,), want"),
    ("en-3.3.4", "data", "replay", None),
    ("en-3.3.4", "data", "replay_reseeds_global", "the global generator left alone: a pass "
     "changed torch's global random numbers"),
    ("en-3.3.4", "data", "replay_unseeded", "the same data on every pass: two passes with seed"),
    ("en-3.3.4", "data", "replay_seed_ignored", "another seed, other data: seeds 3 and 4"),
    ("en-3.7.3", "regularise", "l1_step", None),
    ("zh-4.5.3", "regularise", "l1_is_l2", "that is L2 weight decay"),
    ("en-3.7.3", "regularise", "l1_lr_forgotten", "the learning rate scales the whole"),
    ("en-3.7.3", "regularise", "l1_wrong_sign", "a step of lr (grad + lambd sign(w)) away from "
     "zero: l1_step(w = [-8, -3, -1.5, 1.5, 3, 8], lr 0.1, lambd 0.5) is off by up to 0.1"),
    ("en-5.6.6", "regularise", "drop_weights", None),
    ("en-5.6.6", "regularise", "drop_unscaled", "kept entries are scaled by 1/(1 - p): at p = "
     "0.3 kept entries are multiplied by 1, not 1/(1 - p)"),
    ("zh-4.6.6", "regularise", "drop_rows", "whole rows or columns are dropped together"),
    ("en-5.6.6", "regularise", "drop_nan_at_one", "p = 1 gives zeros: drop_weights(W, p=1) "
     "holds nan"),
    ("en-5.6.6", "regularise", "drop_keeps_p", "p = 0 keeps W: drop_weights(W, p=0) is off by "
     "up to"),
    ("en-5.6.7", "regularise", "noise", None),
    ("en-5.6.7", "regularise", "noise_dropout_unscaled", "unbiased: the mean output is X: over "
     "4000 draws at p = 0.5 the mean output is 0.50"),
    ("en-5.6.7", "regularise", "noise_always_on", "off at test time: noise(X, p=0.5, "
     "training=False) is off"),
    ("zh-4.6.7", "regularise", "noise_biased", "unbiased: the mean output is X"),
    ("en-5.6.7", "regularise", "noise_none", "noisy while training: "),
    ("en-5.3.2b", "backprop", "backward", None),
    ("en-5.3.2b", "backprop", "decays_bias", "db1 equals autograd's: db1 is autograd's plus "
     "lambd * b1: the bias is decayed too"),
    ("zh-4.7.2b", "backprop", "no_relu_mask", "db1 equals autograd's: db1 on 6 random examples"),
    ("en-5.3.2b", "backprop", "no_penalty", "dW2 equals autograd's: dW2 lacks the penalty's"),
    ("en-5.3.2b", "backprop", "summed", "6 times autograd's on 6 examples"),
    ("en-4.7.2", "shift", "shift_score", None),
    ("en-4.7.2", "shift", "score_in_sample", "about 0.5 without a shift: two samples of one "
     "distribution"),
    ("zh-4.9.2", "shift", "score_constant", "high with a shift: a target shifted by 0.5"),
    ("en-4.7.2", "shift", "score_one_minus", "is it 1 - accuracy?"),
    ("en-4.7.3", "shift", "shift_weights", None),
    ("en-4.7.3", "shift", "weights_inverted", "the weights grow towards the target: the "
     "weights shrink towards the target"),
    ("en-4.7.3", "shift", "weights_uniform", "the reweighted source has the target's mean: "
     "reweighted, the source's mean of x_1 is -0.04"),
    ("zh-4.9.3", "shift", "weights_probabilities", "averaging 1: the weights average 0.4"),
]


def _solution(module: str, name: str):
    return getattr(importlib.import_module(f"tests.exercises.solutions.{module}"), name)


@pytest.mark.parametrize("exercise, module, name, words", CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_a_checker_names_the_broken_property(exercise, module, name, words):
    result = exercises.check(exercise, _solution(module, name), quiet=True)
    assert result.ok is (words is None), result.lines
    assert 1 <= len(result.lines) <= 2
    if words:
        assert words in "\n".join(result.lines)


def test_every_code_exercise_has_a_correct_and_three_wrong_solutions_tested():
    tested = {}
    for exercise, _, _, words in CASES:
        checker = catalog.find(exercise).checker
        tested.setdefault(checker, []).append(words)
    assert set(tested) == set(CHECKERS) == {e.checker for e in catalog.exercises() if e.checker}
    for checker, verdicts in tested.items():
        assert verdicts.count(None) >= 1 and len(verdicts) - verdicts.count(None) >= 3, checker


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_the_registry_names_each_checker_properties_in_order(name):
    assert tuple(p.name for p in checking(name).properties) == CHECKERS[name].properties


def test_a_hang_is_stopped_at_the_time_limit():
    result = exercises.check("en-4.4.1c", _hang, seconds=1.5, quiet=True)
    assert not result.ok and "did not finish within 1.5 s (the time limit)" in result.lines[0]


def test_an_endless_allocation_stops_at_the_memory_cap():
    result = exercises.check("en-4.4.1c", _hog, memory_mb=256, quiet=True)
    assert not result.ok and len(result.lines) == 1
    assert "raised" in result.lines[0] and "memory cap" in result.lines[0]


def test_an_exercise_without_a_checker_is_refused():
    with pytest.raises(ValueError, match="math exercise with no checker"):
        exercises.check("en-4.1.1a", _hang)


def _hang(X):
    while True:
        pass


def _hog(X):
    hoard = []
    while True:
        hoard.append(bytearray(2**24))


def test_a_function_that_raises_is_named_in_one_line():
    result = exercises.check("en-4.4.1c", _raises, quiet=True)
    assert result.lines == ["shape and dtype: your function raised ZeroDivisionError: "
                            "division by zero"]


def _raises(X):
    return 1 / 0
