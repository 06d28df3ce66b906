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
def test_every_experiment_learns_the_toy_data(tmp_path, toy_data, name):
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
