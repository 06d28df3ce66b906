"""The stability experiment (d2l 4.8): which inits keep 20 layers' gradients in range."""

import pytest

from shallowlab.experiments import stability
from tests.conftest import is_png, run_experiment


@pytest.fixture(scope="module")
def stability_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stability")
    # 20 weight layers of width 256, gradients taken on a batch of 4
    summary, _ = run_experiment(stability.EXPERIMENT, folder, batch_size=4)
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
