"""Settings, from flags and from a run's config.json: every check, on any value, in one line."""

import json
from pathlib import Path

import pytest
import torch

from shallowlab.errors import ConfigError, ShallowlabError
from shallowlab.experiments import EXPERIMENTS, mlp
from shallowlab.experiments.base import Experiment
from shallowlab.runs.folder import RunDir
from shallowlab.runs.lifecycle import execute
from shallowlab.runs.settings import CHECKS, CHOICES, resolve, resolve_saved

# what a hand-edited config.json (or a Python caller) can put where a setting belongs
ODD = [None, "0.1", "abc", "", True, [], ["abc"], [1.5], {}, {"a": 1}, float("nan"),
       float("inf"), -float("inf"), 10**400, -1, 2.5]
WITH_HIDDEN = [name for name, e in EXPERIMENTS.items() if "hidden" in e.defaults]


@pytest.mark.parametrize("key", [*CHECKS, *CHOICES])
def test_every_check_answers_any_value_without_raising(key):
    for value in ODD:
        if key in CHECKS:
            assert CHECKS[key][0](value) in (True, False)
        else:
            assert (value in CHOICES[key]) is False


@pytest.mark.parametrize("key", ["lr", "weight_decay", "init_std", "label_smoothing"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), -float("inf")])
def test_a_float_setting_must_be_finite(key, value):
    with pytest.raises(ConfigError, match=f"--{key.replace('_', '-')} {value} is invalid"):
        resolve(mlp.EXPERIMENT, {key: value})


@pytest.mark.parametrize("value", [(float("inf"),), (0.5, float("nan"))])
def test_dropout_must_be_finite(value):
    with pytest.raises(ConfigError, match="--dropout .* is invalid: it must be one or more"):
        resolve(mlp.EXPERIMENT, {"dropout": value, "hidden": (8,) * len(value)})


@pytest.mark.parametrize("name", WITH_HIDDEN)
def test_every_experiment_with_hidden_widths_refuses_a_model_too_big_to_train(name):
    experiment = EXPERIMENTS[name]
    assert experiment.footprint is not None
    one_layer = {"hidden": (10**9,), "dropout": (0.5,) if "dropout" in experiment.defaults
                 else None}
    with pytest.raises(ConfigError) as refused:
        resolve(experiment, one_layer)
    message = str(refused.value)
    assert message.startswith("--hidden 1000000000 with --batch-size ")
    assert "of memory to train" in message and "choose smaller --hidden widths" in message
    assert experiment.footprint(resolve(experiment, {})) < 50e6  # the defaults: tens of MB


def test_fast_counts_the_momentum_buffers():
    plain, fast = resolve(mlp.EXPERIMENT, {}), resolve(mlp.EXPERIMENT, {"fast": True})
    same = {**fast, "fast": False}
    parameters = (784 * 1024 + 1024) + (1024 * 256 + 256) + (256 * 10 + 10)
    assert mlp.footprint(fast) - mlp.footprint(same) == parameters * 4
    assert mlp.footprint(plain) < mlp.footprint(fast)


def saved(experiment: Experiment, **overrides) -> dict:
    """The settings as a run's config.json holds them (through JSON: tuples become lists)."""
    return json.loads(json.dumps({"experiment": experiment.name,
                                  **resolve(experiment, overrides)}))


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_a_saved_config_resolves_to_the_settings_it_was_written_from(name):
    experiment = EXPERIMENTS[name]
    config = saved(experiment)
    assert resolve_saved(experiment, config, Path("run/config.json")) == \
        {k: config[k] for k in experiment.defaults}


@pytest.mark.parametrize("key, value, shown", [
    ("lr", "0.1", '"lr": "0.1" is invalid: it must be a finite number > 0'),
    ("lr", float("inf"), '"lr": Infinity is invalid'),
    ("epochs", 2.5, '"epochs": 2.5 is invalid: it must be an integer >= 1'),
    ("epochs", True, '"epochs": true is invalid'),
    ("hidden", "abc", '"hidden": "abc" is invalid: it must be one or more integer widths'),
    ("hidden", [8.0], '"hidden": [8.0] is invalid'),
    ("seed", None, '"seed": null is invalid: it must be an integer'),
    ("fast", "yes", '"fast": "yes" is invalid: it must be true or false'),
    ("dropout", [0.1, 0.2], '"dropout" has 2 values for 1 hidden layers'),
    ("activation", ["relu"], '"activation": ["relu"] is invalid: choose from relu'),
    ("device", "banana", '"device": "banana": not a device name torch knows'),
    ("device", 5, '"device": 5 is invalid'),
    ("data_dir", 5, '"data_dir": 5 is invalid'),
    ("hidden", [10**9], '"hidden": [1000000000] with "batch_size": 256 needs at least'),
])
def test_a_hand_edited_config_is_refused_naming_the_file_and_the_entry(key, value, shown):
    path = Path("runs/mlp-1/config.json")
    with pytest.raises(ConfigError) as refused:
        resolve_saved(mlp.EXPERIMENT, {**saved(mlp.EXPERIMENT), key: value}, path)
    assert str(refused.value).startswith(f"{path}: {shown}")
    assert str(refused.value).endswith("; correct it there, or start a new run")


def test_a_saved_config_with_a_setting_missing_is_refused_naming_it():
    config = saved(mlp.EXPERIMENT)
    del config["hidden"]
    with pytest.raises(ConfigError, match=r'config.json has no "hidden" setting; put it back '
                                          r"\(the default is \[256\]\)"):
        resolve_saved(mlp.EXPERIMENT, config, Path("run/config.json"))


def _allocate_too_much(config, run_dir, log):
    torch.empty(2**62, dtype=torch.uint8)  # 4.6 EB: the allocator refuses at once


def _fail(config, run_dir, log):
    raise RuntimeError("something else")


def test_an_allocation_that_fails_at_run_time_becomes_one_line_and_a_failed_summary(tmp_path):
    experiment = Experiment("greedy", "asks for too much", {"batch_size": 8, "seed": 0},
                            _allocate_too_much)
    with pytest.raises(ShallowlabError) as failed:
        execute(experiment, resolve(experiment, {}), RunDir(tmp_path / "run"), print)
    message = str(failed.value)
    assert type(failed.value) is ShallowlabError  # not a ConfigError: the CLI exits 1
    assert message == ("out of memory while training: an allocation of 4,611,686,018 GB "
                       "failed (RuntimeError); try a smaller --batch-size, or free memory on "
                       "the device")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == message


def test_other_errors_at_run_time_pass_through_unchanged(tmp_path):
    experiment = Experiment("broken", "fails", {"seed": 0}, _fail)
    with pytest.raises(RuntimeError, match="^something else$"):
        execute(experiment, resolve(experiment, {}), RunDir(tmp_path / "run"), print)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == "something else"
