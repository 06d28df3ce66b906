"""Export: the script, run on its own in a real Python process, prints the losses the library
gives after the same number of steps (to 1e-6; in practice bit for bit), for both tracks, with
Adam, L2 and dropout, and for uploaded points; the pytorch flavour imports only torch."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from shallowlab.playground.export import script
from shallowlab.playground.points import from_csv
from shallowlab.playground.session import Session
from shallowlab.playground.settings import Layer, PlaygroundError, Settings

CSV = "x1,x2,label\n" + "\n".join(f"{i * 0.37 - 3:.3f},{(i * 7) % 11 - 5},{i % 3}"
                                   for i in range(60))
CASES = {
    "concise_sgd": (Settings(data="xor", layers=(Layer(4, "tanh"), Layer(4, "tanh"))), None),
    "adam_l2_dropout": (Settings(data="spiral", classes=3, optimizer="adam", lr=0.01, reg="l2",
                                 reg_rate=0.003, init="he", features=("x1", "x2", "sinx1"),
                                 layers=(Layer(8, "relu", 0.3), Layer(6, "sigmoid", 0.1))),
                        None),
    "scratch_l1_mse": (Settings(data="circle", track="scratch", loss="mse", reg="l1",
                                reg_rate=0.001, init="normal", lr=0.3,
                                layers=(Layer(5, "relu", 0.25), Layer(3, "linear"))), None),
    "upload_momentum": (Settings(data="upload", optimizer="momentum", batch=7,
                                 layers=(Layer(5, "relu"),)), from_csv(CSV)),
    "regression": (Settings(data="gaussians", loss="mse", noise=0.2,
                            features=("x1", "x2", "x1sq", "x2sq"), layers=(Layer(6, "tanh"),)),
                   None),
}
LINE = re.compile(r"step (\d+) train_loss (\S+) test_loss (\S+)")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Every case's script, both flavours, run at once in its own process: their lines."""
    folder = tmp_path_factory.mktemp("scripts")
    runs = {}
    for name, (settings, points) in CASES.items():
        for flavour in ("pytorch", "shallowlab") if name == "upload_momentum" else ("pytorch",):
            path = folder / f"{name}_{flavour}.py"
            path.write_text(script(settings, flavour, points))
            runs[name, flavour] = subprocess.Popen([sys.executable, str(path)], text=True,
                                                   stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE)
    out = {}
    for key, run in runs.items():
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
        out[key] = stdout
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_script_prints_the_library_losses_after_100_steps(printed, name):
    settings, points = CASES[name]
    session = Session(settings, points)
    session.step(100)
    step, train_loss, test_loss = session.losses[-1]
    for (case, _flavour), stdout in printed.items():
        if case != name:
            continue
        (match,) = LINE.findall(stdout)
        assert int(match[0]) == step == 100
        assert float(match[1]) == pytest.approx(train_loss, abs=1e-6, rel=1e-6)
        assert float(match[2]) == pytest.approx(test_loss, abs=1e-6, rel=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_pytorch_flavour_imports_only_torch(name):
    settings, points = CASES[name]
    tree = ast.parse(script(settings, points=points))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "argparse", "math", "torch"}


def test_unknown_flavour():
    with pytest.raises(ValueError, match="flavour"):
        script(Settings(), "jax")


def test_an_upload_without_its_points_cannot_be_exported():
    with pytest.raises(PlaygroundError, match="upload"):
        script(Settings(data="upload"))
    assert "stop rule" in script(Settings(stop_acc=0.9))
    assert "stop rule" not in script(Settings())
