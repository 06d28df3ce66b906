"""The ohm experiment (d2l 3.2 exercise): SGD finds the resistance the closed form gives."""

import pytest
import torch

from shallowlab.experiments import ohm
from tests.conftest import is_png, run_experiment


def test_closed_form_resistance_is_exact_without_noise():
    current = torch.linspace(0.1, 2.0, 20).reshape(-1, 1)
    assert ohm.closed_form(current, 4.7 * current) == pytest.approx(4.7, abs=1e-6)


@pytest.fixture(scope="module")
def ohm_runs(tmp_path_factory):
    runs = {}
    for impl in ("scratch", "concise"):
        folder = tmp_path_factory.mktemp(f"ohm-{impl}")
        runs[impl] = run_experiment(ohm.EXPERIMENT, folder, impl=impl), folder
    return runs


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_ohm_learns_the_resistance_and_meets_the_closed_form(ohm_runs, impl):
    (summary, lines), folder = ohm_runs[impl]
    assert summary["true_resistance"] == 4.7
    assert abs(summary["resistance"] - 4.7) < 0.05
    assert abs(summary["closed_form_resistance"] - 4.7) < 0.05
    assert abs(summary["resistance"] - summary["closed_form_resistance"]) < 0.01
    assert summary["epochs"] == 5 and summary["final_train_loss"] < 2 * 0.1**2 / 2
    assert any(line.startswith("closed form R = ") for line in lines)
    assert is_png(folder / "ohm.png") and is_png(folder / "curves.png")


def test_ohm_scratch_and_concise_take_the_same_steps(ohm_runs):
    scratch, concise = (ohm_runs[impl][0][0] for impl in ("scratch", "concise"))
    assert scratch["resistance"] == pytest.approx(concise["resistance"], abs=1e-5)
