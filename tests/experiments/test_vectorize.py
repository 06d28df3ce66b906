"""The vectorize experiment (d2l 3.1): one vectorised addition against a Python loop."""

import pytest
import torch

from shallowlab.experiments import vectorize
from tests.conftest import is_png, run_experiment


def test_vectorised_addition_agrees_with_the_loop_and_reports_both_times(tmp_path):
    """How much faster is a timing claim, measured side by side in benchmarks.claims; here
    what the run computes and reports."""
    summary, _ = run_experiment(vectorize.EXPERIMENT, tmp_path)
    assert summary["same_result"] is True and summary["n"] == 10000
    assert summary["seconds_loop"] > 0 and summary["seconds_vectorised"] > 0
    assert summary["speedup"] == pytest.approx(summary["seconds_loop"]
                                               / summary["seconds_vectorised"])
    assert is_png(tmp_path / "vectorize.png")


def test_the_loop_adds_as_the_vectorised_call_does():
    a, b = torch.arange(5.0), torch.tensor([0.5, -1.0, 2.0, 0.0, 1e30])
    assert torch.equal(vectorize.loop_add(a, b), a + b)
