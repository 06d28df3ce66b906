"""What a worker process does with a page's session, called in this process: a play call
trains whole epochs when its time allows and a slice of one when not, always along the same
trajectory as the session trained alone; sessions of different pages stay apart."""

from __future__ import annotations

import pytest

from shallowlab.playground import PlaygroundError, Session, Settings, workers
from shallowlab.playground.frames import decode
from shallowlab.playground.settings import Layer

SETTINGS = Settings(data="spiral", classes=3, layers=(Layer(8, "tanh"),) * 2, seed=4)


@pytest.fixture
def page():
    sid = 10_000 + len(workers._sessions)
    ready = workers.open_session(sid, SETTINGS, upload=False)
    assert ready["type"] == "ready" and Settings.from_json(ready["settings"]) == SETTINGS
    yield sid
    workers.close_session(sid)
    assert sid not in workers._sessions


def _header(frame: bytes) -> dict:
    return decode(frame)[0]


def test_a_play_call_with_time_trains_exactly_speed_epochs(page):
    per_epoch = Session(SETTINGS).steps_per_epoch
    for speed, number in ((1, 1), (3, 2)):
        stopped, frame = workers.play(page, speed, number, budget=60.0)
        assert stopped is None
        header = _header(frame)
        assert header["frame"] == number and header["playing"] is True
    assert header["step"] == 4 * per_epoch and header["epoch"] == 4


def test_a_play_call_without_time_trains_a_slice_on_the_same_trajectory(page):
    alone = Session(SETTINGS)
    steps = []
    for number in range(1, 6):
        _, frame = workers.play(page, 1, number, budget=1e-9)
        header = _header(frame)
        steps.append(header["step"])
        alone.step(header["step"] - alone.step_count)
        assert header["train_loss"] == alone.metrics()["train_loss"]
        assert header["test_loss"] == alone.metrics()["test_loss"]
    assert steps == [1, 2, 3, 4, 5]  # one minibatch each: the least a call trains


def test_controls_and_pages_apart(page):
    other = page + 1
    workers.open_session(other, SETTINGS, upload=False)
    try:
        workers.play(other, 2, 1, budget=60.0)
        went, frame = workers.control(page, "back", 1)
        assert went is False and _header(frame)["step"] == 0  # the other page's steps are not here
        _, frame = workers.control(page, "step", 2)
        assert _header(frame)["step"] == 1 and _header(frame)["playing"] is False
        assert workers.control(page, "back", 3)[0] is True
        assert "import torch" in workers.export(page, "pytorch")
    finally:
        workers.close_session(other)
    with pytest.raises(PlaygroundError, match="configure"):
        workers.control(other, "step", 1)
    with pytest.raises(PlaygroundError, match="upload"):
        workers.open_session(other, SETTINGS, upload=True)
