"""--tensorboard: event files whose numbers are the run's own, read back by TensorBoard."""

import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from shallowlab.core.loop import fit
from shallowlab.core.steps import make_step
from shallowlab.models import nets
from shallowlab.runs.tensorboard import TensorBoardLogger
from tests.core.test_loop import _toy

pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

CE = nn.CrossEntropyLoss(reduction="none")


def _events(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def _scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def _train(tmp_path, logger: bool):
    torch.manual_seed(0)  # dropout draws from the global generator
    model = nets.init_(nets.mlp(784, (32,), 10, dropout=0.3), "normal", 0.1,
                       torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train = _toy(300, 1, batch_size=50, generator=torch.Generator().manual_seed(1))
    callbacks = [TensorBoardLogger(tmp_path / "tb", model, CE, (train.X[:64], train.y[:64]), opt,
                                   {"lr": 0.1, "hidden": (32,)})] if logger else []
    history = fit(make_step(model, CE, opt), train, epochs=2, test=_toy(100, 2, shuffle=False),
                  progress=False, log=lambda s: None, callbacks=callbacks)
    return history, model


def test_the_events_hold_the_history_the_steps_and_every_layer(tmp_path):
    history, model = _train(tmp_path, logger=True)
    acc = _events(tmp_path / "tb")
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert [s for s, _ in _scalars(acc, f"epoch/{key}")] == [1, 2]
        got = [v for _, v in _scalars(acc, f"epoch/{key}")]
        assert got == pytest.approx([r[key] for r in history], rel=1e-6)
    losses = _scalars(acc, "train/batch_loss")
    assert [s for s, _ in losses] == [50 * k for k in range(1, 13)]  # x: examples seen
    # the per-step losses, weighted by batch, average to each epoch's train loss
    for epoch, record in enumerate(history):
        mean = sum(v for _, v in losses[6 * epoch: 6 * epoch + 6]) / 6
        assert mean == pytest.approx(record["train_loss"], rel=1e-5)
    assert [v for _, v in _scalars(acc, "train/lr")] == pytest.approx([0.1] * 12)
    for name, p in model.named_parameters():
        assert _scalars(acc, f"weights/{name}/norm")[-1][1] == pytest.approx(p.norm().item(),
                                                                              rel=1e-5)
        assert len(_scalars(acc, f"grads/{name}/norm")) == 2
        assert len(acc.Histograms(f"weights/{name}")) == 2
    assert _scalars(acc, "final/test_acc")[0][1] == pytest.approx(history[-1]["test_acc"])


def test_the_logger_leaves_the_training_exactly_as_it_was(tmp_path):
    """The probe gradients use eval mode and put .grad back: no random draw, no change."""
    with_logger, a = _train(tmp_path, logger=True)
    without, b = _train(tmp_path, logger=False)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in with_logger]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in without]
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def cli(*args, code=None):
    prefix = [sys.executable, "-c", code] if code else [sys.executable, "-m", "shallowlab"]
    return subprocess.run([*prefix, *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_run_tensorboard_writes_events_equal_to_history_json(tmp_path, toy_data):
    out = tmp_path / "run"
    result = cli("run", "mlp", "--tensorboard", "--hidden", "16", "--epochs", "2",
                 "--data-dir", toy_data, "--out", out)
    assert result.returncode == 0, result.stderr
    history = json.loads((out / "history.json").read_text())
    acc = _events(out / "tensorboard")
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        got = [v for _, v in _scalars(acc, f"epoch/{key}")]
        assert got == pytest.approx([r[key] for r in history], rel=1e-6), key
    assert json.loads((out / "config.json").read_text())["tensorboard"] is True


BLOCKED = ("import sys; sys.modules['tensorboard'] = None; sys.argv[0] = 'shallowlab'; "
           "from shallowlab.cli import main; sys.exit(main(sys.argv[1:]))")


def test_without_tensorboard_the_flag_says_how_to_get_it(tmp_path, toy_data):
    result = cli("run", "mlp", "--tensorboard", "--data-dir", toy_data, "--out",
                 tmp_path / "run", code=BLOCKED)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--tensorboard" in line and "pip install 'shallowlab[tensorboard]'" in line
    assert not (tmp_path / "run").exists()
