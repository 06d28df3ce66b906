"""The run folder: its JSON and CSV files, weights, figures, and where it goes."""

import csv
import json
import os

import pytest
import torch

from shallowlab.errors import ConfigError
from shallowlab.figures import plots
from shallowlab.models import nets
from shallowlab.runs.folder import RunDir, default_dir

HISTORY = [
    {"epoch": 1, "train_loss": 0.9, "train_acc": 0.7, "test_loss": 0.8, "test_acc": 0.75,
     "seconds": 1.5},
    {"epoch": 2, "train_loss": 0.5, "train_acc": 0.8, "test_loss": 0.6, "test_acc": 0.81,
     "seconds": 1.25},
    {"epoch": 3, "train_loss": 0.4, "train_acc": 0.85, "test_loss": 0.61, "test_acc": 0.79,
     "seconds": 1.0},
]


def test_history_json_and_csv_agree(tmp_path):
    run = RunDir(tmp_path / "run")
    run.write_history(HISTORY)
    assert json.loads((run / "history.json").read_text()) == HISTORY
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["test_acc"]) for r in rows] == [r["test_acc"] for r in HISTORY]
    assert list(rows[0]) == list(HISTORY[0])


def test_summary_has_final_and_best_metrics(tmp_path):
    run = RunDir(tmp_path / "run")
    summary = run.write_summary("completed", HISTORY, 3.75, device="cpu")
    assert summary == json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs"] == 3
    assert summary["final_test_acc"] == 0.79 and summary["final_train_loss"] == 0.4
    assert (summary["best_test_acc"], summary["best_epoch"]) == (0.81, 2)
    assert summary["device"] == "cpu"


def test_non_finite_numbers_are_written_as_null(tmp_path):
    run = RunDir(tmp_path / "run")
    run.write_history([{**HISTORY[0], "train_loss": float("nan"), "test_loss": float("inf")}])
    record = json.loads((run / "history.json").read_text())[0]
    assert record["train_loss"] is None and record["test_loss"] is None


def test_weights_round_trip_through_safetensors(tmp_path):
    run = RunDir(tmp_path / "run")
    model = nets.init_(nets.mlp(hidden=(32,)), generator=torch.Generator().manual_seed(0))
    run.save_weights(model)
    loaded = run.load_weights()
    assert loaded.keys() == model.state_dict().keys()
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())


def test_save_figure_writes_the_png_and_lets_go_of_the_figure(tmp_path):
    pyplot = pytest.importorskip("matplotlib.pyplot")
    run = RunDir(tmp_path / "run")
    ours, theirs = plots.figure(4, 3), pyplot.figure(figsize=(2, 1))  # the d2l layer's kind
    for name, fig in (("ours.png", ours), ("theirs.png", theirs)):
        fig.subplots().plot([0, 1], [1, 0])
        run.save_figure(name, lambda figure: figure, fig)  # a function of data, drawn here
    assert sorted(os.listdir(run.path)) == ["ours.png", "theirs.png"]
    for name, size in (("ours.png", (400, 300)), ("theirs.png", (200, 100))):
        png = (run / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == size
    assert ours.axes == [] and not pyplot.fignum_exists(theirs.number)


def test_unwritable_run_folder_is_a_config_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write the run folder .*a-file.*--out"):
        RunDir(blocker / "run")


def test_default_dir_never_reuses_a_folder(tmp_path):
    first = default_dir("mlp", tmp_path)
    first.mkdir()
    second = default_dir("mlp", tmp_path)
    assert second != first and second.name.startswith(first.name)
    assert first.name.startswith("mlp-")
