"""The dropout experiment (d2l 4.6): both nets trained from one start, in folders of their own."""

import json
import statistics

import pytest

from shallowlab.experiments import dropout
from tests.conftest import is_png, run_experiment, run_seeds


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_dropout_trains_both_nets_in_their_own_folders(tmp_path, toy_data, impl):
    summary, lines = run_experiment(dropout.EXPERIMENT, tmp_path, impl=impl, epochs=3,
                                     batch_size=32, data_dir=str(toy_data))
    for name in ("dropout", "no-dropout"):
        files = {p.name for p in (tmp_path / name).iterdir()}
        assert {"history.json", "model.safetensors", "curves.png", "checkpoint.pt"} <= files
    with_drop = json.loads((tmp_path / "dropout" / "history.json").read_text())
    assert json.loads((tmp_path / "history.json").read_text()) == with_drop
    assert summary["final_test_acc"] == summary["test_acc"] == with_drop[-1]["test_acc"]
    # the toy classes are easy: both nets learn them, and the gap is train - test accuracy
    assert summary["test_acc"] >= 0.9 and summary["no_dropout_test_acc"] >= 0.9
    assert summary["gap"] == pytest.approx(summary["train_acc"] - summary["test_acc"])
    assert is_png(tmp_path / "dropout.png")
    assert any(line.startswith("-- no-dropout: dropout 0") for line in lines)


def test_dropout_headline_names_a_short_run():
    short, full = ({"epochs": n, "test_acc": 0.83} for n in (3, 10))
    assert "after 3 of the book's 10" in dropout.EXPERIMENT.headlines(short)[0].name
    assert dropout.EXPERIMENT.headlines(short)[0].agrees
    assert not dropout.EXPERIMENT.headlines(full)[0].agrees  # 0.83 is 0.02+ short of 0.85


@pytest.mark.data
@pytest.mark.slow
def test_dropout_on_the_real_data_with_the_quick_settings(tmp_path, real_data):
    """The quick settings (3 epochs at the book's lr 0.5), as the median over seeds 0-2, each
    a ``shallowlab run`` of its own on one torch thread, side by side (``run_seeds``).

    One seed's last epoch is no claim at this lr: the test accuracy moves by 0.02-0.05 from
    epoch to epoch, and the net without dropout is on the edge of stability (seed 0 falls to
    0.18 at epoch 2 and ends at 0.7146, on an Intel machine with MKL and on an AMD EPYC alike).
    Measured (Intel, MKL, torch 2.13), test accuracy per epoch, seeds 0-4:

    | seed | dropout            | no dropout         |
    |------|--------------------|--------------------|
    | 0    | 0.723 0.794 0.817  | 0.747 0.182 0.715  |
    | 1    | 0.787 0.752 0.827  | 0.749 0.786 0.832  |
    | 2    | 0.747 0.744 0.821  | 0.710 0.750 0.798  |
    | 3    | 0.700 0.788 0.800  | 0.681 0.771 0.802  |
    | 4    | 0.750 0.779 0.820  | 0.775 0.811 0.821  |

    so the dropout net's final accuracy is 0.80-0.83 (median of seeds 0-2: 0.821) and the
    other net's best epoch 0.75-0.83 (median 0.798); the floors leave 0.03 and 0.10 below.
    The quick headline's own floor (0.85 - 0.04 = 0.81) is not asserted: seed 3 ends at 0.800.
    """
    assert dropout.EXPERIMENT.quick == {"epochs": 3}
    summaries = run_seeds("dropout", tmp_path, (0, 1, 2), "--epochs", 3, "--data-dir", real_data)
    assert all(s["epochs"] == 3 for s in summaries)
    assert statistics.median(s["test_acc"] for s in summaries) >= 0.79
    no_dropout_best = [max(r["test_acc"] for r in json.loads(
        (tmp_path / f"seed-{seed}" / "no-dropout" / "history.json").read_text()))
        for seed in (0, 1, 2)]
    assert statistics.median(no_dropout_best) >= 0.70
    # measured in eval mode the training accuracy is above the test one (by 0.006-0.018)
    assert statistics.median(s["gap"] for s in summaries) > 0
    assert statistics.median(s["no_dropout_gap"] for s in summaries) > 0
