"""The linreg experiment (d2l 3.1-3.3) through the CLI: it recovers w and b to the noise floor."""

import json

import pytest

from tests.test_cli import cli


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_linreg_recovers_the_truth_down_to_the_noise_floor(tmp_path, impl):
    result = cli("run", "linreg", "--impl", impl, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["w_error"] <= 0.01 and summary["b_error"] <= 0.01
    assert summary["train_loss_whole"] <= 2 * summary["noise_floor"] == 2 * 5e-5
    assert summary["closed_form_loss"] <= summary["train_loss_whole"]  # the optimum is lower
    assert "optimum   w = [" in result.stdout and "noise floor" in result.stdout
    assert {"data.png", "curves.png"} <= {p.name for p in tmp_path.iterdir()}


def test_linreg_learns_from_zero_weights(tmp_path):
    result = cli("run", "linreg", "--init", "zeros", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["w_error"] <= 0.01 and summary["b_error"] <= 0.01
