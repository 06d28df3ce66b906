"""The command line, run for real in subprocesses: exit statuses, messages, the run folder."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

import shallowlab
from shallowlab.cli.flags import usable_cpus
from shallowlab.core.devices import available_devices
from shallowlab.experiments import EXPERIMENTS
from tests.conftest import Ahead, selected, write_fashion

RUN_FILES = {"config.json", "history.json", "history.csv", "summary.json", "curves.png",
             "predictions.png", "confusion.png", "model.safetensors"}


def cli(*args, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "shallowlab", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_version_and_list():
    assert cli("--version").stdout.strip() == f"shallowlab {shallowlab.__version__}"
    listed = cli("list").stdout.splitlines()
    assert [line.split()[0] for line in listed] == list(EXPERIMENTS)
    assert all(EXPERIMENTS[line.split()[0]].title in line for line in listed)


BAD_USAGE = [
    (["run", "mlp", "--lr", "-1"], "--lr -1.0 is invalid: it must be a finite number > 0"),
    (["run", "mlp", "--batch-size", "0"], "--batch-size 0 is invalid"),
    (["run", "mlp", "--dropout", "1"], "--dropout 1.0 is invalid: it must be one or more "
                                       "probabilities"),
    (["run", "mlp", "--epochs", "0"], "--epochs 0 is invalid"),
    (["run", "mlp", "--activation", "gelu"], "--activation gelu is invalid: choose from"),
    (["run", "mlp", "--hidden", "256", "--dropout", "0.1,0.2"], "2 values for 1 hidden layers"),
    (["run", "softmax", "--hidden", "256"], "--hidden does not apply to softmax"),
    (["run", "resnet"], "invalid choice: 'resnet'"),
    (["run", "mlp", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["run", "mlp", "--lr", "fast"], "invalid float value: 'fast'"),
    (["run", "mlp", "--hidden", "a,b"], "is not a list of ints"),
    ([], "the following arguments are required"),
    # more threads than CPUs only wait on each other (1000 on 2 CPUs: minutes for an epoch)
    (["run", "mlp", "--epochs", "1", "--threads", "1000"],
     f"--threads 1000 is more than the {usable_cpus()} CPUs this process may run on; give "
     f"--threads {usable_cpus()} or fewer"),
    (["run", "all", "--threads", str(usable_cpus() + 1)], "CPUs this process may run on"),
]


@pytest.fixture(scope="module")
def bad_usage(request, tmp_path_factory):
    """``bad_usage[args]``: the run folder asked for and the finished ``shallowlab ARGS`` (with
    ``--out`` it, for `run`); all begun at once (tests.conftest.Ahead)."""
    def job(args: tuple[str, ...]):
        out = tmp_path_factory.mktemp("bad-usage") / "run"
        return out, cli(*args, "--out", out) if args[:1] == ("run",) else cli(*args)

    wanted = "test_bad_usage_exits_2_with_one_line_and_no_run_folder" in selected(request)
    ahead = Ahead(job, [tuple(args) for args, _ in BAD_USAGE] if wanted else [])
    yield ahead
    ahead.close()


@pytest.mark.parametrize("args, message", BAD_USAGE)
def test_bad_usage_exits_2_with_one_line_and_no_run_folder(bad_usage, args, message):
    out, result = bad_usage[tuple(args)]
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert lines[0].startswith("shallowlab")
    assert not out.exists()
    assert result.stdout == ""


def test_data_dir_that_is_not_a_folder_is_bad_usage(tmp_path):
    result = cli("run", "mlp", "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert result.returncode == 2
    assert f"--data-dir {tmp_path / 'nowhere'} is not a folder" in result.stderr


def test_unwritable_out_is_bad_usage(tmp_path):
    (tmp_path / "file").write_text("")
    result = cli("run", "softmax", "--out", tmp_path / "file" / "run")
    assert result.returncode == 2
    assert "cannot write the run folder" in result.stderr and "--out" in result.stderr


def test_run_mlp_on_toy_data_leaves_a_complete_run_folder(tmp_path, toy_data):
    out = tmp_path / "run"
    result = cli("run", "mlp", "--data-dir", toy_data, "--epochs", 3, "--hidden", 64,
                 "--lr", 0.5, "--out", out)
    assert result.returncode == 0, result.stderr
    assert RUN_FILES <= set(os.listdir(out))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs"] == 3
    assert summary["final_test_acc"] >= 0.95  # the toy classes are easy to tell apart
    history = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1, 2, 3]
    config = json.loads((out / "config.json").read_text())
    assert config["hidden"] == [64] and config["lr"] == 0.5 and config["seed"] == 0
    assert config["batch_size"] == 256 and config["experiment"] == "mlp"
    assert config["shallowlab"] == shallowlab.__version__ and "torch" in config
    # the closing table and the folder, on stdout; one plain line per epoch (not a terminal)
    assert f"run folder: {out}" in result.stdout
    assert result.stdout.count("epoch ") == 3 + 1  # three epochs and "3 epochs in"
    assert "best test accuracy" in result.stdout
    for png in ("curves.png", "predictions.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_run_folder_is_runs_experiment_timestamp(tmp_path, toy_data):
    result = cli("run", "softmax", "--data-dir", toy_data, "--epochs", 1, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder,) = os.listdir(tmp_path / "runs")
    assert folder.startswith("softmax-")
    assert f"run folder: {os.path.join('runs', folder)}" in result.stdout


def test_same_seed_same_history(tmp_path, toy_data):
    def history(name, seed):
        result = cli("run", "mlp", "--data-dir", toy_data, "--epochs", 2, "--hidden", 32,
                     "--dropout", 0.2, "--seed", seed, "--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
        records = json.loads((tmp_path / name / "history.json").read_text())
        return [{k: v for k, v in r.items() if k != "seconds"} for r in records]

    with ThreadPoolExecutor(3) as pool:  # three processes of their own, at once
        first, again, other = pool.map(history, "abc", (3, 3, 4))
    assert again == first
    assert other != first


def test_corrupt_data_file_fails_with_status_1_naming_it(tmp_path, toy_data):
    labels = toy_data / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-7])
    result = cli("run", "softmax", "--data-dir", toy_data, "--out", tmp_path / "run")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert str(labels) in line
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and str(labels) in summary["error"]
    assert not (tmp_path / "run" / "model.safetensors").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_exits_130_and_says_interrupted(tmp_path, toy_data, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "shallowlab", "run", "softmax", "--data-dir",
                             toy_data, "--epochs", "100000", "--out", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "history.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["epochs"] >= 1
    assert "interrupted" in stderr


# --- bad input found by probing (issue 11): one line, exit 2, before any work ---------------
# More variants of each (every float setting, every experiment with --hidden, every kind of
# hand edit) are checked in-process in tests/runs/test_settings.py; these run the real command.


def refused(result, status: int = 2) -> str:
    """The one line a refused command wrote on stderr, once its exit status is checked."""
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("shallowlab: error: ")
    return line


# "cuda" where torch sees no GPU; where it sees some, a GPU past the last one
MISSING_CUDA = "cuda:99" if torch.cuda.is_available() else "cuda"


@pytest.mark.parametrize("device", [MISSING_CUDA, "banana"])
def test_a_device_this_machine_lacks_is_refused_naming_the_ones_it_has(tmp_path, toy_data,
                                                                      device):
    out = tmp_path / "run"
    line = refused(cli("run", "mlp", "--device", device, "--data-dir", toy_data, "--out", out))
    assert f"--device {device}: " in line
    assert line.endswith(f"choose from auto, {', '.join(available_devices())}")
    assert not out.exists()


def test_a_model_too_big_for_the_machine_is_refused_from_its_size(tmp_path, toy_data):
    # the probe is --hidden 100000000 (738 GB to train); ten times as wide is
    # refused on any machine: 7.4 TB of weights and their gradients
    out = tmp_path / "run"
    line = refused(cli("run", "mlp", "--hidden", 10**9, "--data-dir", toy_data, "--out", out))
    assert "--hidden 1000000000 with --batch-size 256 needs at least 7,384 GB of memory" in line
    assert "choose smaller --hidden widths or a smaller --batch-size" in line
    assert not out.exists()


@pytest.mark.parametrize("flag, value", [("--lr", "inf"), ("--weight-decay", "nan")])
def test_a_setting_that_is_not_finite_is_refused(tmp_path, toy_data, flag, value):
    out = tmp_path / "run"
    line = refused(cli("run", "mlp", flag, value, "--data-dir", toy_data, "--out", out))
    assert f"{flag} {value} is invalid: it must be a finite number" in line
    assert not out.exists()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A one-epoch mlp run on toy data, made once: the folder the resume probes edit."""
    root = tmp_path_factory.mktemp("finished")
    data = write_fashion(root / "toy-data")
    result = cli("run", "mlp", "--epochs", 1, "--hidden", 8, "--data-dir", data,
                 "--out", root / "run")
    assert result.returncode == 0, result.stderr
    return root / "run"


@pytest.mark.parametrize("edit, message", [
    (lambda c: {**c, "lr": "0.1"}, '"lr": "0.1" is invalid: it must be a finite number > 0'),
    (lambda c: {**c, "seed": None}, '"seed": null is invalid: it must be an integer'),
    (lambda c: {k: v for k, v in c.items() if k != "hidden"}, 'has no "hidden" setting'),
])
def test_a_hand_edited_config_is_refused_on_resume_naming_the_file(tmp_path, finished_run,
                                                                  edit, message):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    path = run / "config.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    files = {f.name: f.read_bytes() for f in run.iterdir() if f.is_file()}
    line = refused(cli("run", "--resume", run))
    assert str(path) in line and message in line
    assert line.endswith("or start a new run")
    assert {f.name: f.read_bytes() for f in run.iterdir() if f.is_file()} == files
