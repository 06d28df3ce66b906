"""Kill, resume, diverge, damage: a run recovers exactly or stops with one clear line."""

import json
import os
import pickle
import random
import resource
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import write_fashion

ARGS = ["run", "mlp", "--hidden", "128", "--dropout", "0.3", "--batch-size", "64",
        "--epochs", "8", "--lr", "0.2", "--seed", "5"]


def cli(*args, timeout=300, **kwargs):
    return subprocess.run([sys.executable, "-m", "shallowlab", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def _history(folder):
    records = json.loads((folder / "history.json").read_text())
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    # 6000 images: epochs long enough (~0.1 s) for kills to land inside training
    return write_fashion(tmp_path_factory.mktemp("data"), n_train=6000, n_test=500)


@pytest.mark.slow
def test_runs_killed_at_random_points_resume_to_the_same_end(tmp_path, data):
    reference = tmp_path / "reference"
    with ThreadPoolExecutor(1) as pool:  # the uninterrupted run, beside the killed one
        uninterrupted = pool.submit(cli, *ARGS, "--data-dir", data, "--out", reference)
        out = kill_ten_times(data, tmp_path / "killed")
        done = uninterrupted.result()
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "completed"
    assert _history(out) == _history(reference)
    ours, theirs = load_file(out / "model.safetensors"), load_file(reference / "model.safetensors")
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)  # bit for bit
    assert not list(out.glob(".*.tmp"))


def kill_ten_times(data, out):
    """The run of ARGS into ``out``, killed (SIGKILL) at 10 random points and resumed each
    time, then resumed to its end; returns ``out``."""
    config = out / "config.json"
    rng = random.Random(0)
    kills, life = 0, 3.5  # life: how long a process lasts after writing config.json, at most
    command = [*ARGS, "--data-dir", data, "--out", out]
    while kills < 10:
        before = config.stat().st_mtime_ns if config.exists() else None
        proc = subprocess.Popen([sys.executable, "-m", "shallowlab", *map(str, command)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # wait until this process has begun the run (it writes config.json anew), then kill
        # it at a random moment of its life: while loading, training, checkpointing or drawing
        deadline = time.monotonic() + 120
        while proc.poll() is None and (not config.exists()
                                       or config.stat().st_mtime_ns == before):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        began, kill_at = time.monotonic(), time.monotonic() + rng.uniform(0, life)
        while proc.poll() is None and time.monotonic() < kill_at:
            time.sleep(0.005)
        if proc.poll() is not None:  # it finished first: the next kill lands within its life
            assert proc.returncode == 0, proc.stderr.read()
            life = time.monotonic() - began
        else:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        command = ["run", "--resume", out]
    finish = cli(*command)  # the last resume, left to run to the end
    assert finish.returncode == 0, finish.stderr
    return out


def _one_epoch(tmp_path, data, *extra):
    out = tmp_path / "run"
    result = cli(*ARGS[:-6], "--epochs", 1, *extra, "--data-dir", data, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_resume_ignores_a_torn_write_and_continues(tmp_path, data):
    out = _one_epoch(tmp_path, data)
    (out / ".checkpoint.pt.x1y2.tmp").write_bytes(b"half a checkpoint")
    result = cli("run", "--resume", out, "--epochs", 2)
    assert result.returncode == 0, result.stderr
    assert "resuming after epoch 1" in result.stdout
    assert [r["epoch"] for r in _history(out)] == [1, 2]
    assert not list(out.glob(".*.tmp"))


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path, data):
    out = _one_epoch(tmp_path, data)
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "hidden": [32]}))
    result = cli("run", "--resume", out, "--epochs", 2)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "checkpoint.pt was written for another architecture" in line
    assert "1.bias is (128,) there and (32,) in this model" in line


def test_a_checkpoint_of_another_format_is_refused(tmp_path, data):
    out = _one_epoch(tmp_path, data)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    torch.save({**state, "format": 99}, out / "checkpoint.pt")
    result = cli("run", "--resume", out, "--epochs", 2)
    assert result.returncode == 1
    assert "has checkpoint format 99, this shallowlab reads format 2" in result.stderr


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_carrying_code_is_refused_and_never_run(tmp_path, data):
    out = _one_epoch(tmp_path, data)
    payload = _Payload()
    payload.marker = tmp_path / "pwned"
    (out / "checkpoint.pt").write_bytes(pickle.dumps({"format": 1, "model": payload}))
    result = cli("run", "--resume", out, "--epochs", 2)
    assert result.returncode == 1
    assert "cannot be loaded safely" in result.stderr
    assert not payload.marker.exists()


def test_divergence_stops_with_the_epoch_step_and_learning_rate(tmp_path, data):
    out = tmp_path / "run"
    result = cli("run", "mlp", "--lr", 100, "--data-dir", data, "--out", out)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "training diverged at epoch 1, batch " in line
    assert "the learning rate 100 is too high" in line and "--lr 10 or lower" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed" and "diverged" in summary["error"]
    assert not (out / "model.safetensors").exists()


def test_resume_refuses_other_settings_and_a_folder_with_no_run(tmp_path, data):
    out = _one_epoch(tmp_path, data)
    changed = cli("run", "--resume", out, "--lr", 0.5)
    assert changed.returncode == 2 and "--lr cannot change when resuming" in changed.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("run", "--resume", empty)
    assert nothing.returncode == 2 and f"--resume {empty}: no readable config.json" in \
        nothing.stderr
    again = cli("run", "mlp", "--out", out, "--data-dir", data)
    assert again.returncode == 2 and f"continue it with --resume {out}" in again.stderr


def _small_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


def test_a_full_disk_is_one_line_and_no_complete_looking_output(tmp_path, data):
    out = tmp_path / "run"  # the checkpoint (~400 kB) cannot be written in full
    result = cli(*ARGS, "--data-dir", data, "--out", out, preexec_fn=_small_files)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert f"cannot write {out / 'checkpoint.pt'}" in line and "another --out" in line
    assert json.loads((out / "summary.json").read_text())["status"] == "failed"
    assert not (out / "checkpoint.pt").exists() and not (out / "model.safetensors").exists()
    assert not list(out.glob(".*.tmp"))


def _rewrite(folder, name, array):
    from shallowlab.data.idx import write_idx

    write_idx(folder / f"{name}.gz", array)


@pytest.mark.parametrize("damage, file, words", [
    ("wrong magic", "t10k-images-idx3-ubyte", "magic number 2049 is not 2051"),
    ("labels out of range", "train-labels-idx1-ubyte", "label 12 at index 0 is outside 0..9"),
    ("counts differ", "t10k-labels-idx1-ubyte", "the two files do not belong together"),
    ("wrong image size", "t10k-images-idx3-ubyte", "images are 32x32, Fashion-MNIST's are 28x28"),
    ("not gzip, not IDX", "train-images-idx3-ubyte", "not an IDX file"),
])
def test_bad_data_files_fail_with_status_1_and_one_line_naming_the_file(
        tmp_path, damage, file, words):
    import numpy as np

    folder = write_fashion(tmp_path / "data", n_train=50, n_test=20)
    if damage == "wrong magic":
        _rewrite(folder, file, np.zeros(20, np.uint8))  # a labels file where images belong
    elif damage == "labels out of range":
        _rewrite(folder, file, np.full(50, 12, np.uint8))
    elif damage == "counts differ":
        _rewrite(folder, file, np.zeros(19, np.uint8))
    elif damage == "wrong image size":
        _rewrite(folder, file, np.zeros((20, 32, 32), np.uint8))
    else:
        (folder / f"{file}.gz").write_bytes(b"\x00\x00\x00\x00junk")
    result = cli("run", "softmax", "--data-dir", folder, "--out", tmp_path / "run")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert file in line and words in line, line
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "failed"


@pytest.fixture(scope="module")
def short_epochs(tmp_path_factory):
    # 1000 images: at batch 1, an epoch of 1000 steps (a second or more), far longer than the
    # 0.02 s between the end of one and the signal meant to land in the next
    return write_fashion(tmp_path_factory.mktemp("short-epochs"), n_train=1000, n_test=200)


@pytest.mark.parametrize(("sig", "engine"), [(signal.SIGINT, "autograd"),
                                             (signal.SIGTERM, "fused")],
                         ids=["SIGINT-autograd", "SIGTERM-fused"])
def test_an_interrupt_saves_the_epoch_in_progress_and_resume_continues_exactly(
        tmp_path, short_epochs, sig, engine):
    """Ctrl-C or SIGTERM mid-epoch: the step under way finishes, a checkpoint records where the
    epoch stood (exit 130, status interrupted); the resumed run ends as an uninterrupted one.
    With dropout (autograd) the masks' random state matters too."""
    # batch 1: 1000 steps an epoch, so a signal sent just after one epoch lands in the next
    args = [*ARGS, "--batch-size", 1, "--epochs", 3, "--engine", engine,
            "--dropout", 0.3 if engine == "autograd" else 0.0, "--data-dir", short_epochs]
    reference = tmp_path / "reference"
    with ThreadPoolExecutor(1) as pool:  # the uninterrupted run, beside the interrupted one
        uninterrupted = pool.submit(cli, *args, "--out", reference)
        out, partial = interrupt_in_epoch_2(args, tmp_path / "interrupted", sig)
        done = uninterrupted.result()
    assert done.returncode == 0, done.stderr

    resumed = cli("run", "--resume", out)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming in epoch 2 after batch {partial['step']}" in resumed.stdout
    assert _history(out) == _history(reference)
    ours, theirs = load_file(out / "model.safetensors"), load_file(reference / "model.safetensors")
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)  # bit for bit


def interrupt_in_epoch_2(args, out, sig):
    """The run of ``args`` into ``out``, sent ``sig`` early in its epoch 2; ``out`` and the
    checkpoint's record of where the epoch stood."""
    proc = subprocess.Popen([sys.executable, "-m", "shallowlab", *map(str, args), "--out", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in proc.stdout:
        if line.startswith("epoch 1/3"):
            break
    deadline = time.monotonic() + 60
    while not (out / "history.json").exists():  # epoch 1 saved: epoch 2 is under way
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.02)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"shallowlab: interrupted by {signal.Signals(sig).name}" in stderr
    assert "interrupted: checkpoint at epoch 2, batch " in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["epochs"] == 1
    partial = torch.load(out / "checkpoint.pt", weights_only=True)["partial"]
    assert partial["epoch"] == 2 and 0 < partial["step"] < 1000
    return out, partial
