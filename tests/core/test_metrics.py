""":mod:`shallowlab.core.metrics`: calibration (the expected calibration error and its diagram) and
the confusion matrix with its most confused pairs, down to a real run's summary."""

import json
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from shallowlab.core import metrics
from shallowlab.data.fashion_mnist import CLASS_NAMES


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


def test_confusion_matrix_counts_a_hand_made_case():
    target = torch.tensor([0, 0, 1, 2, 2, 2])
    pred = torch.tensor([0, 1, 1, 2, 0, 0])
    assert metrics.confusion_matrix(pred, target, 3).tolist() == [[1, 1, 0],  # true 0
                                                                  [0, 1, 0],  # true 1
                                                                  [2, 0, 1]]  # true 2
    assert metrics.confusion_matrix(pred[:0], target[:0], 2).tolist() == [[0, 0], [0, 0]]


def test_most_confused_ranks_off_diagonal_cells_and_leaves_out_zeros():
    matrix = [[9, 1, 0], [0, 7, 4], [2, 0, 8]]
    names = ["a", "b", "c"]
    assert metrics.most_confused(matrix, names, 2) == [
        {"true": "b", "predicted": "c", "count": 4}, {"true": "c", "predicted": "a", "count": 2}]
    # only three cells off the diagonal are non-zero, whatever k asks
    assert [c["count"] for c in metrics.most_confused(matrix, names, 10)] == [4, 2, 1]
    assert metrics.most_confused([[5, 0], [0, 5]], ["a", "b"], 3) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(lambda q: st.tuples(
    st.just(q), st.lists(st.tuples(st.integers(0, q - 1), st.integers(0, q - 1)), max_size=80))))
def test_confusion_rows_sum_to_class_counts_and_trace_to_the_right_ones(case):
    q, pairs = case
    target = torch.tensor([t for t, _ in pairs], dtype=torch.long)
    pred = torch.tensor([p for _, p in pairs], dtype=torch.long)
    matrix = metrics.confusion_matrix(pred, target, q)
    assert matrix.shape == (q, q)
    assert matrix.sum(dim=1).tolist() == torch.bincount(target, minlength=q).tolist()
    assert matrix.sum(dim=0).tolist() == torch.bincount(pred, minlength=q).tolist()
    assert int(matrix.trace()) == int((pred == target).sum())
    top = metrics.most_confused(matrix, [str(k) for k in range(q)], 3)
    assert all(c["true"] != c["predicted"] and c["count"] > 0 for c in top)
    assert [c["count"] for c in top] == sorted((c["count"] for c in top), reverse=True)


# The book's known confusions (d2l 3.6-3.7): upper-body garments look alike at 28x28
UPPER_BODY = {"shirt", "t-shirt", "pullover", "coat"}


@pytest.mark.data
def test_a_real_softmax_run_leaves_its_confusion_matrix(tmp_path, real_data):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "shallowlab", "run", "softmax", "--epochs",
                             "1", "--threads", "1", "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    matrix = summary["confusion"]
    assert len(matrix) == len(CLASS_NAMES) and all(len(row) == len(CLASS_NAMES) for row in matrix)
    assert sum(map(sum, matrix)) == 10_000
    assert [sum(row) for row in matrix] == [1000] * 10  # the test set: 1,000 of each class
    trace = sum(matrix[k][k] for k in range(len(matrix)))
    assert trace / 10_000 == pytest.approx(summary["final_test_acc"], abs=1e-6)
    top = summary["most_confused"]
    assert len(top) == 5 and top[0]["count"] >= top[-1]["count"] > 0
    assert {top[0]["true"], top[0]["predicted"]} <= UPPER_BODY, top[0]
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    first = f"{top[0]['true']} -> {top[0]['predicted']} {top[0]['count']}"
    assert any(line.startswith("most confused") and first in line
               for line in result.stdout.splitlines()), result.stdout
