"""The benchmarks: the limits' counted flops and bandwidth, and one short real run of speed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import limits

ROOT = Path(__file__).resolve().parents[1]


def test_products_count_the_forward_and_backward_matrix_products():
    # per layer 2 B n_in n_out for the forward and for dW; dA for every layer but the first
    B = 256
    counted = sum(f for f, _ in limits.products((784, 256, 10), B))
    assert counted == 2 * B * (784 * 256) * 2 + 2 * B * (256 * 10) * 3
    assert sum(f for f, _ in limits.products((784, 10), B)) == 2 * B * 784 * 10 * 2


def test_roofline_sums_the_full_and_the_short_batches():
    limit = limits.roofline((8, 4, 2), n=10, batch=4)  # two batches of 4, one of 2
    per_example = 2 * (8 * 4) * 2 + 2 * (4 * 2) * 3
    assert limit["flops"] == per_example * 10
    assert limit["seconds"] > 0
    assert limit["gflops_per_s"] == pytest.approx(limit["flops"] / limit["seconds"] / 1e9)


def test_memory_limit_is_the_bytes_over_the_measured_bandwidth():
    limit = limits.memory_limit(10**6, buffer_bytes=1 << 22)
    assert limit["gb_per_s"] > 0
    assert limit["seconds"] == pytest.approx(10**6 / (limit["gb_per_s"] * 1e9))


def test_a_short_run_reports_every_pipeline_against_the_limit(tmp_path, real_data, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(real_data))
    out = tmp_path / "speed.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--epochs", "2",
                             "--models", "softmax", "--pipelines", "shallowlab", "autograd",
                             "sklearn", "--json", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    rows = {r["pipeline"]: r for r in report["results"]}
    assert set(rows) == {"shallowlab", "autograd", "sklearn"}
    limit = report["limits"]["softmax"]
    assert limit["kind"] == "memory limit" and limit["bytes"] == 60000 * (784 * 4 + 8)
    for row in rows.values():
        assert row["x_limit"] == pytest.approx(row["median_epoch_seconds"] / limit["seconds"])
        assert row["test_acc"] > 0.7  # one or two epochs of softmax regression
    assert report["targets"]["softmax"]["x_limit"] == rows["shallowlab"]["x_limit"]
    assert "softmax" in result.stdout and "memory limit" in result.stdout
