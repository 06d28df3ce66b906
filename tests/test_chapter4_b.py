"""Chapter 4 experiments, part b: stability, label-smoothing, planck, normal, vectorize.

Each runs through its real entry point at a tiny size and is checked against its claim.
"""


import pytest
import torch

from shallowlab import metrics
from shallowlab.data import synthetic
from shallowlab.experiments import EXPERIMENTS, label_smoothing, normal, planck
from tests.conftest import is_png, run_experiment


def _run(name, folder, **overrides):
    return run_experiment(EXPERIMENTS[name], folder, **overrides)



# --- calibration error ---------------------------------------------------------------------


def test_calibration_error_matches_a_hand_computed_case():
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.45, 0.55], [0.62, 0.38]])
    labels = torch.tensor([0, 1, 1, 0, 0])
    # 5 bins of width 0.2: (0.4, 0.6] holds 0.55 (wrong): |0 - 0.55| = 0.55;
    # (0.6, 0.8] holds 0.8 (wrong), 0.7 (right), 0.62 (right): |2/3 - 0.70667| = 0.04;
    # (0.8, 1] holds 0.9 (right): |1 - 0.9| = 0.1.  ECE = (0.55 + 3 * 0.04 + 0.1) / 5 = 0.154
    assert metrics.calibration_error(probs, labels, bins=5) == pytest.approx(0.154, abs=1e-6)
    diagram = metrics.reliability(probs, labels, bins=5)
    assert diagram["count"] == [0, 0, 1, 3, 1]
    assert diagram["accuracy"][3] == pytest.approx(2 / 3)


def test_calibration_error_is_zero_when_confidence_equals_accuracy():
    probs = torch.tensor([[0.75, 0.25]] * 4)  # 75% sure each time, right 3 times out of 4
    assert metrics.calibration_error(probs, torch.tensor([0, 0, 0, 1])) == pytest.approx(0.0)
    assert metrics.calibration_error(probs, torch.tensor([1, 1, 1, 1])) == pytest.approx(0.75)


# --- stability -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stability_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stability")
    summary, _ = _run("stability", folder, batch_size=4)  # 20 weight layers of width 256
    return summary, folder


def test_stability_draws_its_three_figures_and_the_sigmoid_gradient_peaks_at_a_quarter(
        stability_run):
    summary, folder = stability_run
    assert all(is_png(folder / f) for f in ("sigmoid.png", "products.png", "gradients.png"))
    assert summary["sigmoid_max_grad"] == pytest.approx(0.25)
    assert len(summary["product_norms"]) == 100 and summary["product_norm"] > 1e15


def test_xavier_tanh_and_he_relu_keep_every_layer_between_1e_3_and_1e2(stability_run):
    grads = stability_run[0]["grad_norms"]
    for act, init in (("tanh", "xavier"), ("relu", "he")):
        norms = grads[act][init]
        assert len(norms) == 20
        assert all(1e-3 <= n <= 1e2 for n in norms), (act, init, norms)


def test_small_normal_init_drives_every_layer_below_1e_6(stability_run):
    grads = stability_run[0]["grad_norms"]
    for act in ("tanh", "relu"):
        assert max(grads[act]["N(0, 0.01)"]) < 1e-6
    # a sigmoid's output is 0.5 whatever its input, so the layers next to the output still
    # see a signal (the output layer's norm is ~1); backwards, each layer shrinks the gradient
    # by sqrt(256) * 0.01 * 1/4 = 1/25, so all but the last five layers fall below 1e-6
    sigmoid = grads["sigmoid"]["N(0, 0.01)"]
    assert max(sigmoid[:-5]) < 1e-6 < sigmoid[-1]
    assert all(a < b / 5 for a, b in zip(sigmoid, sigmoid[1:]))  # vanishing towards the input


def test_xavier_sigmoid_starves_the_first_layer_and_unit_normal_explodes(stability_run):
    grads = stability_run[0]["grad_norms"]
    sigmoid = grads["sigmoid"]["xavier"]
    assert sigmoid[0] * 1e6 < sigmoid[-1]
    assert min(grads["relu"]["N(0, 1)"]) > 1e10 and max(grads["tanh"]["N(0, 1)"]) > 1e6


# --- planck --------------------------------------------------------------------------------


def test_planck_law_puts_the_peak_where_wien_says():
    wavelength = torch.linspace(100e-9, 3000e-9, 29001, dtype=torch.float64)
    peak = wavelength[synthetic.planck(wavelength, 5800.0).argmax()].item()
    assert peak == pytest.approx(2.897771955e-3 / 5800, rel=1e-3)


def test_planck_recovers_each_temperature_within_1_percent(tmp_path):
    summary, lines = _run("planck", tmp_path, epochs=planck.EXPERIMENT.quick["epochs"])
    assert [f["true"] for f in summary["fits"]] == list(planck.TEMPERATURES)
    for f in summary["fits"]:
        assert abs(f["recovered"] - f["true"]) <= 0.01 * f["true"], f
        assert f["losses"][0] > 10 * f["final_loss"]  # it started far off: 5000 K
    assert is_png(tmp_path / "planck.png")
    assert any("recovered" in line for line in lines)


# --- normal and vectorize ------------------------------------------------------------------


def test_normal_densities_integrate_to_one_and_peak_at_their_mean(tmp_path):
    summary, _ = _run("normal", tmp_path)
    assert set(summary["areas"]) == {f"mean {m:g}, std {s:g}" for m, s in normal.PARAMS}
    assert all(area == pytest.approx(1.0, abs=1e-3) for area in summary["areas"].values())
    x = torch.tensor([3.0])
    assert normal.normal(x, 3.0, 2.0).item() == pytest.approx(1 / (2 * (2 * torch.pi) ** 0.5))
    assert is_png(tmp_path / "normal.png")


def test_vectorised_addition_is_faster_than_the_loop_and_agrees(tmp_path):
    summary, _ = _run("vectorize", tmp_path)
    assert summary["same_result"] is True and summary["n"] == 10000
    assert summary["speedup"] > 1  # a ratio on a shared machine: no absolute thresholds
    assert summary["seconds_loop"] > summary["seconds_vectorised"]
    assert is_png(tmp_path / "vectorize.png")


# --- label smoothing -----------------------------------------------------------------------


def test_label_smoothing_lowers_confidence_on_toy_data(tmp_path, toy_data):
    summary, _ = _run("label-smoothing", tmp_path, data_dir=str(toy_data), epochs=3, lr=0.5)
    hard, smooth = summary["hard"], summary["smooth"]
    assert (hard["label_smoothing"], smooth["label_smoothing"]) == (0.0, 0.1)
    assert hard["test_acc"] >= 0.95 and smooth["test_acc"] >= 0.95
    # a smoothed target is met at confidence 0.91; a hard one only at 1
    assert smooth["mean_confidence"] < hard["mean_confidence"]
    assert all(0 <= r["ece"] <= 1 for r in (hard, smooth))
    for name in ("hard", "smooth"):
        assert (tmp_path / name / "history.json").exists()
        assert (tmp_path / name / "model.safetensors").exists()
    assert is_png(tmp_path / "reliability.png")
    assert sum(next(iter(summary["reliability"].values()))["count"]) == 200


@pytest.mark.data
@pytest.mark.slow
def test_label_smoothing_on_fashion_mnist_keeps_accuracy_and_caps_confidence(tmp_path,
                                                                            real_data):
    summary, _ = _run("label-smoothing", tmp_path, epochs=3)
    hard, smooth = summary["hard"], summary["smooth"]
    assert abs(hard["test_acc"] - smooth["test_acc"]) <= 0.01
    assert smooth["mean_confidence"] < hard["mean_confidence"] - 0.05
    assert hard["ece"] < 0.05  # this small, briefly trained MLP is nearly calibrated already
    assert label_smoothing.BINS == summary["bins"] == 15
