"""The report from run folders, and `run all` keeping going past a failed experiment."""

import json
import re

from shallowlab.experiments import EXPERIMENTS, Headline
from shallowlab.report import write
from shallowlab.runs.folder import RunDir
from tests.conftest import GRAPHVIZ
from tests.test_cli import cli

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _fake_run(folder, name, status, **summary):
    run = RunDir(folder / name)
    run.write_json("config.json", {"experiment": name})
    run.write_summary(status, [], 1.0, **summary)
    (run / "plot.png").write_bytes(PNG)


def test_report_marks_misses_and_failures(tmp_path):
    _fake_run(tmp_path, "softmax", "completed", final_test_acc=0.70, best_test_acc=0.71,
              best_epoch=2)
    _fake_run(tmp_path, "mlp", "completed", final_test_acc=0.845)
    _fake_run(tmp_path, "linreg", "failed", error="the data ran away")
    sections = write(tmp_path, ["softmax", "mlp", "linreg"], "test settings")
    assert [s.status for s in sections] == ["completed", "completed", "failed"]
    assert sections[0].headlines == [Headline("test accuracy", 0.70, 0.83, 0.02)]
    assert not sections[0].headlines[0].agrees and sections[1].headlines[0].agrees
    md = (tmp_path / "report.md").read_text()
    # the results table first, each verdict marked; a failed run has no result, not a blank
    assert md.index("## Results against the book") < md.index("## Contents") < \
        md.index("## softmax")
    assert "| softmax | test accuracy | 0.7 | 0.83 | ± 0.02 | ✗ **misses** |" in md
    assert "| mlp | test accuracy | 0.845 | 0.84 | ± 0.02 | ✓ agrees |" in md
    assert "| linreg | training loss | no result | 5 × 10⁻⁵ | ± 5 × 10⁻⁵ | **failed** |" in md
    assert "**FAILED**: the data ran away" in md
    assert "- **What was run**: test settings" in md
    assert "![Plot](softmax/plot.png)" in md
    # each section asks its question; numbers in words and units, in the mapping's order
    assert EXPERIMENTS["softmax"].question in md
    assert "| Final test accuracy | 70.00 % |\n| Best test accuracy | 71.00 % |\n" \
        "| Epoch of the best test accuracy | 2 |" in md
    assert "None" not in md.split("<details>")[0]
    page = (tmp_path / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == 3  # every figure inlined
    assert "class='misses'" in page and "FAILED</span>: the data ran away" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from a network


def test_outside_text_is_escaped(tmp_path):
    name = "<img src=x onerror=alert(1)>"
    _fake_run(tmp_path, name, "failed", error="<script>alert(2)</script> | *x*")
    write(tmp_path, [name], "<b>settings</b>")
    page = (tmp_path / "report.html").read_text()
    assert "<img src=x" not in page and "<script>" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    md, raw = (tmp_path / "report.md").read_text().split("<details>")
    assert "<img src=x" not in md and "<script>" not in md
    assert '```json\n{\n  "status": "failed",' in raw  # in a code block: shown as text
    assert "&lt;script&gt;alert(2)&lt;/script&gt; \\| \\*x\\*" in md


def test_numbers_in_words_for_every_experiment_of_run_all():
    """Every entry of the mapping formats a value of the shape its experiment writes."""
    from shallowlab.report import numbers

    assert set(numbers.NUMBERS) == set(EXPERIMENTS)
    assert numbers.sig(4.6416e-05, 3) == "4.64 × 10⁻⁵" and numbers.sig(-3.4) == "−3.4"
    assert numbers.duration(7.2e-06) == "7.2 µs" and numbers.duration(65) == "1 min 05 s"
    rows = numbers.table("huber", {"outliers": 50, "squared": {"error": 0.715},
                                    "huber": {"error": 0.0221}, "error_ratio": 32.3,
                                    "epochs": 0, "final_test_acc": None})
    assert rows == [("Outlier labels", "50"),
                    ("Squared loss: distance from the true weights", "0.715"),
                    ("Huber loss: distance from the true weights", "0.0221"),
                    ("Huber's fit closer than the squared loss's by", "32.3 ×")]


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
        needs_graphviz = name == "backprop" and not GRAPHVIZ  # refused in one line, as data
        assert statuses[name] == ("failed" if needs_data or needs_graphviz else "completed"), \
            name
    md = (out / "report.md").read_text()
    assert md.count("**FAILED**") == sum(s == "failed" for s in statuses.values()) > 0
    assert all(f"## {name}" in md for name in EXPERIMENTS)
    assert "train-labels-idx1-ubyte.gz" in md
    for name, experiment in EXPERIMENTS.items():  # each asks its question; answers if it ran
        summary = json.loads((out / name / "summary.json").read_text())
        assert experiment.question.endswith("?") and f"**{experiment.question}**" in md
        if statuses[name] == "completed":
            answer = experiment.answer(summary)
            assert re.search(r"\d", answer) and answer in md, name
    assert f"report: {out / 'report.md'}" in result.stdout


def test_run_all_takes_only_its_own_flags(tmp_path):
    result = cli("run", "all", "--lr", "0.1", "--out", tmp_path / "x")
    assert result.returncode == 2 and "--lr does not apply to `run all`" in result.stderr
    result = cli("run", "mlp", "--full", "--out", tmp_path / "y")
    assert result.returncode == 2 and "--full applies to `shallowlab run all` only" in \
        result.stderr


def test_every_experiment_failed_before_it_began(tmp_path):
    """As `run all` records a run that failed before it began: a config with only the
    experiment's name, a summary with the error; each still gets its section, no numbers."""
    for name in EXPERIMENTS:
        run = RunDir(tmp_path / name)
        run.write_json("config.json", {"experiment": name})
        run.write_summary("failed", [], 0.0, error=f"{name} could not start")
    sections = write(tmp_path, list(EXPERIMENTS), "test settings")
    assert [s.status for s in sections] == ["failed"] * len(EXPERIMENTS)
    md = (tmp_path / "report.md").read_text()
    assert all(f"**FAILED**: {name} could not start" in md for name in EXPERIMENTS)
    assert "agrees" not in md and "None" not in md.split("<details>")[0]
