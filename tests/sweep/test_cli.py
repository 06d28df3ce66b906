"""``shallowlab sweep`` through real processes: the issue's sweep on the real data, killed and
resumed, a diverging trial, Ctrl-C, random search, and the one-line refusals."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shallowlab.cli.flags import usable_cpus
from tests.conftest import (
    MLP_SWEEP,
    Ahead,
    history_without_seconds,
    is_png,
    running,
    selected,
    shallowlab_command,
    trials_without_seconds,
)

RESULT_FILES = ("sweep.json", "trials.csv", "trials.json", "summary.csv", "sweep.png",
                "sweep.md", "sweep.html")
RUN_FILES = ("config.json", "history.json", "history.csv", "summary.json",
             "model.safetensors", "curves.png")


def sweep(*args, timeout=600):
    return subprocess.run(shallowlab_command("sweep", *args), capture_output=True, text=True,
                          timeout=timeout)


def rows(folder: Path) -> list[dict]:
    with open(folder / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def wait_for(predicate, seconds: float = 300, process=None):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert process is None or process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def completed(folder: Path) -> int:
    try:
        return sum(r["status"] == "completed" for r in json.loads(
            (folder / "trials.json").read_text()))
    except (OSError, ValueError):
        return 0


@pytest.mark.data
def test_the_issues_sweep_leaves_its_files_and_names_the_best_configuration(mlp_sweep):
    folder, printed = mlp_sweep
    assert all((folder / name).exists() for name in RESULT_FILES)
    assert is_png(folder / "sweep.png")
    trials = rows(folder)
    assert len(trials) == 8 and {r["status"] for r in trials} == {"completed"}
    for r in trials:  # each trial an ordinary run folder, run with its own settings
        run = folder / r["trial"]
        assert all((run / name).exists() for name in RUN_FILES)
        config = json.loads((run / "config.json").read_text())
        assert (config["lr"], config["hidden"], config["seed"], config["epochs"]) == \
            (float(r["lr"]), [int(r["hidden"])], int(r["seed"]), 2)
        assert r["trial"] == f"lr={r['lr']},hidden={r['hidden']},seed={r['seed']}"
    with open(folder / "summary.csv", newline="") as f:
        configs = list(csv.DictReader(f))
    assert len(configs) == 4 and all(c["trials"] == c["completed"] == "2" for c in configs)
    means = [float(c["final_test_acc_mean"]) for c in configs]
    assert means == sorted(means, reverse=True)
    for c in configs:  # the mean over the configuration's two seeds
        accs = [float(r["final_test_acc"]) for r in trials
                if (r["lr"], r["hidden"]) == (c["lr"], c["hidden"])]
        assert float(c["final_test_acc_mean"]) == pytest.approx(sum(accs) / 2, abs=1e-6)
    best = configs[0]
    assert f"best: lr {best['lr']}, hidden {best['hidden']}: test accuracy" in printed
    # two epochs at lr 0.2 train the MLP well past two at lr 0.05 (about 0.81 against 0.75)
    by_lr = {lr: [float(r["final_test_acc"]) for r in trials if r["lr"] == lr]
             for lr in ("0.05", "0.2")}
    assert sum(by_lr["0.2"]) / 4 > sum(by_lr["0.05"]) / 4 + 0.02
    page = (folder / "sweep.html").read_text()
    assert "data:image/png;base64," in page and "Best: lr" in page


@pytest.mark.data
def test_a_sweep_killed_and_resumed_ends_as_an_uninterrupted_one(mlp_sweep, tmp_path):
    out = tmp_path / "sweep"
    with running(shallowlab_command("sweep", *MLP_SWEEP, "--out", out)) as process:
        wait_for(lambda: completed(out) >= 3, process=process)
        process.kill()  # kill -9: no chance to tidy up; its trials stop as its children
        process.wait()
    assert completed(out) < 8
    resumed = sweep("--resume", out)
    assert resumed.returncode == 0, resumed.stderr
    assert "already completed" in resumed.stdout
    assert trials_without_seconds(out) == trials_without_seconds(mlp_sweep[0])
    for r in rows(out):
        assert history_without_seconds(out / r["trial"]) == \
            history_without_seconds(mlp_sweep[0] / r["trial"])


def test_a_diverging_trial_fails_with_its_reason_and_the_others_complete(toy_data, tmp_path):
    result = sweep("mlp", "--grid", "lr=0.1,100", "--epochs", "2", "--data-dir", toy_data,
                   "--out", tmp_path / "s")
    assert result.returncode == 1
    by_lr = {r["lr"]: r for r in rows(tmp_path / "s")}
    assert by_lr["0.1"]["status"] == "completed" and float(by_lr["0.1"]["final_test_acc"]) > 0.5
    assert by_lr["100.0"]["status"] == "failed"
    assert "diverged" in by_lr["100.0"]["error"] and "--lr 10" in by_lr["100.0"]["error"]
    assert "best: lr 0.1" in result.stdout
    assert "[2/2] lr=" in result.stdout  # without --quiet: a line per trial as it ends
    assert "failed" in (tmp_path / "s" / "sweep.html").read_text()


def test_ctrl_c_keeps_finished_trials_and_resume_finishes_the_sweep(toy_data, tmp_path):
    out = tmp_path / "s"
    args = ("mlp", "--grid", "lr=0.05,0.1", "--seeds", "2", "--epochs", "3",
            "--data-dir", toy_data, "--out", out)
    with running(shallowlab_command("sweep", *args)) as process:
        wait_for(lambda: completed(out) >= 1, process=process)
        process.send_signal(signal.SIGINT)
        printed, err = process.communicate(timeout=120)
    assert process.returncode == 130, printed + err
    assert f"shallowlab sweep --resume {out}" in err
    states = [r["status"] for r in rows(out)]
    assert len(states) == 4 and "completed" in states and set(states) != {"completed"}
    assert set(states) <= {"completed", "interrupted", "pending"}
    resumed = sweep("--resume", out)
    assert resumed.returncode == 0, resumed.stderr
    assert {r["status"] for r in rows(out)} == {"completed"}


def test_random_search_runs_the_drawn_configurations(toy_data, tmp_path):
    out = tmp_path / "s"
    result = sweep("mlp", "--sample", "3", "--grid", "lr=log:0.01:0.5",
                   "--grid", "hidden=16,32", "--epochs", "1", "--data-dir", toy_data,
                   "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    # --quiet: only the result, the ranking and the folder; no line per trial, no header
    printed = result.stdout.splitlines()
    assert printed[0].startswith("rank ") and printed[-1].startswith(f"sweep folder: {out}")
    assert any(line.startswith("best: ") for line in printed)
    assert not [line for line in printed if line.startswith("[") or "trials (" in line]
    planned = json.loads((out / "sweep.json").read_text())
    assert planned["sample"] == 3 and len(planned["trials"]) == 3
    for r in rows(out):
        assert 0.01 <= float(r["lr"]) <= 0.5 and r["hidden"] in ("16", "32")
        assert r["status"] == "completed"


REFUSED = [
    (("mlp", "--grid", "learning-rate=0.1,0.2"), 2,
     "--grid learning-rate=0.1,0.2: --learning-rate is not a flag of `shallowlab run`"),
    (("mlp", "--grid", "lr=0.1,fast"), 2, "--grid lr=0.1,fast: argument --lr: invalid float"),
    (("mlp", "--grid", "lr=0.1,-1"), 2, "--lr -1.0 is invalid: it must be a finite number > 0"),
    (("mlp", "--grid", "lr="), 2, "--grid lr= lists no values"),
    (("mlp", "--grid", "lr=log:0.01:1"), 2, "add --sample N"),
    (("linreg", "--grid", "hidden=64,128"), 2, "--hidden does not apply to linreg"),
    (("mlp", "--epochs", "2"), 2, "nothing to sweep"),
    (("mlp", "--grid", "lr=0.1,0.2", "--workers", "0"), 2, "--workers 0 is invalid"),
    (("mlp", "--grid", "lr=0.1,0.2", "--ray", "127.0.0.1:9"), 1,
     "--ray 127.0.0.1:9: no Ray cluster answers there"),
    (("mlp", "--grid", "lr=0.1,0.2", "--ray", "nowhere"), 2, "--ray nowhere is not an address"),
]


@pytest.fixture(scope="module")
def refusals(request, tmp_path_factory):
    """``refusals[args]``: the sweep folder asked for and the finished ``sweep ARGS --out`` it;
    some imports torch before it refuses (those the experiment decides), so all are begun at
    once (tests.conftest.Ahead)."""
    def job(args: tuple[str, ...]):
        out = tmp_path_factory.mktemp("refused") / "s"
        return out, sweep(*args, "--out", out)

    wanted = "test_bad_input_is_one_line_and_starts_nothing" in selected(request)
    ahead = Ahead(job, [args for args, _, _ in REFUSED] if wanted else [])
    yield ahead
    ahead.close()


@pytest.mark.parametrize(("args", "status", "message"), REFUSED)
def test_bad_input_is_one_line_and_starts_nothing(refusals, args, status, message):
    out, result = refusals[args]
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not out.exists()


def test_resume_of_a_folder_that_is_not_a_sweep_is_refused(tmp_path):
    result = sweep("--resume", tmp_path)
    assert result.returncode == 2
    assert f"--resume {tmp_path}: no readable sweep.json" in result.stderr
    planned = sweep("mlp", "--grid", "lr=0.1,0.2", "--resume", tmp_path)
    assert planned.returncode == 2 and "cannot change when resuming" in planned.stderr


def test_without_ray_installed_ray_says_how_to_get_it(tmp_path):
    hide_ray = ("import sys; sys.modules['ray'] = None; from shallowlab.cli import main; "
                "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", hide_ray, "sweep", "mlp", "--grid",
                             "lr=0.1,0.2", "--ray", "auto", "--out", tmp_path / "s"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "pip install 'shallowlab[ray]'" in result.stderr


# Refusals the flags alone decide: each answers before torch is imported.
FLAGS_ALONE = [
    ("mlp", "--grid", "learning-rate=0.1,0.2"),
    ("mlp", "--grid", "lr=0.1,fast"),
    ("mlp", "--grid", "lr"),
    ("mlp", "--grid", "lr="),
    ("mlp", "--grid", "lr=log:0.01:1"),
    ("mlp", "--grid", "lr=log:1:0.01", "--sample", "2"),
    ("mlp", "--epochs", "2"),
    ("mlp", "--grid", "lr=0.1,0.2", "--workers", "0"),
    ("mlp", "--grid", "lr=0.1,0.2", "--threads", str(usable_cpus() + 1)),
    ("mlp", "--grid", "lr=0.1,0.2", "--ray", "auto", "--workers", "2"),
    ("--resume", "no-such-sweep"),
    ("--grid", "lr=0.1,0.2"),
]


@pytest.mark.parametrize("args", FLAGS_ALONE, ids=" ".join)
def test_a_refusal_the_flags_decide_imports_no_torch(args, tmp_path):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "shallowlab", "sweep",
                             *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = result.stderr.splitlines()
    modules = {line.rsplit("|", 1)[1].strip() for line in lines
               if line.startswith("import time:") and "|" in line}
    said = [line for line in lines if not line.startswith("import time:")]
    assert result.returncode == 2 and len(said) == 1, said
    assert said[0].startswith("shallowlab: error: ")
    assert "shallowlab.cli" in modules and "torch" not in modules


def test_threads_beyond_the_cpus_are_refused_naming_the_most(tmp_path):
    most = usable_cpus()
    result = sweep("mlp", "--grid", "lr=0.1,0.2", "--threads", str(most + 1), "--out",
                   tmp_path / "s")
    assert result.returncode == 2 and not (tmp_path / "s").exists()
    assert result.stderr.count("\n") == 1
    assert f"--threads {most + 1} is more than the {most} CPUs" in result.stderr
    assert f"give --threads {most} or fewer" in result.stderr
