"""The shared battery: every experiment, tiny, through its real entry point.

What each experiment claims is checked in its own file, ``tests/experiments/test_<name>.py``.
"""

import json

import pytest

from shallowlab.experiments import EXPERIMENTS
from shallowlab.runs.folder import RunDir
from shallowlab.runs.lifecycle import execute
from shallowlab.runs.settings import resolve
from tests.conftest import GRAPHVIZ


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_runs_through_its_entry_point(tmp_path, toy_data, name):
    """The shared battery: each experiment, tiny, leaves a complete and honest run folder."""
    if name == "backprop" and not GRAPHVIZ:
        pytest.skip("backprop draws with Graphviz, absent here: `sudo apt-get install graphviz`")
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
