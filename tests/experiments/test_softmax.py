"""The softmax experiment (d2l 3.6, 3.7): it learns, and on Fashion-MNIST reaches the book's.

Real-data floors are for one run, below what was measured by a margin that covers the spread
between seeds (another machine's BLAS sums in another order: another trajectory). The book's
settings (10 epochs, lr 0.1), test accuracy per epoch (Intel, MKL, torch 2.13):

    seed 0: 0.784 0.808 0.808 0.817 0.824 0.829 0.828 0.828 0.829 0.833
    seed 1: 0.786 0.801 0.816 0.822 0.825 0.809 0.832 0.830 0.832 0.834

best 0.833-0.834, mean of the last three 0.830-0.832, and single epochs dip by 0.02 (seed 1,
epoch 6). The book reports about 0.83.
"""

import json

import pytest

from shallowlab.experiments import EXPERIMENTS, execute, resolve
from shallowlab.runs import RunDir
from tests.conftest import late_test_acc
from tests.test_cli import cli

BEST, LATE = 0.82, 0.81


def test_softmax_learns_the_toy_data(tmp_path, toy_data):
    experiment = EXPERIMENTS["softmax"]
    config = resolve(experiment, {"epochs": 3, "lr": 0.5, "data_dir": str(toy_data)})
    summary = execute(experiment, config, RunDir(tmp_path), log=lambda s: None)
    assert summary["status"] == "completed" and summary["final_test_acc"] >= 0.95


def _run(folder, *args):
    result = cli("run", "softmax", *args, "--out", folder, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads((folder / "summary.json").read_text())


@pytest.mark.data
@pytest.mark.slow
def test_book_settings_reach_the_book_accuracy(tmp_path, real_data):
    summary = _run(tmp_path)
    assert summary["epochs"] == 10 and summary["data"] == str(real_data)
    assert summary["best_test_acc"] >= BEST, summary
    assert late_test_acc(tmp_path) >= LATE, summary


@pytest.mark.data
@pytest.mark.slow
def test_scratch_softmax_matches_concise_on_the_real_data(tmp_path, real_data):
    scratch, concise = (_run(tmp_path / impl, "--impl", impl) for impl in ("scratch", "concise"))
    assert scratch["best_test_acc"] >= BEST
    # they take the same steps: seed 0's accuracies agreed to 4 decimals at every epoch
    assert abs(scratch["final_test_acc"] - concise["final_test_acc"]) <= 0.01
