"""Chapter 4 experiments polyfit, weight-decay and dropout: each claim, at small sizes."""

import json
import math

import pytest
import torch

from shallowlab.data import synthetic
from shallowlab.experiments import dropout, polyfit, weight_decay
from tests.conftest import is_png, run_experiment


def _run(module, folder, **overrides):
    return run_experiment(module.EXPERIMENT, folder, **overrides)



# --- polyfit -----------------------------------------------------------------------------


def test_polynomial_features_are_scaled_powers_and_the_labels_follow_the_law():
    x, features, y = synthetic.polynomial(polyfit.TRUE_W, 50, 20, noise=0.0,
                                          generator=torch.Generator().manual_seed(1))
    assert features.shape == (50, 20) and y.shape == (50, 1)
    for i in (0, 1, 3, 7):
        torch.testing.assert_close(features[:, i], x[:, 0] ** i / math.factorial(i))
    torch.testing.assert_close(y[:, 0], 5 + 1.2 * x[:, 0] - 3.4 * x[:, 0] ** 2 / 2
                               + 5.6 * x[:, 0] ** 3 / 6)


def test_folds_partition_the_training_set():
    splits = polyfit.folds(100, 5, torch.Generator().manual_seed(0))
    assert len(splits) == 5
    held_out = torch.cat([v for _, v in splits])
    assert sorted(held_out.tolist()) == list(range(100))
    for train, val in splits:
        assert len(val) == 20 and set(train.tolist()).isdisjoint(val.tolist())


@pytest.fixture(scope="module")
def polyfit_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("polyfit")
    return _run(polyfit, folder, **polyfit.EXPERIMENT.quick), folder


def test_the_cubic_fit_beats_the_line_and_finds_the_true_weights(polyfit_run):
    (summary, lines), folder = polyfit_run
    assert summary["cubic_test_loss"] < 0.05 < 5 < summary["linear_test_loss"]
    assert summary["cubic_w_error"] < 0.15  # max |w_i - true w_i| after 200 epochs
    assert all(h.agrees for h in polyfit.EXPERIMENT.headlines(summary))
    # the 20-feature fit trains 3.75x longer, and does worse on the test set than the cubic
    assert summary["fits"]["degree 19"]["epochs"] == 750
    assert summary["degree_19_test_loss"] > summary["cubic_test_loss"]
    assert any(line.startswith("cubic weights [") for line in lines)
    assert all(is_png(folder / f) for f in ("fits.png", "weights.png", "cv.png"))


def test_cross_validation_picks_the_true_degree_or_a_neighbour(polyfit_run):
    (summary, _), _ = polyfit_run
    assert summary["cv_degree_exact"] == 3 and summary["cv_degree"] == 3
    exact = summary["cv_exact_validation"]
    # the U: the line and the parabola miss badly, degree 19 fits noise exactly
    assert exact[1] > 100 * exact[3] and exact[19] > 100 * exact[3]
    assert min(summary["cv_exact_train"][3:]) < 0.01 + 1e-3  # training error keeps falling


def test_vectorised_cv_training_takes_the_books_sgd_steps():
    """One (degree, fold) of cv_sgd against an nn.Linear trained with torch's SGD."""
    g = torch.Generator().manual_seed(0)
    _, X, y = synthetic.polynomial(polyfit.TRUE_W, 20, 4, 0.1, g)
    splits = [(torch.arange(20), torch.arange(20))]  # one "fold": train = validation = all
    config = {"lr": 0.01, "batch_size": 20}  # full batches: no shuffle order to match
    g.manual_seed(1)
    start = 0.01 * torch.randn(4, 1, 4, generator=g) * torch.tril(torch.ones(4, 4))[:, None]
    train_err, _ = polyfit.cv_sgd(X, y, splits, config, 30, torch.Generator().manual_seed(1))
    train_err = train_err[:, 0]
    w = start[3, 0].clone().requires_grad_()
    optimizer = torch.optim.SGD([w], lr=0.01)
    for _ in range(30):
        optimizer.zero_grad()
        polyfit.mse(X @ w[:, None], y).mean().backward()
        optimizer.step()
    with torch.no_grad():
        expected = float(polyfit.mse(X @ w[:, None], y).mean())
    assert float(train_err[3]) == pytest.approx(expected, rel=1e-4)


def test_the_one_standard_error_rule_prefers_the_simplest_near_best_degree():
    val = torch.tensor([[9.0, 9.2], [1.0, 1.3], [0.9, 1.3], [0.2, 3.0]])  # (degrees, folds)
    # degree 2 has the lowest mean (1.1, standard error 0.2); degree 1's 1.15 is within it
    assert polyfit.pick_degree(val) == 1
    assert polyfit.pick_degree(val[:, :1].repeat(1, 2)) == 3  # no spread: the minimum


# --- weight-decay ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def decay_runs(tmp_path_factory):
    return {impl: _run(weight_decay, tmp_path_factory.mktemp(f"wd-{impl}"), impl=impl)
            for impl in ("scratch", "concise")}


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_the_weight_norm_falls_with_lambda_and_the_test_loss_with_it(decay_runs, impl):
    summary, lines = decay_runs[impl]
    norms = summary["w_norms"]
    assert summary["lambdas"] == [0.0, 0.1, 0.3, 1.0, 3.0, 10.0]
    assert all(a > b for a, b in zip(norms, norms[1:]))
    assert 12 < summary["w_norm_no_decay"] < 15 and abs(summary["w_norm_decay"] - 0.36) < 0.1
    assert summary["test_loss_decay"] < summary["test_loss_no_decay"] / 100
    # without decay the 20 examples are fitted almost exactly: overfitting, not underfitting
    assert summary["train_losses"][0] < 1e-4 < summary["test_losses"][0]
    assert all(h.agrees for h in weight_decay.EXPERIMENT.headlines(summary))
    assert any(line.startswith("true ||w|| = 0.141") for line in lines)


def test_scratch_penalty_and_concise_weight_decay_take_the_same_steps(decay_runs):
    scratch, concise = (decay_runs[impl][0] for impl in ("scratch", "concise"))
    assert scratch["w_norms"] == pytest.approx(concise["w_norms"], rel=1e-4)
    assert scratch["test_losses"] == pytest.approx(concise["test_losses"], rel=1e-3)


def test_concise_weight_decay_leaves_the_bias_alone():
    model, _, optimizer = weight_decay.build({"impl": "concise", "lr": 0.1}, 3.0,
                                             torch.Generator().manual_seed(0))
    decay = {id(p): group["weight_decay"] for group in optimizer.param_groups
             for p in group["params"]}
    assert decay[id(model[0].weight)] == 3.0 and decay[id(model[0].bias)] == 0.0


# --- dropout -----------------------------------------------------------------------------


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_dropout_trains_both_nets_in_their_own_folders(tmp_path, toy_data, impl):
    summary, lines = _run(dropout, tmp_path, impl=impl, epochs=3, batch_size=32,
                          data_dir=str(toy_data))
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
    summary, _ = _run(dropout, tmp_path, **dropout.EXPERIMENT.quick, data_dir=str(real_data))
    assert summary["epochs"] == 3
    assert summary["test_acc"] >= 0.80 and summary["no_dropout_test_acc"] >= 0.78
    assert all(h.agrees for h in dropout.EXPERIMENT.headlines(summary))
    # measured in eval mode the training accuracy is at least the test one, give or take
    assert summary["train_acc"] > summary["test_acc"] - 0.01
