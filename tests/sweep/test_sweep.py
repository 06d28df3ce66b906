"""The sweep's parts without running trials: trials from a grid or a sample, the checks on
them, the flags a trial runs with, the results table and the figure."""

from __future__ import annotations

import math

import pytest

from shallowlab.cli import build_parser
from shallowlab.cli.flags import overrides
from shallowlab.errors import ConfigError
from shallowlab.experiments import EXPERIMENTS
from shallowlab.sweep import figures
from shallowlab.sweep.results import configurations, table
from shallowlab.sweep.spec import Spec, check, run_flags, text


def spec(grid=None, ranges=None, sample=None, seeds=(0,), fixed=None, experiment="mlp"):
    return Spec(experiment, fixed or {"epochs": 2}, grid or {}, ranges or {}, sample, 0,
                list(seeds), 1)


def test_a_grid_is_every_combination_first_setting_slowest_each_seed_named_by_settings():
    s = spec({"lr": [0.05, 0.2], "hidden": [(64,), (256, 128)]}, seeds=(0, 1))
    names = [t.name for t in s.trials()]
    assert names == [
        "lr=0.05,hidden=64,seed=0", "lr=0.05,hidden=64,seed=1",
        "lr=0.05,hidden=256+128,seed=0", "lr=0.05,hidden=256+128,seed=1",
        "lr=0.2,hidden=64,seed=0", "lr=0.2,hidden=64,seed=1",
        "lr=0.2,hidden=256+128,seed=0", "lr=0.2,hidden=256+128,seed=1"]
    assert s.trials()[2].settings == {"lr": 0.05, "hidden": (256, 128)}


def test_values_are_named_exactly_and_briefly():
    assert [text(v) for v in (100.0, 0.1, 1e-5, 0.30000000000000004, (256, 128), True)] == \
        ["100", "0.1", "1e-05", "0.30000000000000004", "256+128", "true"]


def test_random_search_draws_within_the_ranges_log_uniformly_and_reproducibly():
    s = spec({"activation": ["relu", "tanh"]},
             {"lr": ("log", 1e-3, 1.0), "batch_size": ("log", 16, 512),
              "hidden": ("uniform", (32,), (64,))}, sample=200)
    configs = s.configurations()
    assert len(configs) == 200 and len({repr(c) for c in configs}) == 200  # distinct
    assert configs == s.configurations()  # the same draws from the same sample seed
    lrs = [c["lr"] for c in configs]
    assert all(1e-3 <= v <= 1.0 and float(f"{v:.3g}") == v for v in lrs)
    assert all(isinstance(c["batch_size"], int) and 16 <= c["batch_size"] <= 512
               for c in configs)
    assert all(isinstance(c["hidden"], tuple) and 32 <= c["hidden"][0] <= 64 for c in configs)
    assert {c["activation"] for c in configs} == {"relu", "tanh"}
    # log-uniform: log10(lr) ~ U(-3, 0), so a third of the draws in each decade, about
    decades = [sum(-k - 1 <= math.log10(v) < -k for v in lrs) for k in range(3)]
    assert all(45 <= d <= 90 for d in decades), decades


def test_a_small_space_gives_what_it_has_when_more_samples_are_asked():
    s = spec({"lr": [0.1, 0.2]}, sample=5)
    assert sorted(c["lr"] for c in s.configurations()) == [0.1, 0.2]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"grid": {"lr": []}}, "--grid lr= lists no values"),
    ({"ranges": {"lr": ("log", 0.01, 1.0)}}, "is a range, drawn from only in random search"),
    ({"grid": {"seed": [1, 2]}}, "use --seeds K"),
    ({"grid": {"epochs": [1, 2]}}, "--epochs is given both as a flag and in --grid"),
    ({}, "nothing to sweep"),
    ({"grid": {"lr": [0.1, -1.0]}}, "--lr -1.0 is invalid: it must be a finite number > 0"),
    ({"grid": {"weight_decay": [0.1]}, "experiment": "linreg", "fixed": {}},
     "--weight-decay does not apply to linreg"),
    ({"grid": {"activation": ["relu", "swish"]}}, "--activation swish is invalid: choose from"),
])
def test_a_bad_sweep_is_refused_in_one_line_before_any_trial(kwargs, message):
    s = spec(**kwargs)
    with pytest.raises(ConfigError, match=message.replace("+", r"\+")) as e:
        check(s, EXPERIMENTS[s.experiment])
    assert "\n" not in str(e.value)


def test_a_trial_runs_with_the_flags_that_give_its_settings():
    settings = {"lr": 0.30000000000000004, "hidden": (256, 128), "dropout": (0.2, 0.5),
                "fast": True, "tensorboard": False, "activation": "tanh", "epochs": 3,
                "seed": 7}
    flags = run_flags(settings)
    args = build_parser(list(EXPERIMENTS)).parse_args(["run", "mlp", *flags])
    given = {k: v for k, v in overrides(args).items() if v is not None}
    assert given == {k: v for k, v in settings.items() if v is not False}


def _row(lr, seed, acc, status="completed", hidden=(64,)):
    return {"trial": f"lr={lr},seed={seed}", "lr": lr, "hidden": hidden, "seed": seed,
            "status": status, "final_test_acc": acc, "best_test_acc": acc,
            "final_train_loss": 1 - (acc or 0), "final_test_loss": None, "epochs": 2,
            "seconds": 1.0, "error": None if status == "completed" else "diverged"}


def test_configurations_are_ranked_by_mean_test_accuracy_with_the_sample_std():
    rows = [_row(0.1, 0, 0.80), _row(0.1, 1, 0.84), _row(0.2, 0, 0.85), _row(0.2, 1, 0.85),
            _row(100.0, 0, None, "failed"), _row(100.0, 1, None, "failed")]
    configs = configurations(rows, ["lr"])
    assert [c["lr"] for c in configs] == [0.2, 0.1, 100.0]
    assert configs[1]["final_test_acc_mean"] == pytest.approx(0.82)
    assert configs[1]["final_test_acc_std"] == pytest.approx(math.sqrt(0.0008), abs=1e-6)
    assert configs[2]["failed"] == 2 and configs[2]["final_test_acc_mean"] is None
    text_table = table(configs, ["lr"], rows)
    assert text_table.splitlines()[-1] == \
        "best: lr 0.2: test accuracy 0.8500 ± 0.0000 over 2 seeds"
    assert "failed" in text_table.splitlines()[3]


def test_without_an_accuracy_the_lowest_loss_ranks_first():
    rows = [{**_row(0.1, 0, None), "final_train_loss": 0.5},
            {**_row(0.3, 0, None), "final_train_loss": 0.2}]
    assert [c["lr"] for c in configurations(rows, ["lr"])] == [0.3, 0.1]
    assert "training loss" in table(configurations(rows, ["lr"]), ["lr"], rows)


@pytest.mark.parametrize(("swept", "panels", "heatmap"), [
    (["lr"], 1, False), (["lr", "hidden"], 1, True), (["lr", "hidden", "activation"], 3, False)])
def test_the_figure_is_a_line_a_heatmap_or_a_panel_per_setting(swept, panels, heatmap):
    rows = []
    for i, (lr, hidden, act) in enumerate([(0.1, (64,), "relu"), (0.2, (64,), "tanh"),
                                           (0.1, (256,), "tanh"), (0.2, (256,), "relu")]):
        for seed in (0, 1):
            rows.append({**_row(lr, seed, 0.8 + 0.01 * i + 0.002 * seed, hidden=hidden),
                         "activation": act})
    configs = configurations(rows, swept)
    fig = figures.draw(rows, configs, swept, "final_test_acc", "test accuracy", "t")
    plotted = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(plotted) == panels
    assert bool(plotted[0].images) == heatmap
    if heatmap:  # each cell's mean over its two seeds, in the cell
        cells = sorted(t.get_text().split("\n")[0] for t in plotted[0].texts)
        assert cells == sorted(f"{c['final_test_acc_mean']:.4f}" for c in configs)
