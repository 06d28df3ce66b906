"""The training loop: its records, its sums, its divergence guard, its callbacks."""

import math

import pytest
import torch
from torch import nn

import shallowlab.core.loop
from shallowlab.core.callbacks import Callback, EachEpoch, LrSchedule, format_record
from shallowlab.core.devices import resolve_device
from shallowlab.core.loop import HISTORY_KEYS, DivergenceGuard, Sums, evaluate, fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data.batches import Batches
from shallowlab.errors import DivergedError
from shallowlab.models import nets
from tests.conftest import toy_images

CE = nn.CrossEntropyLoss(reduction="none")


def _toy(n, seed, batch_size=64, generator=None, shuffle=True):
    images, labels = toy_images(n, seed)
    X = torch.from_numpy(images).float() / 255
    return Batches(X, torch.from_numpy(labels).long(), batch_size, shuffle=shuffle,
                   generator=generator)


def _softmax(seed=0):
    return nets.init_(nets.softmax_regression(), generator=torch.Generator().manual_seed(seed))


def _step(model, lr=0.1):
    return AutogradStep(model, CE, torch.optim.SGD(model.parameters(), lr=lr))


def test_fit_learns_and_records_every_epoch():
    model = _softmax()
    train = _toy(600, 1, generator=torch.Generator().manual_seed(0))
    test = _toy(200, 2, shuffle=False)
    lines = []
    history = fit(_step(model), train, epochs=4, test=test, progress=False, log=lines.append)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert all(tuple(r) == HISTORY_KEYS for r in history)
    assert history[-1]["test_acc"] >= 0.95
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 2
    assert lines == [format_record(r, 4) for r in history]
    # the recorded test metrics are what evaluate() says of the final model
    loss, acc = evaluate(model, CE, test)
    assert (loss, acc) == pytest.approx((history[-1]["test_loss"], history[-1]["test_acc"]))


def test_fit_continues_after_the_given_history():
    model = _softmax()
    seen = []
    history = fit(_step(model), _toy(200, 1), epochs=3,
                  history=[{"epoch": 1, "train_loss": 9.0, "train_acc": 0.1, "test_loss": None,
                            "test_acc": None, "seconds": 0.0}],
                  progress=False, log=lambda s: None,
                  callbacks=[EachEpoch(lambda h: seen.append([r["epoch"] for r in h]))])
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert seen == [[1, 2], [1, 2, 3]]
    assert history[1]["test_acc"] is None


def test_the_train_metrics_are_means_over_the_examples_as_trained():
    """Sums of per-example losses and hits over uneven batches (64 x 9 + 24), divided once."""
    model = _softmax()
    losses, hits = [], []

    class Spy(Callback):
        def on_batch_end(self, state):
            losses.append(state.sums.loss)
            hits.append(state.sums.hits)

    (record,) = fit(_step(model), _toy(600, 1), epochs=1, progress=False, log=lambda s: None,
                    callbacks=[Spy()])
    assert record["train_loss"] == pytest.approx(losses[-1] / 600)
    assert record["train_acc"] == hits[-1] / 600
    assert len(losses) == 10 and all(b > a for a, b in zip(losses, losses[1:]))


def test_callbacks_see_every_hook_in_order():
    calls = []

    class Recorder(Callback):
        def on_epoch_begin(self, state):
            calls.append(("epoch_begin", state.epoch, state.batches))

        def on_batch_begin(self, state):
            calls.append(("batch_begin", state.epoch, state.batch))

        def on_batch_end(self, state):
            calls.append(("batch_end", state.epoch, state.batch))

        def on_epoch_end(self, state):
            calls.append(("epoch_end", len(state.history)))

        def on_fit_end(self, state):
            calls.append(("fit_end", len(state.history)))

    fit(_step(_softmax()), _toy(100, 1, batch_size=50), epochs=2, progress=False,
        log=lambda s: None, callbacks=[Recorder()])
    epoch = [("batch_begin", 1, 1), ("batch_end", 1, 1), ("batch_begin", 1, 2),
             ("batch_end", 1, 2)]
    assert calls[:6] == [("epoch_begin", 1, 2), *epoch, ("epoch_end", 1)]
    assert calls[6] == ("epoch_begin", 2, 2) and calls[-2:] == [("epoch_end", 2), ("fit_end", 2)]


def test_a_batch_size_plan_and_an_lr_schedule_are_followed_every_epoch_and_batch():
    X, y = torch.randn(100, 4), torch.arange(100) % 3
    model = nn.Sequential(nn.Linear(4, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=123.0)
    train = Batches(X, y, lambda epoch: 10 * 2 ** (epoch - 1),
                    generator=torch.Generator().manual_seed(0))
    seen = []

    class Spy(Callback):
        def on_batch_end(self, state):
            seen.append((state.epoch, state.batch, optimizer.param_groups[0]["lr"]))

    schedule = LrSchedule(optimizer, lambda t: 1 - t)
    fit(AutogradStep(model, CE, optimizer), train, epochs=3, progress=False,
        log=lambda s: None, callbacks=[schedule, Spy()])
    steps = {e: [s for e2, s, _ in seen if e2 == e] for e in (1, 2, 3)}
    assert [len(steps[e]) for e in (1, 2, 3)] == [10, 5, 3]  # batches of 10, 20, 40 (+20)
    for epoch, step, lr in seen:
        n = {1: 10, 2: 5, 3: 3}[epoch]
        assert lr == pytest.approx(1 - (epoch - 1 + (step - 1) / n) / 3)


def test_sums_save_and_restore_themselves():
    sums = Sums(on_host=True, counts_hits=True)
    sums.add(3.0, torch.tensor(2), 4)
    sums.add(1.0, torch.tensor(1), 4)
    again = Sums(on_host=True, counts_hits=True)
    again.load_state_dict(sums.state_dict())
    assert again.means() == sums.means() == (0.5, 3 / 8)
    with pytest.raises(ValueError, match="empty training set"):
        Sums(on_host=True, counts_hits=True).means()


@pytest.mark.parametrize("on_host", [True, False], ids=["cpu", "accelerator"])
def test_the_guard_stops_a_blow_up_and_judges_by_the_history(on_host):
    """Over 10^4 x the early loss stops the run; the yardstick after epoch 1 is its mean."""
    value = (lambda v: v) if on_host else torch.tensor
    guard = DivergenceGuard(on_host)
    guard.start(1, [])
    guard.check(1, value(2.0))  # the first batch: the yardstick
    guard.check(2, value(19_999.0))
    with pytest.raises(DivergedError) as caught:
        guard.check(3, value(20_001.0))
        guard.flush()
    assert caught.value.epoch == 1 and caught.value.batch == 3
    resumed = DivergenceGuard(on_host)
    resumed.load_state_dict(guard.state_dict())
    resumed.start(2, [{"train_loss": 0.5}])  # epoch 1's mean, not the first batch, from now on
    resumed.check(1, value(4_999.0))
    with pytest.raises(DivergedError, match="not finite|nan|inf"):
        resumed.check(2, value(math.nan))
        resumed.flush()


def test_evaluate_weights_batches_by_their_size():
    """Uneven batches (64, 64, 64, 8): the mean is over examples, not over batches."""
    model = _softmax()
    whole = evaluate(model, CE, _toy(200, 3, batch_size=200, shuffle=False))
    split = evaluate(model, CE, _toy(200, 3, batch_size=64, shuffle=False))
    assert split == pytest.approx(whole, rel=1e-5)
    assert model.training  # evaluate() restores the mode it found


def test_fit_reads_the_host_once_per_epoch_not_per_batch(monkeypatch):
    """On an accelerator (the path taken wherever a host read is not free, here forced on the
    CPU): no .item() per batch, so host reads stay constant as the number of batches grows."""
    monkeypatch.setattr(shallowlab.core.loop, "reads_are_free", lambda device: False)
    calls = []
    real_item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda t: calls.append(1) or real_item(t))
    for batch_size in (100, 10):  # 6 and 60 batches per epoch
        calls.clear()
        fit(_step(_softmax()), _toy(600, 1, batch_size=batch_size), epochs=2,
            test=_toy(100, 2, shuffle=False), progress=False, log=lambda s: None)
        # per epoch: train loss, train acc, test loss, test acc; once: the first batch's loss
        assert len(calls) <= 2 * 4 + 1


def test_a_loss_that_is_not_per_example_is_refused_in_words():
    model = _softmax()
    step = AutogradStep(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1))
    with pytest.raises(ValueError, match="one loss per example.*reduction='none'"):
        fit(step, _toy(100, 1), epochs=1, progress=False, log=lambda s: None)


def test_dropout_is_active_in_training_and_off_in_evaluation():
    model = nets.mlp(784, (64,), 10, dropout=0.5)
    X = torch.rand(8, 784)
    model.eval()
    torch.testing.assert_close(model(X), model(X))
    model.train()
    assert not torch.equal(model(X), model(X))


def test_resolve_device_auto_prefers_cuda_then_mps_then_cpu():
    mps = torch.backends.mps.is_available()
    want = "cuda" if torch.cuda.is_available() else "mps" if mps else "cpu"
    assert resolve_device("auto").type == want
    assert resolve_device("cpu") == torch.device("cpu")
