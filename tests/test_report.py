"""The report from run folders, and `run all` keeping going past a failed experiment."""

import json

from shallowlab.experiments import EXPERIMENTS, Headline
from shallowlab.report import write
from shallowlab.runs import RunDir
from tests.test_cli import cli

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _fake_run(folder, name, status, **summary):
    run = RunDir(folder / name)
    run.write_json("config.json", {"experiment": name})
    run.write_summary(status, [], 1.0, **summary)
    (run / "plot.png").write_bytes(PNG)


def test_report_marks_misses_and_failures(tmp_path):
    _fake_run(tmp_path, "softmax", "completed", final_test_acc=0.70)
    _fake_run(tmp_path, "mlp", "completed", final_test_acc=0.845)
    _fake_run(tmp_path, "linreg", "failed", error="the data ran away")
    sections = write(tmp_path, ["softmax", "mlp", "linreg"], "test settings")
    assert [s.status for s in sections] == ["completed", "completed", "failed"]
    assert sections[0].headlines == [Headline("test accuracy", 0.70, 0.83, 0.02)]
    assert not sections[0].headlines[0].agrees and sections[1].headlines[0].agrees
    md = (tmp_path / "report.md").read_text()
    assert "| softmax | test accuracy | 0.7 | 0.83 | ± 0.02 | **MISS** |" in md
    assert "| mlp | test accuracy | 0.845 | 0.84 | ± 0.02 | agrees |" in md
    assert "**FAILED**: the data ran away" in md
    assert "![plot](softmax/plot.png)" in md
    assert EXPERIMENTS["softmax"].lesson in md
    page = (tmp_path / "report.html").read_text()
    assert page.count("src=\"data:image/png;base64,") == 3  # every figure inlined
    assert "class='miss'" in page and "FAILED: the data ran away" in page


def test_run_all_reports_a_failure_and_runs_the_rest(tmp_path, toy_data):
    """Corrupt data: the Fashion-MNIST experiments fail, every other one completes."""
    (toy_data / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    out = tmp_path / "all"
    result = cli("run", "all", "--data-dir", toy_data, "--out", out, timeout=900)
    assert result.returncode == 1
    statuses = {}
    for name, experiment in EXPERIMENTS.items():
        statuses[name] = json.loads((out / name / "summary.json").read_text())["status"]
        needs_data = "data_dir" in experiment.defaults
        assert statuses[name] == ("failed" if needs_data else "completed"), name
    md = (out / "report.md").read_text()
    assert md.count("**FAILED**") == sum(s == "failed" for s in statuses.values()) > 0
    assert all(f"## {name}" in md for name in EXPERIMENTS)
    assert "train-labels-idx1-ubyte.gz" in md
    assert f"report: {out / 'report.md'}" in result.stdout


def test_run_all_takes_only_its_own_flags(tmp_path):
    result = cli("run", "all", "--lr", "0.1", "--out", tmp_path / "x")
    assert result.returncode == 2 and "--lr does not apply to `run all`" in result.stderr
    result = cli("run", "mlp", "--full", "--out", tmp_path / "y")
    assert result.returncode == 2 and "--full applies to `shallowlab run all` only" in \
        result.stderr
