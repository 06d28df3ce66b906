"""The planck experiment: gradient descent recovers a black body's temperature from its spectrum."""

from shallowlab.experiments import planck
from tests.conftest import is_png, run_experiment


def test_planck_recovers_each_temperature_within_1_percent(tmp_path):
    experiment = planck.EXPERIMENT
    summary, lines = run_experiment(experiment, tmp_path, epochs=experiment.quick["epochs"])
    assert [f["true"] for f in summary["fits"]] == list(planck.TEMPERATURES)
    for f in summary["fits"]:
        assert abs(f["recovered"] - f["true"]) <= 0.01 * f["true"], f
        assert f["losses"][0] > 10 * f["final_loss"]  # it started far off: 5000 K
    assert is_png(tmp_path / "planck.png")
    assert any("recovered" in line for line in lines)
