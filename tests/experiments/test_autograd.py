"""The autograd experiment through its real entry point: each claim it prints, checked."""

import re

import pytest
import torch

from shallowlab.experiments import autograd
from shallowlab.figures import plots
from tests.conftest import run_experiment

STEP = re.compile(r"step +(\d+) +w (\S+) +loss (\S+) +grad (\S+)")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("autograd")
    summary, lines = run_experiment(autograd.EXPERIMENT, folder)
    return summary, lines, folder


def test_gradient_descent_finds_w_2_and_predicts_8(result):
    summary, _, _ = result
    assert abs(summary["w"] - 2) < 1e-3
    assert abs(summary["prediction_at_4_after"] - 8) < 0.01
    assert abs(summary["prediction_at_4_before"] - 8) > 1  # the start was a real distance away
    assert summary["final_loss"] < 1e-8


def test_first_step_autograd_gradient_is_the_analytic_one(result):
    summary, lines, _ = result
    assert summary["first_grad_autograd"] == pytest.approx(summary["first_grad_analytic"],
                                                           rel=1e-6)
    w0 = summary["prediction_at_4_before"] / 4
    assert summary["first_grad_autograd"] == pytest.approx(28 / 3 * (w0 - 2), rel=1e-5)
    assert any(line.startswith("first step: autograd dL/dw") for line in lines)


def test_every_step_logs_loss_w_and_the_gradient_at_w(result):
    _, lines, _ = result
    steps = [tuple(map(float, m.groups())) for m in map(STEP.match, lines) if m]
    assert [int(k) for k, *_ in steps] == list(range(1, autograd.EXPERIMENT.defaults["epochs"] + 1))
    lr = autograd.EXPERIMENT.defaults["lr"]
    for (_, w, loss, grad), (_, w_next, _, _) in zip(steps, steps[1:] + [(0, 2.0, 0, 0)]):
        assert grad == pytest.approx(28 / 3 * (w - 2), rel=1e-3, abs=1e-5)  # dL/dw at w
        assert loss == pytest.approx(3 / 56 * grad**2, rel=1e-2, abs=1e-9)  # 14/3 (w - 2)^2
        assert w_next == pytest.approx(w - lr * grad, abs=1e-5)  # the logged step was taken


def test_settings_reach_the_fit(tmp_path):
    summary, lines = run_experiment(autograd.EXPERIMENT, tmp_path, epochs=3, lr=0.1,
                                    seed=1)
    assert sum(bool(STEP.match(line)) for line in lines) == 3
    w0 = torch.randn(1, generator=torch.Generator().manual_seed(1)).item()
    assert summary["w"] - 2 == pytest.approx((1 - 28 / 3 * 0.1) ** 3 * (w0 - 2), rel=1e-4)


def test_gradients_accumulate_without_zeroing(result):
    summary, lines, _ = result
    assert summary["grad_accumulation_ratio"] == 2
    (line,) = [line for line in lines if line.startswith("gradients accumulate")]
    once, twice = map(float, re.findall(r"[+-]\d+\.\d+", line))
    assert twice == pytest.approx(2 * once, abs=1e-4)
    assert once == pytest.approx(28 / 3 * (1 - 2), abs=1e-4)


def test_second_derivative_of_x_cubed_is_6x(result):
    summary, lines, _ = result
    assert summary["second_derivative_max_error"] < 1e-5
    assert sum(line.startswith("d2/dx2 x^3") for line in lines) == 5


def test_retain_graph_and_vector_backward(result):
    summary, lines, _ = result
    assert summary["retained_grad"] == [4.0 * x for x in range(4)]  # 2x, twice
    assert summary["second_backward_raised"] and summary["sum_equals_ones"]
    (line,) = [line for line in lines if "raises RuntimeError" in line]
    assert "retain_graph=True" in line and "\n" not in line


def test_activation_derivatives_match_closed_forms_and_are_drawn(result):
    summary, _, folder = result
    assert summary["activation_derivative_max_error"] < 1e-6
    assert (folder / "activations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_activations_figure_has_one_panel_per_function_with_two_curves():
    x = torch.linspace(-1, 1, 5)
    fig = plots.activations(x, {"relu": (x.relu(), (x > 0).float()), "tanh": (x.tanh(), x)})
    assert [ax.get_title() for ax in fig.axes] == ["relu", "tanh"]
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)
