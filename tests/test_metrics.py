"""Calibration of :mod:`shallowlab.metrics`: the expected calibration error and its diagram."""

import pytest
import torch

from shallowlab import metrics


def test_calibration_error_matches_a_hand_computed_case():
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.45, 0.55], [0.62, 0.38]])
    labels = torch.tensor([0, 1, 1, 0, 0])
    # 5 bins of width 0.2: (0.4, 0.6] holds 0.55 (wrong): |0 - 0.55| = 0.55;
    # (0.6, 0.8] holds 0.8 (wrong), 0.7 (right), 0.62 (right): |2/3 - 0.70667| = 0.04;
    # (0.8, 1] holds 0.9 (right): |1 - 0.9| = 0.1.  ECE = (0.55 + 3 * 0.04 + 0.1) / 5 = 0.154
    assert metrics.calibration_error(probs, labels, bins=5) == pytest.approx(0.154, abs=1e-6)
    diagram = metrics.reliability(probs, labels, bins=5)
    assert diagram["count"] == [0, 0, 1, 3, 1]
    assert diagram["accuracy"][3] == pytest.approx(2 / 3)


def test_calibration_error_is_zero_when_confidence_equals_accuracy():
    probs = torch.tensor([[0.75, 0.25]] * 4)  # 75% sure each time, right 3 times out of 4
    assert metrics.calibration_error(probs, torch.tensor([0, 0, 0, 1])) == pytest.approx(0.0)
    assert metrics.calibration_error(probs, torch.tensor([1, 1, 1, 1])) == pytest.approx(0.75)
