"""The polyfit experiment (d2l 4.4): under- and overfitting; the degree cross-validation picks."""

import pytest
import torch

from shallowlab.data import synthetic
from shallowlab.experiments import polyfit
from tests.conftest import is_png, run_experiment


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
    return run_experiment(polyfit.EXPERIMENT, folder, **polyfit.EXPERIMENT.quick), folder


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
