"""The weight-decay experiment (d2l 4.5): the penalty shrinks ||w|| and the test loss with it."""

import pytest
import torch

from shallowlab.experiments import weight_decay
from tests.conftest import run_experiment


@pytest.fixture(scope="module")
def decay_runs(tmp_path_factory):
    return {impl: run_experiment(weight_decay.EXPERIMENT,
                                 tmp_path_factory.mktemp(f"wd-{impl}"), impl=impl)
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
