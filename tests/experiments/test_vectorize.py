"""The vectorize experiment (d2l 3.1): one vectorised addition against a Python loop."""

from shallowlab.experiments import vectorize
from tests.conftest import is_png, run_experiment


def test_vectorised_addition_is_faster_than_the_loop_and_agrees(tmp_path):
    summary, _ = run_experiment(vectorize.EXPERIMENT, tmp_path)
    assert summary["same_result"] is True and summary["n"] == 10000
    assert summary["speedup"] > 1  # a ratio on a shared machine: no absolute thresholds
    assert summary["seconds_loop"] > summary["seconds_vectorised"]
    assert is_png(tmp_path / "vectorize.png")
