"""The benchmarks: the limits' counted flops and bandwidth, short runs of speed (on the real
data; bf16 and the start-up split on toy data), and the replica of the book's d2l 1.0 that
book_layer times shallowlab.d2l against."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks import book_en, claims, limits, targets
from shallowlab import d2l
from shallowlab.core.devices import slow_bf16
from tests.conftest import write_fashion

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


def test_the_eight_layouts_compute_the_same_product_in_the_fused_step_dtypes():
    """A bf16 roofline takes each layer in the dtype the fused step gives it: bf16 for
    64 -> 32, fp32 for 32 -> 10 (10 columns); the layouts are the same product, C or C^T."""
    products = limits.products((64, 32, 10), 8, "bf16")
    assert [f for f, _ in products] == [2 * 8 * 64 * 32] * 2 + [2 * 8 * 32 * 10] * 3
    for i, (_, ways) in enumerate(products):
        assert len(ways) == 8
        results = [way() for way in ways]
        first = results[0]
        assert first.dtype == (torch.bfloat16 if i < 2 else torch.float32)
        for r in results:
            same = r if r.shape == first.shape else r.t()
            torch.testing.assert_close(same.float(), first.float(), rtol=1e-2, atol=1e-2)


def test_the_slower_limit_binds():
    measured = {"memory limit": {"seconds": 0.02}, "roofline": {"seconds": 0.01},
                "roofline bf16": {"seconds": 0.05}}
    assert limits.binding(measured, "fp32") == "memory limit"
    assert limits.binding(measured, "bf16") == "roofline bf16"


def test_memory_limit_is_the_bytes_over_the_measured_bandwidth():
    limit = limits.memory_limit(10**6, buffer_bytes=1 << 22)
    assert limit["gb_per_s"] > 0
    assert limit["seconds"] == pytest.approx(10**6 / (limit["gb_per_s"] * 1e9))


def test_a_short_run_reports_every_pipeline_against_the_limit(tmp_path, real_data, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(real_data))
    out = tmp_path / "speed.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--epochs", "2",
                             "--models", "softmax", "--pipelines", "shallowlab", "autograd",
                             "sklearn", "--no-startup", "--json", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    rows = {r["pipeline"]: r for r in report["results"]}
    assert set(rows) == {"shallowlab", "autograd", "sklearn"}
    limits_ = report["limits"]["softmax"]
    memory = limits_["memory limit"]
    assert memory["bytes"] == 60000 * (4 * 784 + 8) and memory["pixels"] == "float32"
    assert limits_["roofline"]["flops"] == 2 * 2 * 60000 * 784 * 10  # forward and dW
    binds = max(("memory limit", "roofline"), key=lambda k: limits_[k]["seconds"])
    for row in rows.values():
        assert row["binding_limit"] == binds and row["epochs"] == 2
        assert row["x_limit"] == pytest.approx(row["median_epoch_seconds"]
                                               / limits_[binds]["seconds"])
        assert row["test_acc"] > 0.7  # one or two epochs of softmax regression
    target = report["targets"]["softmax"]
    assert target["limit"] == "memory limit"
    assert target["x_limit"]["value"] == pytest.approx(
        rows["shallowlab"]["median_epoch_seconds"] / memory["seconds"])
    assert "target softmax: x its memory limit" in result.stdout
    assert report["machine"]["flags"] and "flags:" in result.stdout  # the CPU named
    assert report["startup"] is None
    assert "softmax" in result.stdout and "memory limit" in result.stdout
    assert "binds fp32" in result.stdout


def test_bf16_and_the_start_up_split_are_in_the_same_run(tmp_path, toy_data, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))  # 600 toy images: 3 batches an epoch
    out = tmp_path / "speed.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--epochs", "3",
                             "--bf16-epochs", "2", "--models", "mlp", "--pipelines",
                             "shallowlab", "shallowlab-bf16", "--startup-repeats", "1",
                             "--json", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    rows = {r["pipeline"]: r for r in report["results"]}
    assert (rows["shallowlab"]["epochs"], rows["shallowlab-bf16"]["epochs"]) == (3, 2)
    assert rows["shallowlab-bf16"]["precision"] == "bf16"
    assert rows["shallowlab-bf16"]["binding_limit"] == "roofline bf16"
    assert rows["shallowlab"]["binding_limit"] == "roofline"
    limits_ = report["limits"]["mlp"]
    assert limits_["roofline"]["flops"] == limits_["roofline bf16"]["flops"]
    assert limits_["roofline bf16"]["precision"] == "bf16"
    for row in rows.values():
        assert row["test_acc"] > 0.5  # the toy classes are bands (chance is 0.1)
    bf16 = report["targets"]["mlp"]["bf16_x_fp32"]
    assert bf16["value"] == pytest.approx(rows["shallowlab-bf16"]["median_epoch_seconds"]
                                          / rows["shallowlab"]["median_epoch_seconds"])
    for row in rows.values():  # the epoch less its precision's roofline
        roof = limits_["roofline" if row["precision"] == "fp32" else "roofline bf16"]
        assert row["outside_products_seconds"] == pytest.approx(
            row["median_epoch_seconds"] - roof["seconds"])
    reason = slow_bf16(torch.device("cpu"))
    bf16_targets = ("bf16_x_fp32", "bf16_x_roofline", "bf16_x_faster_than_book",
                    "bf16_acc_gap")
    if reason:  # no bf16 target where bf16 is slow: one line each says so, and why
        assert "neither AVX-512 BF16 nor AMX" in result.stdout
        for key in bf16_targets:
            assert report["targets"]["mlp"][key]["met"] is None, key
        assert result.stdout.count(f"not measured: {reason}") == 4  # one line per target
    else:  # the accuracy target measured (3 seeds of 10 epochs on the toy data)
        assert report["bf16_accuracy"]["seeds"] == 3
        assert report["targets"]["mlp"]["bf16_acc_gap"]["met"] is not None
    # the start-up split, from benchmarks.startup, printed and in the JSON
    startup = report["startup"]
    for name in ("python -c pass", "shallowlab list", "shallowlab run linreg",
                 "run mlp: epochs"):
        assert startup[name]["median"] > 0, name
    assert "split of run mlp" in result.stdout and "shallowlab --help" in result.stdout


def test_the_book_board_averages_every_n_points_and_replots_every_line(capsys):
    board = book_en.ProgressBoard()
    for i in range(4):
        board.draw(i, float(2 * i), "train_loss", every_n=2)
    board.draw(1, 0.5, "val_acc")
    assert board.data["train_loss"] == [(0.5, 1.0), (2.5, 5.0)]
    assert board.data["val_acc"] == [(1, 0.5)]
    # as the book's: every draw plots every line again on the same axes, then displays it
    assert len(board.fig.axes[0].lines) == 1 + 1 + 2
    assert capsys.readouterr().out.count("Figure(") == 3  # a script's display: the repr
    book_en._pyplot().close(board.fig)


def test_the_book_items_are_the_layers_images_and_resize_as_torchvision(toy_data, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))
    book, layer = book_en.FashionMNIST(batch_size=8), d2l.FashionMNIST(batch_size=8)
    for i in (0, 599):
        X, y = book.train[i]
        assert X.shape == (1, 28, 28) and X.dtype == torch.float32
        assert torch.equal(X, layer.train[i][0]) and y == layer.train[i][1]
    X, _ = book_en.FashionMNIST(resize=(32, 40)).val[0]
    assert X.shape == (1, 32, 40)


def test_book_layer_times_the_english_sections_alike_on_both_sides(tmp_path, monkeypatch):
    # 10 batches of toy images: one epoch teaches both models their bands
    monkeypatch.setenv("SHALLOWLAB_DATA", str(write_fashion(tmp_path / "toy", n_train=2560)))
    out = tmp_path / "book_layer.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.book_layer", "--sections", "5.2",
                             "4.4", "--epochs", "1", "--repeats", "1", "--json", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    sections = json.loads(out.read_text())["sections"]
    assert list(sections) == ["4.4", "5.2"]
    for summary in sections.values():
        median = summary["median_epoch_seconds"]
        assert summary["speedup_book_over_layer"] == pytest.approx(median["book"] / median["layer"])
        for side, (run,) in summary["runs"].items():
            assert len(run["epoch_seconds"]) == 1 and run["startup"] > 0
            assert run["per_epoch"] == run["epoch_seconds"][0]
            assert run["acc"] > 0.95, side  # the toy images' classes are bands: one epoch learns
        assert summary["acc_agree"] and summary["acc_difference"] <= 0.01
    assert "concise MLP (5.2)" in result.stdout and "x faster (book / layer)" in result.stdout


def test_profile_step_splits_each_precision_into_its_products_and_the_rest(tmp_path, toy_data,
                                                                            monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))  # 600 toy images: 3 steps an epoch
    out = tmp_path / "profile.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.profile_step", "--epochs", "2",
                             "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["machine"]["flags"] is not None
    for precision in ("fp32", "bf16"):
        ops, summary = (report["results"][precision][k] for k in ("ops", "summary"))
        products = [name for name, op in ops.items() if op["product"]]
        assert products and all(name.startswith("aten::") for name in products)
        assert summary["products_us"] == pytest.approx(
            sum(op["us_per_step"] for op in ops.values() if op["product"]))
        assert summary["profiled_step_us"] == pytest.approx(
            summary["products_us"] + summary["rest_us"])
        assert summary["step_us"] > 0 and summary["alone_us"] > 0 and summary["gathered_us"] > 0
    assert "aten::mm *" in result.stdout and "step, unprofiled" in result.stdout
    assert "the step alone (batches ready)" in result.stdout


def test_the_claims_are_each_a_ratio_of_two_sides_timed_alike(tmp_path):
    """benchmarks.claims holds the timing claims unit tests leave out; its report, not its
    timings, is checked here (which side wins is the benchmark's to say, on a quiet machine)."""
    out = tmp_path / "claims.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.claims", "--rounds", "3",
                             "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode in (0, 1), result.stderr  # 1: a claim missed its bound
    report = json.loads(out.read_text())
    assert set(report["claims"]) == {"vectorize", "idx-reject"}
    for name, claim in report["claims"].items():
        assert claim["ratio"] == pytest.approx(claim["slower_us"] / claim["faster_us"])
        assert claim["holds"] == claims.holds(claim["ratio"], claim["bound"])
        assert name in result.stdout
    assert result.returncode == (0 if all(c["holds"] for c in report["claims"].values()) else 1)


def test_where_bf16_is_slow_each_bf16_target_says_it_was_not_measured_and_why():
    rows = [{"model": "mlp", "pipeline": p, "median_epoch_seconds": s,
             "x_slower_than_shallowlab": s / 0.2}
            for p, s in (("shallowlab", 0.2), ("shallowlab-bf16", 1.0), ("book", 3.0))]
    limits_ = {"mlp": {"roofline": {"seconds": 0.1}, "roofline bf16": {"seconds": 0.5}}}
    reason = "this CPU has neither AVX-512 BF16 nor AMX instructions"
    slow = targets.verdict("mlp", rows, limits_, reason)
    slow["bf16_acc_gap"] = targets.accuracy_check(None, reason)
    lines = targets.lines({"mlp": slow})
    unmeasured = [line for line in lines if "not measured" in line]
    assert len(unmeasured) == 4 and all(line.endswith(reason) for line in unmeasured)
    assert any("x its roofline 2.000 (<= 1.4): MISSED" in line for line in lines)
    fast = targets.verdict("mlp", rows, limits_, None)  # the same rows where bf16 is fast
    assert fast["bf16_x_fp32"] == {"value": 5.0, "bound": 0.6, "met": False, "why": None}
    assert fast["bf16_x_faster_than_book"]["value"] == 3.0


def test_the_pace_benchmark_without_tf_playground_says_how_to_build_it(tmp_path):
    result = subprocess.run([sys.executable, "-m", "benchmarks.playground_pace",
                             "--tf-playground", str(tmp_path)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and str(tmp_path) in result.stderr
    assert "scripts/get-tf-playground.sh" in result.stderr
