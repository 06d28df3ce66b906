"""What the loop shares with callbacks and checkpoints: State, ResumePoint, Interrupted."""

import signal
import subprocess
import sys

import pytest

from shallowlab.core.state import Interrupted, ResumePoint, State


def test_a_resume_point_round_trips_through_a_checkpoint_s_plain_form():
    point = ResumePoint(epoch=2, batches_done=17, seconds=1.5, sums={"loss": 3.0, "hits": 4,
                        "n": 68}, guard={"first": 2.3})
    saved = point.as_dict()
    assert saved == {"epoch": 2, "step": 17, "seconds": 1.5, "sums": point.sums,
                     "guard": point.guard}  # format 2's names, as files already written hold
    assert ResumePoint.from_dict(saved) == point


@pytest.mark.parametrize("epoch, batch, batches, epochs, expected", [
    (1, 1, 10, 4, 0.0), (1, 6, 10, 4, 0.125), (3, 1, 10, 4, 0.5), (4, 10, 10, 4, 0.975),
    (2, 1, None, 4, 0.25)])
def test_progress_is_how_far_through_the_run_a_batch_starts(epoch, batch, batches, epochs,
                                                            expected):
    state = State(epochs, epoch=epoch, batch=batch, batches=batches)
    assert state.progress == pytest.approx(expected)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_names_its_signal_and_is_a_keyboard_interrupt(signum):
    error = Interrupted(signum)
    assert isinstance(error, KeyboardInterrupt)
    assert error.signal == signal.Signals(signum).name
    assert str(error) == f"interrupted by {signal.Signals(signum).name}"


# A run whose only callback can be interrupted, sent SIGTERM at its third batch.
STOPPED = """
import os, signal, torch
from torch import nn
from shallowlab.core.callbacks import Callback
from shallowlab.core.loop import fit
from shallowlab.core.steps import AutogradStep
from shallowlab.core.state import Interrupted
model = nn.Linear(3, 2)
step = AutogradStep(model, nn.CrossEntropyLoss(reduction="none"),
                    torch.optim.SGD(model.parameters(), lr=0.1))
data = [(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))] * 6
class Stop(Callback):
    def on_batch_begin(self, state):
        if state.batch == 3:
            os.kill(os.getpid(), signal.SIGTERM)
    def on_interrupt(self, state):
        print("stopped after", state.stopped.batches_done, "batches")
try:
    fit(step, data, epochs=1, progress=False, callbacks=[Stop()])
except Interrupted as e:
    print(e.signal, isinstance(e, KeyboardInterrupt))
"""


def test_a_signal_stops_fit_after_the_batch_under_way_and_says_which_signal():
    result = subprocess.run([sys.executable, "-c", STOPPED], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["stopped after 3 batches", "SIGTERM True"]
