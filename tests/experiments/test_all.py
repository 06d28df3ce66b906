"""Every experiment through its real entry point: on toy data always, on Fashion-MNIST when present.

The real-data runs use the book's settings unchanged and check the accuracies the book reports
(best over the epochs and final, since plain SGD at lr 0.1 wobbles from epoch to epoch).
"""

import json

import pytest

from shallowlab.experiments import EXPERIMENTS, execute, resolve
from shallowlab.runs import RunDir
from tests.test_cli import RUN_FILES, cli


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_runs_through_its_entry_point(tmp_path, toy_data, name):
    """The shared battery: each experiment, tiny, leaves a complete and honest run folder."""
    experiment = EXPERIMENTS[name]
    tiny = {"data_dir": str(toy_data), "epochs": 2}
    config = resolve(experiment, {k: v for k, v in tiny.items() if k in experiment.defaults})
    summary = execute(experiment, config, RunDir(tmp_path), log=lambda s: None)
    assert summary["status"] == "completed"
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert json.loads((tmp_path / "config.json").read_text())["experiment"] == name
    figures = list(tmp_path.glob("*.png"))
    assert figures and all(f.read_bytes()[:4] == b"\x89PNG" for f in figures)
    if "epochs" in experiment.defaults and (tmp_path / "history.json").exists():
        assert summary["epochs"] == 2


@pytest.mark.parametrize("name", ["softmax", "mlp"])
def test_the_classifiers_learn_the_toy_data(tmp_path, toy_data, name):
    experiment = EXPERIMENTS[name]
    config = resolve(experiment, {"epochs": 3, "lr": 0.5, "data_dir": str(toy_data)})
    summary = execute(experiment, config, RunDir(tmp_path), log=lambda s: None)
    assert summary["status"] == "completed" and summary["final_test_acc"] >= 0.95
    assert RUN_FILES - {"config.json", "summary.json"} <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("name, best, final", [("mlp", 0.84, 0.82), ("softmax", 0.825, 0.81)])
def test_book_settings_reach_the_book_accuracy(tmp_path, real_data, name, best, final):
    result = cli("run", name, "--out", tmp_path / name, timeout=600)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / name / "summary.json").read_text())
    assert summary["epochs"] == 10 and summary["data"] == str(real_data)
    assert summary["best_test_acc"] >= best, summary
    assert summary["final_test_acc"] >= final, summary


@pytest.mark.data
def test_real_data_runs_are_reproducible(tmp_path, real_data):
    def history(name):
        result = cli("run", "mlp", "--epochs", 1, "--dropout", 0.3, "--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
        records = json.loads((tmp_path / name / "history.json").read_text())
        return [{k: v for k, v in r.items() if k != "seconds"} for r in records]

    assert history("a") == history("b")


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


def test_zero_init_mlp_keeps_its_hidden_units_identical(tmp_path, toy_data):
    config = {"epochs": 2, "lr": 0.5, "hidden": (16,), "data_dir": str(toy_data)}
    counts = {}
    for init in ("zeros", "normal"):
        experiment = EXPERIMENTS["mlp"]
        summary = execute(experiment, resolve(experiment, {**config, "init": init}),
                          RunDir(tmp_path / init), log=lambda s: None)
        counts[init] = summary["distinct_hidden_units"]
    assert counts == {"zeros": 1, "normal": 16}


@pytest.mark.data
@pytest.mark.slow
def test_scratch_softmax_matches_concise_on_the_real_data(tmp_path, real_data):
    summaries = {}
    for impl in ("scratch", "concise"):
        result = cli("run", "softmax", "--impl", impl, "--out", tmp_path / impl, timeout=600)
        assert result.returncode == 0, result.stderr
        summaries[impl] = json.loads((tmp_path / impl / "summary.json").read_text())
    assert summaries["scratch"]["best_test_acc"] >= 0.825
    assert abs(summaries["scratch"]["final_test_acc"] - summaries["concise"]["final_test_acc"]) \
        <= 0.01


@pytest.mark.data
@pytest.mark.slow
def test_scratch_mlp_reaches_the_book_accuracy(tmp_path, real_data):
    result = cli("run", "mlp", "--impl", "scratch", "--out", tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["best_test_acc"] >= 0.84
