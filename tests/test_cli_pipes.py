"""A command whose reader goes away (``shallowlab ... | head -1``) ends quietly, status 0.

Real pipes: either one whose reading end is closed before the command writes (its first write
fails, wherever in the command it comes), or the real ``head -1``, which exits after a line
while the command goes on writing.
"""

import json
import os
import subprocess

import pytest

from shallowlab.experiments import EXPERIMENTS
from shallowlab.term import reader_gone
from tests.conftest import run_experiment, shallowlab_command


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """A folder holding one finished run, for ``shallowlab runs``."""
    folder = tmp_path_factory.mktemp("runs")
    run_experiment(EXPERIMENTS["linreg"], folder / "linreg", epochs=1)
    return folder


def into_a_closed_pipe(*args) -> subprocess.CompletedProcess:
    """``shallowlab ARGS`` with its output into a pipe nobody reads any more."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(shallowlab_command(*args), stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [("list",), ("runs", "RUNS")], ids=["list", "runs"])
def test_a_command_whose_reader_has_gone_ends_quietly_with_status_0(args, runs_dir):
    result = into_a_closed_pipe(*[runs_dir if a == "RUNS" else a for a in args])
    assert (result.returncode, result.stderr) == (0, "")


def test_a_run_piped_into_head_stops_quietly_and_its_folder_says_interrupted(tmp_path):
    out = tmp_path / "run"
    command = shallowlab_command("run", "linreg", "--epochs", "50", "--out", out)
    producer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-1"], stdin=producer.stdout, stdout=subprocess.PIPE)
    producer.stdout.close()  # head holds the only reading end: when it exits, none is left
    first, _ = head.communicate(timeout=120)
    errors = producer.stderr.read().decode()
    assert (producer.wait(timeout=120), errors) == (0, "")
    assert first.decode().startswith("linreg: ")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["epochs"] < 50


def test_only_a_pipe_whose_reader_has_closed_counts_as_gone():
    """What lets the entry tell `| head` from another broken pipe, which stays a failure."""
    read, write = os.pipe()
    with os.fdopen(write, "w") as stream:
        assert not reader_gone(stream)
        os.close(read)
        assert reader_gone(stream)
    with open(os.devnull, "w") as stream:
        assert not reader_gone(stream)
