"""What the command writes where: plain lines to a pipe, the result alone with --quiet, a bar
and colour on a terminal (a real pseudo-terminal), no colour with NO_COLOR (real subprocesses);
and the bar's time left, which is the whole run's."""

import json
import math
import os
import re
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

from shallowlab import term
from shallowlab.core.callbacks import Callback
from shallowlab.core.loop import fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data.batches import Batches
from shallowlab.models import nets
from tests.conftest import toy_images

pty = pytest.importorskip("pty", reason="pseudo-terminals are a POSIX facility")
ESC = "\x1b"
BAR = "█"  # tqdm's full block, drawn on a terminal that takes Unicode


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "shallowlab", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def on_a_terminal(*args, no_color: bool = False) -> tuple[int, str]:
    """Run the command with stdin, stdout and stderr on a fresh pseudo-terminal of 100x30;
    its exit status and everything it wrote there."""
    import fcntl
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"},
               **({"NO_COLOR": "1"} if no_color else {}))
    controller, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "shallowlab", *map(str, args)],
                               stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    out = b""
    while True:  # read as it comes, so the child never blocks on a full terminal buffer
        try:
            chunk = os.read(controller, 1 << 16)
        except OSError:  # Linux: EIO once the child's side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(controller)
    return process.wait(timeout=120), out.decode("utf-8", errors="replace")


def _without_seconds(path):
    value = json.loads(path.read_text())
    records = value if isinstance(value, list) else [value]
    for record in records:
        record.pop("seconds", None)
    return value


def test_a_pipe_gets_plain_lines_and_quiet_only_the_result(tmp_path):
    loud, quiet = tmp_path / "loud", tmp_path / "quiet"
    result = cli("run", "linreg", "--out", loud)
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    assert "\r" not in text and ESC not in text
    lines = result.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines if line.startswith("epoch")] == \
        ["epoch 1/3", "epoch 2/3", "epoch 3/3"]  # one line per epoch

    result = cli("run", "linreg", "--out", quiet, "--quiet")
    assert result.returncode == 0 and result.stderr == ""
    shown = result.stdout.splitlines()
    # the result and nothing else: the final table (loss per split, the time) and the folder
    assert [line.split()[0] for line in shown] == ["loss", "train", "test", "3", "run"]
    assert shown[-1] == f"run folder: {quiet}"
    assert shown[:3] == lines[-5:-2]  # the same table as the loud run's
    # and the same run folder, apart from the seconds it took
    assert sorted(os.listdir(quiet)) == sorted(os.listdir(loud))
    assert _without_seconds(quiet / "history.json") == _without_seconds(loud / "history.json")
    assert _close(_without_seconds(quiet / "summary.json"),
                  _without_seconds(loud / "summary.json"))


def _close(a, b) -> bool:
    """Equal, floats to 1e-9: linreg's closed-form least squares (LAPACK, threaded) can round
    its last bits differently from one process to the next; training itself does not."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def test_a_terminal_gets_a_bar_and_colour_and_no_colour_with_no_color(tmp_path):
    status, shown = on_a_terminal("run", "linreg", "--out", tmp_path / "a")
    assert status == 0, shown
    assert "\r" in shown and BAR in shown and " left]" in shown  # the bar, with the time left
    assert f"{ESC}[1mlinreg{ESC}[0m" in shown  # colour codes
    # each finished epoch's line, once, a line of its own (the bar's last frame shows it too)
    assert len(re.findall(r"epoch 3/3  train loss [^\r\n|]*s\r\n", shown)) == 1, shown

    status, shown = on_a_terminal("run", "linreg", "--out", tmp_path / "b", no_color=True)
    assert status == 0, shown
    assert BAR in shown and f"{ESC}[" not in shown


def test_errors_are_red_on_a_terminal_only_and_quiet_shows_no_bar(tmp_path):
    status, shown = on_a_terminal("run", "linreg", "--lr", "-1")
    assert status == 2 and f"shallowlab: {ESC}[31merror:{ESC}[0m --lr -1.0 is invalid" in shown

    status, shown = on_a_terminal("run", "linreg", "--quiet", "--out", tmp_path / "q")
    assert status == 0, shown
    lines = shown.replace("\r\n", "\n")  # the terminal's own line ends
    assert "\r" not in lines and BAR not in lines and "epoch 1/3" not in lines
    assert lines.endswith(f"run folder: {tmp_path / 'q'}\n")


def test_colour_follows_the_stream_and_no_color(monkeypatch, tmp_path):
    with open(tmp_path / "log", "w") as f:  # a file is no terminal
        assert term.colour("done", "green", f) == "done"
    monkeypatch.delenv("NO_COLOR", raising=False)
    controller, child = pty.openpty()
    with os.fdopen(child, "w") as tty:
        assert term.colour("done", "green", tty) == f"{ESC}[32mdone{ESC}[0m"
        monkeypatch.setenv("NO_COLOR", "1")
        assert term.colour("done", "green", tty) == "done"
        monkeypatch.setenv("NO_COLOR", "")  # set but empty: no-color.org says it does not count
        assert term.colour("done", "green", tty) == f"{ESC}[32mdone{ESC}[0m"
    os.close(controller)
    assert term.indented(term.silent, "   ") is term.silent  # `run all --quiet` stays quiet


class _Pace(Callback):
    """Makes every batch last ``seconds`` at least (the wait comes after the bar's
    ``on_batch_begin`` and before its ``on_batch_end``, as a step's own work does)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_batch_begin(self, state) -> None:
        time.sleep(self.seconds)


def test_the_bar_counts_the_time_left_for_the_whole_run_not_the_epoch(capsys):
    # 4 epochs of 5 steps of >= 0.1 s: >= 2 s in all. Before 40% of the run, more than 1.2 s
    # are left; an epoch's own time left is under 0.5 s, so it would read 00:00.
    model = nets.init_(nets.softmax_regression(), generator=torch.Generator().manual_seed(0))
    images, labels = toy_images(100, 1)
    train = Batches(torch.from_numpy(images).float() / 255, torch.from_numpy(labels).long(),
                    20, generator=torch.Generator().manual_seed(0))
    step = AutogradStep(model, nn.CrossEntropyLoss(reduction="none"),
                        torch.optim.SGD(model.parameters(), lr=0.1))
    lines = []
    fit(step, train, epochs=4, progress=True, log=lines.append, callbacks=[_Pace(0.1)])
    frames = re.findall(r"epoch (\d)/4  loss [\d.]+ acc [\d.]+ +(\d+)%\|[^|]*\| "
                        r"\[\d\d:\d\d elapsed, (\d\d):(\d\d) left\]", capsys.readouterr().err)
    early = [60 * int(m) + int(s) for _, pct, m, s in frames if 5 <= int(pct) < 40]
    assert early and min(early) >= 1, frames
    assert {epoch for epoch, *_ in frames} == {"1", "2", "3", "4"}
    assert [line.split("  ")[0] for line in lines] == [f"epoch {k}/4" for k in range(1, 5)]
