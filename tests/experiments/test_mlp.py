"""The mlp experiment (d2l 4.2, 4.3): it learns, and on Fashion-MNIST reaches the book's.

Real-data floors are for one run, below what was measured by a margin that covers the spread
between seeds (another machine's BLAS sums in another order: another trajectory). The book's
settings (10 epochs, lr 0.1), test accuracy per epoch (Intel, MKL, torch 2.13):

    seed 0: 0.758 0.796 0.794 0.806 0.829 0.834 0.839 0.841 0.840 0.837
    seed 1: 0.750 0.804 0.809 0.811 0.833 0.804 0.843 0.840 0.850 0.849
    seed 2: 0.750 0.782 0.815 0.779 0.831 0.815 0.833 0.841 0.795 0.843

best 0.841-0.850 (the old floor of 0.84 held on seed 0 by 0.0007), mean of the last three
0.826-0.846, and a single late epoch falls by 0.05 (seed 2, epoch 9), so the last epoch alone
is not asserted. The book reports about 0.84-0.85.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from shallowlab.experiments import EXPERIMENTS
from shallowlab.runs.folder import RunDir
from shallowlab.runs.lifecycle import execute
from shallowlab.runs.settings import resolve
from tests.conftest import Ahead, late_test_acc, real_data_dir, selected
from tests.test_cli import RUN_FILES, cli

BEST, LATE = 0.83, 0.81


def _toy(folder, toy_data, **overrides):
    experiment = EXPERIMENTS["mlp"]
    config = resolve(experiment, {"epochs": 5, "lr": 0.5, "data_dir": str(toy_data),
                                  **overrides})
    return execute(experiment, config, RunDir(folder), log=lambda s: None)


def test_mlp_learns_the_toy_data(tmp_path, toy_data):
    # 5 epochs of 3 steps: 1.0 on seeds 0-9; after 3 epochs 0.825-1.0 (seed 0: 0.95, no margin)
    summary = _toy(tmp_path, toy_data)
    assert summary["status"] == "completed" and summary["final_test_acc"] >= 0.95
    assert RUN_FILES - {"config.json", "summary.json"} <= {p.name for p in tmp_path.iterdir()}


def test_zero_init_mlp_keeps_its_hidden_units_identical(tmp_path, toy_data):
    counts = {init: _toy(tmp_path / init, toy_data, epochs=2, hidden=(16,),
                         init=init)["distinct_hidden_units"] for init in ("zeros", "normal")}
    assert counts == {"zeros": 1, "normal": 16}


def _run(folder, *args, timeout=600):
    result = cli("run", "mlp", *args, "--out", folder, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return json.loads((folder / "summary.json").read_text())


@pytest.fixture(scope="module")
def book_runs(request, tmp_path_factory):
    """``book_runs[impl]``: the folder and summary of ``run mlp --impl IMPL`` with the book's
    settings; both begin together (tests.conftest.Ahead)."""
    def job(impl: str):
        folder = tmp_path_factory.mktemp(impl)
        return folder, _run(folder, "--impl", impl)

    wanted = "test_book_settings_reach_the_book_accuracy" in selected(request)
    ahead = Ahead(job, ["concise", "scratch"] if wanted and real_data_dir() is not None else [])
    yield ahead
    ahead.close()


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("impl", ["concise", "scratch"])
def test_book_settings_reach_the_book_accuracy(book_runs, real_data, impl):
    folder, summary = book_runs[impl]
    assert summary["epochs"] == 10 and summary["data"] == str(real_data)
    assert summary["best_test_acc"] >= BEST, summary
    assert late_test_acc(folder) >= LATE, summary


@pytest.mark.data
def test_real_data_runs_are_reproducible(tmp_path, real_data):
    def history(name):
        _run(tmp_path / name, "--epochs", 1, "--dropout", 0.3, timeout=120)
        records = json.loads((tmp_path / name / "history.json").read_text())
        return [{k: v for k, v in r.items() if k != "seconds"} for r in records]

    with ThreadPoolExecutor(2) as pool:  # two processes of their own, at once
        a, b = pool.map(history, "ab")
    assert a == b
