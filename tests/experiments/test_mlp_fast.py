"""``shallowlab run mlp --fast``: its recipe, its settings, its resume, and its accuracy
(the schedules themselves: tests/core/test_schedules.py)."""

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from shallowlab.core.callbacks import LrSchedule
from shallowlab.core.schedules import doubling_batch_size, warmup_cosine
from shallowlab.core.state import State
from shallowlab.errors import ConfigError
from shallowlab.experiments import mlp
from shallowlab.runs.settings import resolve
from tests.conftest import Ahead, isolated_environ, real_data_dir, selected, write_fashion


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "shallowlab", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def _history(folder):
    records = json.loads((folder / "history.json").read_text())
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


# --- the recipe --------------------------------------------------------------------------


def test_the_fast_recipe_plans_batch_sizes_and_rates_as_functions_of_the_position():
    """What --fast attaches: a batch-size plan on the data side, an lr schedule callback."""
    from shallowlab.runs.classifier import _batch_size

    config = {"epochs": 20, "batch_size": 128, "lr": 0.05}
    plan = _batch_size(config, mlp.FAST_RECIPE)
    assert [plan(e) for e in range(1, 21)] == [doubling_batch_size(e, 20, 128, 2)
                                               for e in range(1, 21)]
    assert _batch_size(config, None) == 128
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    schedule = LrSchedule(optimizer, lambda t: warmup_cosine(t, 0.05, 0.03))
    state = State(epochs=20, epoch=3, batch=51, batches=100)
    schedule.on_epoch_begin(state)
    schedule.on_batch_begin(state)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(
        warmup_cosine((2 + 50 / 100) / 20, 0.05, 0.03))


# --- the settings ----------------------------------------------------------------------------


def test_without_fast_the_book_settings_stay_as_they_were():
    config = resolve(mlp.EXPERIMENT, {"fast": None})
    assert config == mlp.EXPERIMENT.defaults
    assert {k: config[k] for k in mlp.FAST} == {"hidden": (256,), "init": "normal", "lr": 0.1,
                                               "batch_size": 256, "weight_decay": 0.0,
                                               "epochs": 10}
    assert config["fast"] is False


def test_fast_brings_the_recipe_and_explicit_flags_win():
    config = resolve(mlp.EXPERIMENT, {"fast": True})
    assert {k: config[k] for k in mlp.FAST} == mlp.FAST and config["fast"] is True
    mine = resolve(mlp.EXPERIMENT, {"fast": True, "epochs": 3, "hidden": (64,), "lr": 0.01})
    assert (mine["epochs"], mine["hidden"], mine["lr"]) == (3, (64,), 0.01)
    assert (mine["init"], mine["batch_size"]) == (mlp.FAST["init"], mlp.FAST["batch_size"])


def test_fast_needs_the_concise_mlp():
    with pytest.raises(ConfigError, match="--fast needs --impl concise"):
        resolve(mlp.EXPERIMENT, {"fast": True, "impl": "scratch"})
    result = cli("run", "softmax", "--fast")
    assert result.returncode == 2 and "--fast does not apply to softmax" in result.stderr


def test_fast_is_in_the_help_and_the_list():
    assert "--fast" in cli("run", "--help").stdout
    (line,) = [line for line in cli("list").stdout.splitlines() if line.startswith("mlp ")]
    assert "--fast" in line


# --- resume ----------------------------------------------------------------------------------

TOY = ["run", "mlp", "--fast", "--hidden", "32", "--epochs", "4", "--seed", "3"]

# Runs the CLI in a child, sending it SIGINT as batch 3 of epoch 3 begins: the batch finishes,
# fit saves a mid-epoch checkpoint and stops, as after a Ctrl-C.
INTERRUPT = """
import signal, sys
from shallowlab.core.callbacks import LrSchedule
from shallowlab.cli import main
begin = LrSchedule.on_batch_begin
def interrupting(self, state):
    if (state.epoch, state.batch) == (3, 3):
        signal.raise_signal(signal.SIGINT)
    begin(self, state)
LrSchedule.on_batch_begin = interrupting
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_fashion(tmp_path_factory.mktemp("toy"), n_train=2000, n_test=200)


# The runs this module's tests start from, each a real process: begun together as the first of
# them asks for one (tests.conftest.Ahead); "real" is the 20-epoch run on the real data.
STARTS = {
    "test_a_fast_run_interrupted_mid_epoch_resumes_to_the_same_end": ["reference", "interrupted"],
    "test_resuming_a_fast_run_with_more_epochs_stretches_its_schedule": ["two-epochs"],
    "test_fast_reaches_090_test_accuracy_on_the_real_data": ["real"],
    "test_the_fast_schedule_ends_at_its_best_over_three_seeds": ["seed-0", "seed-1", "seed-2"],
}
# the smallest --fast runs whose best epoch is still in the schedule's last quarter
SMALL = ["run", "mlp", "--fast", "--hidden", "64", "--epochs", "4"]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory, toy):
    """``runs[name]``: the run folder and finished process of one of STARTS's runs."""
    environ = isolated_environ(tmp_path_factory)
    commands = {
        "reference": [*TOY, "--data-dir", toy],
        "interrupted": ["-c", INTERRUPT, *TOY, "--data-dir", toy],
        "two-epochs": [*TOY, "--epochs", 2, "--data-dir", toy],
        "real": ["run", "mlp", "--fast"],
        **{f"seed-{seed}": [*SMALL, "--seed", seed] for seed in range(3)},
    }

    def job(name: str) -> tuple[Path, subprocess.CompletedProcess]:
        out = tmp_path_factory.mktemp(name)
        args = commands[name]
        command = [sys.executable, *([] if args[0] == "-c" else ["-m", "shallowlab"]),
                   *map(str, args), "--out", str(out)]
        return out, subprocess.run(command, capture_output=True, text=True, env=environ,
                                   timeout=900 if name == "real" else 300)

    wanted = selected(request)
    on_real_data = {"real", "seed-0", "seed-1", "seed-2"}
    names = [name for test, names in STARTS.items() if test in wanted for name in names
             if name not in on_real_data or real_data_dir() is not None]
    ahead = Ahead(job, sorted(names, key=lambda name: name != "real"))  # the longest first
    yield ahead
    ahead.close()


def test_a_fast_run_interrupted_mid_epoch_resumes_to_the_same_end(runs):
    reference, done = runs["reference"]
    assert done.returncode == 0, done.stderr
    assert json.loads((reference / "summary.json").read_text())["engine"] == "fused"

    out, stopped = runs["interrupted"]
    assert stopped.returncode == 130, stopped.stderr
    assert len(_history(out)) == 2  # epoch 3 was under way
    resumed = cli("run", "--resume", out)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming in epoch 3 after batch 3" in resumed.stdout
    assert json.loads((out / "summary.json").read_text())["status"] == "completed"
    assert _history(out) == _history(reference)


def test_resuming_a_fast_run_with_more_epochs_stretches_its_schedule(runs):
    out, first = runs["two-epochs"]
    assert first.returncode == 0, first.stderr
    resumed = cli("run", "--resume", out, "--epochs", 3)
    assert resumed.returncode == 0, resumed.stderr
    assert [r["epoch"] for r in _history(out)] == [1, 2, 3]
    config = json.loads((out / "config.json").read_text())
    assert config["fast"] is True and config["epochs"] == 3 and config["hidden"] == [32]


# --- the claim, on the real data -------------------------------------------------------------


@pytest.mark.data
@pytest.mark.slow
def test_fast_reaches_090_test_accuracy_on_the_real_data(runs, real_data):
    """Measured final (best) test accuracy: seeds 0, 1, 2 on the reference machine 0.905,
    0.903, 0.902; seed 0 here (Intel, MKL, torch 2.13) 0.9015 (best 0.9021, epoch 19). The
    cosine decay settles the last epochs, so the best of them is the claim, 0.90, and the last
    one alone is held to 0.895: another BLAS's trajectory may end a few thousandths lower.
    Where in the run the best comes is the claim of the test below, over three seeds."""
    out, result = runs["real"]
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["engine"] == "fused"
    assert summary["epochs"] == mlp.FAST["epochs"] and summary["data"] == str(real_data)
    assert summary["best_test_acc"] >= 0.90, summary
    assert summary["final_test_acc"] >= 0.895, summary


@pytest.mark.data
@pytest.mark.slow
def test_the_fast_schedule_ends_at_its_best_over_three_seeds(runs, real_data):
    """The warm-up and cosine put the best epoch in the run's last quarter (epoch 15 of 20 or
    later in the full recipe): the median over seeds 0, 1, 2 of the smallest runs where it
    holds, 4 epochs of 64 hidden units. Measured on this Intel Xeon (one thread each): test
    accuracy by epoch 0.844 0.867 0.876 0.880 / 0.839 0.861 0.872 0.875 / 0.817 0.856 0.871
    0.873, each best at its last epoch (median 4, held to 3 = 0.75 x 4), the last epoch adding
    0.0034, 0.0031, 0.0018 (median 0.0031, held to > 0); median final 0.875, held to 0.86."""
    summaries, gains = [], []
    for seed in range(3):
        out, result = runs[f"seed-{seed}"]
        assert result.returncode == 0, result.stderr
        summaries.append(json.loads((out / "summary.json").read_text()))
        accs = [r["test_acc"] for r in _history(out)]
        gains.append(accs[-1] - max(accs[:-1]))
    epochs = int(SMALL[SMALL.index("--epochs") + 1])
    assert statistics.median(s["best_epoch"] for s in summaries) >= 0.75 * epochs
    assert statistics.median(gains) > 0
    assert statistics.median(s["final_test_acc"] for s in summaries) >= 0.86
