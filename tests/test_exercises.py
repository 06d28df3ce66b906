"""The d2l 3.2/3.3 exercise experiments (ohm, lr-sweep, huber) through their real entry point."""

import json

import pytest
import torch

from shallowlab.data import synthetic
from shallowlab.experiments import huber, lr_sweep, ohm
from tests.conftest import is_png, run_experiment


def _run(module, folder, **overrides):
    return run_experiment(module.EXPERIMENT, folder, **overrides)



# --- ohm ---------------------------------------------------------------------------------


def test_closed_form_resistance_is_exact_without_noise():
    current = torch.linspace(0.1, 2.0, 20).reshape(-1, 1)
    assert ohm.closed_form(current, 4.7 * current) == pytest.approx(4.7, abs=1e-6)


@pytest.fixture(scope="module")
def ohm_runs(tmp_path_factory):
    runs = {}
    for impl in ("scratch", "concise"):
        folder = tmp_path_factory.mktemp(f"ohm-{impl}")
        runs[impl] = _run(ohm, folder, impl=impl), folder
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


# --- lr-sweep ----------------------------------------------------------------------------


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_lr_sweep_finds_the_divergent_rate_and_a_best_one_at_the_noise_floor(tmp_path, impl):
    summary, lines = _run(lr_sweep, tmp_path, impl=impl)
    runs = {r["lr"]: r for r in summary["runs"]}
    assert tuple(runs) == lr_sweep.RATES
    assert summary["diverged_lrs"] == [3.0] and runs[3.0]["diverged"]
    # fit stopped it in its first epoch, before any loss became inf, and says where
    assert runs[3.0]["stopped_at"].startswith("epoch 1, step ")
    assert runs[3.0]["losses"] == runs[3.0]["losses"][:1]
    assert all(r["stopped_at"] is None for lr, r in runs.items() if lr != 3.0)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert summary["best_lr"] in (0.01, 0.03, 0.1, 0.3)
    assert summary["best_loss"] <= 2 * summary["noise_floor"] == 2 * 5e-5
    # one start for all: the loss before training is the same; a small lr is still far off
    assert len({r["losses"][0] for r in summary["runs"]}) == 1
    assert runs[0.001]["final_loss"] > 1000 * summary["best_loss"]
    assert any(line.startswith("best lr ") for line in lines)
    assert is_png(tmp_path / "sweep.png")


# --- huber -------------------------------------------------------------------------------


def test_outliers_shift_the_chosen_fraction_by_the_chosen_amounts():
    y = torch.zeros(1000, 1)
    shifted, mask = synthetic.outliers(y, 0.05, 10.0, 50.0, torch.Generator().manual_seed(0))
    assert shifted.shape == y.shape and int(mask.sum()) == 50
    moved = shifted[mask].abs()
    assert ((moved >= 10) & (moved <= 50)).all()
    assert (shifted[mask] > 0).any() and (shifted[mask] < 0).any()
    assert (shifted[~mask] == 0).all() and (y == 0).all()  # the input is left untouched


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_huber_ignores_the_outliers_that_drag_the_squared_loss(tmp_path, impl):
    summary, lines = _run(huber, tmp_path, impl=impl)
    assert summary["outliers"] == 50
    assert summary["huber"]["error"] < 0.1
    assert summary["squared"]["error"] > 2 * summary["huber"]["error"]
    # not SGD's fault alone: the exact least-squares fit is pulled off the truth too
    assert summary["least_squares_error"] > 2 * summary["huber"]["error"]
    assert summary["huber"]["errors"][0] == summary["squared"]["errors"][0]  # one start
    assert any("x closer to the truth" in line for line in lines)
    assert is_png(tmp_path / "huber.png")
