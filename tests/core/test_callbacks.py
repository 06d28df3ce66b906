"""Callbacks: one hook signature, each hook called only where overridden, and the three that
ship: Progress's lines, LrSchedule's rates as a function of the position, EachEpoch."""

import pytest
import torch

from shallowlab.core.callbacks import (
    Callback,
    CallbackList,
    EachEpoch,
    LrSchedule,
    Progress,
    format_record,
)
from shallowlab.core.state import State

RECORD = {"epoch": 3, "train_loss": 0.51234, "train_acc": 0.8123, "test_loss": 0.6,
          "test_acc": 0.79, "seconds": 1.234}


def test_every_hook_takes_the_state_alone():
    import inspect

    for hook in CallbackList.HOOKS:
        assert list(inspect.signature(getattr(Callback, hook)).parameters) == ["self", "state"]


def test_a_callback_list_calls_only_the_hooks_a_callback_overrides_in_order():
    calls = []

    class A(Callback):
        def on_batch_end(self, state):
            calls.append(("A", state.batch))

    class B(Callback):
        def on_batch_end(self, state):
            calls.append(("B", state.batch))

        def on_interrupt(self, state):
            calls.append("interrupt")

    both = CallbackList([A(), B()])
    both.on_batch_end(State(1, batch=7))
    both.on_epoch_end(State(1))  # nobody overrides it: nothing is called
    assert calls == [("A", 7), ("B", 7)]
    assert both.interruptible and not CallbackList([A()]).interruptible


def test_an_epoch_s_line_says_both_splits_and_the_time():
    assert format_record(RECORD, 10) == ("epoch 3/10  train loss 0.5123 acc 0.812  test loss "
                                         "0.6 acc 0.790  1.2s")
    regression = {**RECORD, "train_acc": None, "test_loss": None, "test_acc": None}
    assert format_record(regression, 10) == "epoch 3/10  train loss 0.5123  1.2s"


def test_progress_without_a_bar_logs_one_line_per_epoch():
    lines = []
    progress = Progress(bar=False, log=lines.append)
    state = State(10, history=[RECORD])
    for hook in ("on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end",
                 "on_fit_end"):
        getattr(progress, hook)(state)
    assert lines == [format_record(RECORD, 10)]


def test_lr_schedule_sets_every_group_from_the_position_alone():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 5.0}], lr=1.0)
    schedule = LrSchedule(optimizer, lambda t: 1 - t)
    state = State(4, epoch=2, batch=6, batches=10)
    schedule.on_epoch_begin(state)
    schedule.on_batch_begin(state)
    assert [g["lr"] for g in optimizer.param_groups] == [pytest.approx(1 - 1.5 / 4)] * 2


def test_lr_schedule_needs_batches_with_a_length():
    schedule = LrSchedule(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0),
                          lambda t: t)
    with pytest.raises(ValueError, match="len"):
        schedule.on_epoch_begin(State(2, epoch=1, batches=None))


def test_each_epoch_hands_over_the_history():
    seen = []
    EachEpoch(seen.append).on_epoch_end(State(2, history=[RECORD]))
    assert seen == [[RECORD]]
