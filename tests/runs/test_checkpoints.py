"""Checkpoints: what is saved comes back (weights, optimizer, random states, where an epoch
stopped), and a file of another format or another architecture is refused in one line."""

import pytest
import torch
from torch import nn

from shallowlab.core.callbacks import CallbackList
from shallowlab.core.state import ResumePoint, State
from shallowlab.errors import ConfigError, DataError
from shallowlab.runs.checkpoints import CHECKPOINT, CheckpointEachEpoch, Checkpointer
from shallowlab.runs.folder import RunDir

HISTORY = [{"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "test_loss": 0.6, "test_acc": 0.7,
            "seconds": 1.0}]
POINT = ResumePoint(2, 7, 0.25, {"loss": 1.5, "hits": 3, "n": 28}, {"first": 2.3})


def _trained(seed: int):
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(seed)
    model(torch.randn(8, 4)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_a_checkpoint_restores_weights_optimizer_generators_and_the_resume_point(tmp_path):
    run = RunDir(tmp_path)
    model, optimizer = _trained(0)
    order = torch.Generator().manual_seed(5)
    Checkpointer(run, model, optimizer, {"order": order}).save(HISTORY, POINT)
    expected = torch.randperm(10, generator=order)  # drawn after the save

    other, other_optimizer = _trained(1)
    again = torch.Generator().manual_seed(99)
    history, point = Checkpointer(run, other, other_optimizer, {"order": again}).restore()
    assert (history, point) == (HISTORY, POINT)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters()))
    buffers = [s["momentum_buffer"] for s in other_optimizer.state.values()]
    assert all(torch.equal(a, b) for a, b in zip(
        [s["momentum_buffer"] for s in optimizer.state.values()], buffers))
    assert torch.equal(torch.randperm(10, generator=again), expected)


def test_no_checkpoint_restores_nothing(tmp_path):
    model, optimizer = _trained(0)
    assert Checkpointer(RunDir(tmp_path), model, optimizer, {}).restore() == ([], None)


def test_another_architecture_and_another_format_are_refused_naming_the_file(tmp_path):
    run = RunDir(tmp_path)
    model, optimizer = _trained(0)
    Checkpointer(run, model, optimizer, {}).save(HISTORY)
    wider = nn.Linear(4, 5)
    with pytest.raises(ConfigError, match=r"checkpoint.pt was written for another "
                                          r"architecture: bias is \(3,\) there and \(5,\)"):
        Checkpointer(run, wider, None, {}).restore()
    state = torch.load(run / CHECKPOINT, weights_only=True)
    torch.save({**state, "format": 1}, run / CHECKPOINT)
    with pytest.raises(DataError, match="checkpoint format 1, this shallowlab reads format 2"):
        Checkpointer(run, model, optimizer, {}).restore()
    (run / CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot be loaded safely"):
        Checkpointer(run, model, optimizer, {}).restore()


def test_the_callback_saves_after_each_epoch_and_where_an_interrupt_stopped(tmp_path):
    run, lines = RunDir(tmp_path), []
    model, optimizer = _trained(0)
    order = torch.Generator().manual_seed(3)
    at_pass_start = order.get_state()
    checkpointer = Checkpointer(run, model, optimizer, {"order": order})
    calls = CallbackList([CheckpointEachEpoch(run, checkpointer, lambda: {"order": at_pass_start},
                                              lines.append)])
    calls.on_epoch_end(State(3, history=HISTORY))
    assert (run / "history.json").exists() and checkpointer.restore() == (HISTORY, None)
    torch.randperm(10, generator=order)  # the pass goes on, then a signal stops it
    calls.on_interrupt(State(3, history=HISTORY, stopped=POINT))
    assert checkpointer.restore() == (HISTORY, POINT)
    assert torch.equal(order.get_state(), at_pass_start)  # the pass is drawn again on resume
    assert lines == [f"interrupted: checkpoint at epoch 2, batch 7; continue with --resume "
                     f"{run.path}"]
