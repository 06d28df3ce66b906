"""The lr-sweep experiment (d2l 3.3 exercise): one start, six rates, one that diverges."""

import json

import pytest

from shallowlab.experiments import lr_sweep
from tests.conftest import is_png, run_experiment


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_lr_sweep_finds_the_divergent_rate_and_a_best_one_at_the_noise_floor(tmp_path, impl):
    summary, lines = run_experiment(lr_sweep.EXPERIMENT, tmp_path, impl=impl)
    runs = {r["lr"]: r for r in summary["runs"]}
    assert tuple(runs) == lr_sweep.RATES
    assert summary["diverged_lrs"] == [3.0] and runs[3.0]["diverged"]
    # fit stopped it in its first epoch, before any loss became inf, and says where
    assert runs[3.0]["stopped_at"].startswith("epoch 1, batch ")
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
