"""The painter: figures drawn by a second process, the same PNGs, errors and deaths handled.

Each check runs in a fresh Python process (pytest's own has torch imported, and the painter is
forked before torch is): a script starts the painter, imports torch, and sends it figures.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import is_png, shallowlab_command

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the painter needs os.fork")

PRELUDE = """
import os, sys
from pathlib import Path
from shallowlab.figures import painter, plots
from shallowlab.figures import lessons

def torch_free_curves(history):  # fails in a process that has imported torch
    assert "torch" not in sys.modules, "the painter imported torch"
    return plots.curves(history, "drawn without torch")

def broken():
    raise ValueError("no figure today")

HISTORY = [{"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e, "train_acc": None,
            "test_acc": None} for e in (1, 2, 3)]
out = Path(sys.argv[1])
"""


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)


def test_modules_a_painter_imports_never_import_torch():
    code = ("import sys, shallowlab.figures.painter, shallowlab.figures.plots, "
            "shallowlab.figures.lessons, shallowlab.files; print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_the_painter_draws_the_same_png_as_the_process_itself(tmp_path):
    result = _script(tmp_path, """
        painter.start()
        import torch  # as a run does, after the painter has started
        X = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
        y = X @ torch.tensor([2.0, -3.4]) + 4.2
        painter.draw(out / "scatter-painter.png", lessons.scatter, X, y, "data")
        painter.draw(out / "curves-painter.png", torch_free_curves, HISTORY)
        painter.wait()
        pid = painter._pid
        painter._stop()  # from here on, drawn in this process
        painter.draw(out / "scatter-here.png", lessons.scatter, X, y, "data")
        print(pid, os.getpid())
    """)
    assert result.returncode == 0, result.stderr
    child, parent = map(int, result.stdout.split())
    assert child != parent
    painted = (tmp_path / "scatter-painter.png").read_bytes()
    assert is_png(tmp_path / "scatter-painter.png")
    assert painted == (tmp_path / "scatter-here.png").read_bytes()
    assert (tmp_path / "curves-painter.png").stat().st_size > 1000


def test_a_failed_figure_raises_its_error_after_the_others_are_drawn(tmp_path):
    result = _script(tmp_path, """
        painter.start()
        painter.draw(out / "bad.png", broken)
        painter.draw(out / "good.png", plots.curves, HISTORY)
        try:
            painter.wait()
        except ValueError as e:
            print("raised:", e)
    """)
    assert result.returncode == 0, result.stderr
    assert "raised: no figure today" in result.stdout
    assert (tmp_path / "good.png").stat().st_size > 1000
    assert not (tmp_path / "bad.png").exists()
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written file left


def test_what_a_dead_painter_did_not_draw_is_drawn_here(tmp_path):
    result = _script(tmp_path, """
        import signal, time
        painter.start()
        os.kill(painter._pid, signal.SIGSTOP)  # it can take jobs, not draw them
        painter.draw(out / "curves-0.png", plots.curves, HISTORY)
        os.kill(painter._pid, signal.SIGKILL)
        time.sleep(0.2)
        for k in (1, 2):  # the first goes down a broken pipe
            painter.draw(out / f"curves-{k}.png", plots.curves, HISTORY)
        painter.wait()
        print("alive" if painter._pid else "gone")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "gone"
    assert all((tmp_path / f"curves-{k}.png").stat().st_size > 1000 for k in range(3))


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_the_painter_ends_with_its_run_even_a_killed_one(tmp_path):
    run = subprocess.Popen(shallowlab_command("run", "linreg", "--epochs", "1000", "--out",
                                       tmp_path / "run"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (_children(run.pid) and (tmp_path / "run" / "history.json").exists()):
            assert time.monotonic() < deadline, "the run never started training"
            time.sleep(0.1)
        (painter,) = _children(run.pid)
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{painter}").exists() and _state(painter) != "Z":
            assert time.monotonic() < deadline, "the painter outlived its run"
            time.sleep(0.05)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"


def test_a_run_leaves_matplotlib_to_the_painter(tmp_path):
    """`shallowlab run` forks the painter before it imports torch; the run's own process then
    imports torch and never matplotlib, and its figures are on disk when it says completed."""
    code = ("import sys; from shallowlab.cli import main; "
            f"code = main(['run', 'linreg', '--quiet', '--out', {str(tmp_path / 'run')!r}]); "
            "print(code, 'torch' in sys.modules, "
            "any(m.split('.')[0] == 'matplotlib' for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["0", "True", "False"]
    assert is_png(tmp_path / "run" / "curves.png") and is_png(tmp_path / "run" / "data.png")
