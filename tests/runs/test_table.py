"""``shallowlab runs`` and ``shallowlab report`` on run folders, through the real command."""

import json

from shallowlab.runs import table as runs_table
from shallowlab.runs.folder import RunDir
from tests.test_cli import cli


def test_runs_lists_each_run_with_what_differs(mixed_runs):
    result = cli("runs", mixed_runs)
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split()[:4] == ["folder", "experiment", "status", "settings"]
    rows = {line.split()[0]: line for line in lines}
    assert sorted(rows) == ["linreg-a", "linreg-b", "mlp-diverged", "softmax"]
    # only lr differs between the two linreg runs; a run alone of its experiment shows none
    assert "--lr 0.03" in rows["linreg-a"] and "--lr 0.01" in rows["linreg-b"]
    assert "--epochs" not in rows["linreg-a"] and " - " in rows["softmax"]
    assert rows["mlp-diverged"].split()[:3] == ["mlp-diverged", "mlp", "failed"]
    final, best = rows["softmax"].split()[4:6]
    assert 0.5 <= float(final) <= float(best) <= 1  # the toy classes are easy


def test_runs_json_is_the_same_rows(mixed_runs):
    result = cli("runs", mixed_runs, "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["folder"]: r for r in json.loads(result.stdout)}
    assert rows["linreg-b"]["settings"] == {"lr": 0.01}
    assert rows["softmax"]["settings"] == {} and rows["softmax"]["epochs"] == 1
    failed = rows["mlp-diverged"]
    assert failed["status"] == "failed" and "diverged" in failed["error"]
    assert failed["final_test_acc"] is None and rows["linreg-a"]["error"] is None


def test_report_shows_the_failure_and_compares_the_pair(mixed_runs, tmp_path):
    out = tmp_path / "report"
    result = cli("report", mixed_runs, "--out", out)
    assert result.returncode == 0, result.stderr
    assert f"report: {out / 'report.md'}" in result.stdout
    md = (out / "report.md").read_text()
    assert md.index("## Results against the book") < md.index("## Contents") < \
        md.index("## linreg-a")
    assert "| mlp-diverged | test accuracy | no result | 0.84 | ± 0.02 | **failed** |" in md
    assert "**FAILED**: training diverged at epoch 1" in md
    assert "| softmax | test accuracy |" in md
    assert "## linreg-a (--lr 0.03)" in md and "## linreg-b (--lr 0.01)" in md
    assert (out / "compare-linreg.png").read_bytes()[:4] == b"\x89PNG"
    assert "](compare-linreg.png)" in md and "None" not in md.split("<details>")[0]
    page = (out / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == md.count("![")  # all inlined


def test_bad_folders_are_one_line(tmp_path):
    result = cli("runs", tmp_path / "nowhere")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "nowhere is not a folder" in result.stderr
    result = cli("report", tmp_path)
    assert result.returncode == 2 and "holds no run folders" in result.stderr
    result = cli("report", tmp_path, tmp_path)
    assert result.returncode == 2 and "several DIRs need --out" in result.stderr
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json")
    result = cli("runs", tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert f"{tmp_path / 'broken' / 'summary.json'} cannot be read" in result.stderr


def test_runs_lists_runs_by_default(mixed_runs, tmp_path):
    (tmp_path / "runs").symlink_to(mixed_runs)
    result = cli("runs", cwd=tmp_path)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1 + 4


def _run(folder, experiment, status="completed", **config):
    run = RunDir(folder)
    run.write_json("config.json", {"experiment": experiment, "torch": "x", **config})
    run.write_summary(status, [], 1.0)
    return folder


def test_find_goes_two_levels_down_but_not_into_a_run(tmp_path):
    _run(tmp_path / "a", "mlp", lr=0.1, seed=0)
    _run(tmp_path / "a" / "inner", "mlp")  # a sub-run belongs to its run
    _run(tmp_path / "sweep" / "t1", "mlp", lr=0.2, seed=0)
    _run(tmp_path / "deep" / "er" / "still", "mlp")  # three levels: not found
    runs = runs_table.find([tmp_path])
    assert [r.name for r in runs] == ["a", "sweep/t1"]
    assert runs_table.differing(runs) == [{"lr": 0.1}, {"lr": 0.2}]
    assert [r.name for r in runs_table.find([tmp_path / "a"])] == ["a"]
    assert runs_table.flags({"hidden": [256, 128], "fast": True, "tensorboard": False,
                             "data_dir": None}) == "--hidden 256,128 --fast"
