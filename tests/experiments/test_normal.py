"""The normal experiment (d2l 3.1): the densities it draws are densities."""

import pytest
import torch

from shallowlab.experiments import normal
from tests.conftest import is_png, run_experiment


def test_normal_densities_integrate_to_one_and_peak_at_their_mean(tmp_path):
    summary, _ = run_experiment(normal.EXPERIMENT, tmp_path)
    assert set(summary["areas"]) == {f"mean {m:g}, std {s:g}" for m, s in normal.PARAMS}
    assert all(area == pytest.approx(1.0, abs=1e-3) for area in summary["areas"].values())
    x = torch.tensor([3.0])
    assert normal.normal(x, 3.0, 2.0).item() == pytest.approx(1 / (2 * (2 * torch.pi) ** 0.5))
    assert is_png(tmp_path / "normal.png")
