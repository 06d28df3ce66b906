"""The huber experiment (d2l 3.3 exercise): Huber's loss ignores the outliers that drag L2."""

import pytest

from shallowlab.experiments import huber
from tests.conftest import is_png, run_experiment


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_huber_ignores_the_outliers_that_drag_the_squared_loss(tmp_path, impl):
    summary, lines = run_experiment(huber.EXPERIMENT, tmp_path, impl=impl)
    assert summary["outliers"] == 50
    assert summary["huber"]["error"] < 0.1
    assert summary["squared"]["error"] > 2 * summary["huber"]["error"]
    # not SGD's fault alone: the exact least-squares fit is pulled off the truth too
    assert summary["least_squares_error"] > 2 * summary["huber"]["error"]
    assert summary["huber"]["errors"][0] == summary["squared"]["errors"][0]  # one start
    assert any("x closer to the truth" in line for line in lines)
    assert is_png(tmp_path / "huber.png")
