import pytest
import torch
from torch import nn

import shallowlab.train
from shallowlab import nets
from shallowlab.data.batches import Batches
from shallowlab.train import HISTORY_KEYS, evaluate, fit, format_record, resolve_device
from tests.conftest import toy_images

CE = nn.CrossEntropyLoss(reduction="none")


def _toy(n, seed, batch_size=64, generator=None, shuffle=True):
    images, labels = toy_images(n, seed)
    X = torch.from_numpy(images).float() / 255
    return Batches(X, torch.from_numpy(labels).long(), batch_size, shuffle=shuffle,
                   generator=generator)


def _softmax(seed=0):
    return nets.init_(nets.softmax_regression(), generator=torch.Generator().manual_seed(seed))


def test_fit_learns_and_records_every_epoch():
    model = _softmax()
    train = _toy(600, 1, generator=torch.Generator().manual_seed(0))
    test = _toy(200, 2, shuffle=False)
    lines = []
    history = fit(model, CE, torch.optim.SGD(model.parameters(), lr=0.1),
                  train, epochs=4, test=test, progress=False, log=lines.append)
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
    train = _toy(200, 1)
    seen = []
    history = fit(model, CE, torch.optim.SGD(model.parameters(), lr=0.1),
                  train, epochs=3, history=[{"epoch": 1, "train_loss": 9.0, "train_acc": 0.1,
                                              "test_loss": None, "test_acc": None,
                                              "seconds": 0.0}],
                  progress=False, log=lambda s: None,
                  on_epoch_end=lambda h: seen.append([r["epoch"] for r in h]))
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert seen == [[1, 2], [1, 2, 3]]
    assert history[1]["test_acc"] is None


def test_evaluate_weights_batches_by_their_size():
    """Uneven batches (64, 64, 64, 8): the mean is over examples, not over batches."""
    model = _softmax()
    loss_fn = CE
    whole = evaluate(model, loss_fn, _toy(200, 3, batch_size=200, shuffle=False))
    split = evaluate(model, loss_fn, _toy(200, 3, batch_size=64, shuffle=False))
    assert split == pytest.approx(whole, rel=1e-5)
    assert model.training  # evaluate() restores the mode it found


def test_fit_reads_the_host_once_per_epoch_not_per_batch(monkeypatch):
    """On an accelerator (the path taken wherever a host read is not free, here forced on the
    CPU): no .item() per batch, so host reads stay constant as the number of batches grows."""
    monkeypatch.setattr(shallowlab.train, "reads_are_free", lambda device: False)
    calls = []
    real_item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda t: calls.append(1) or real_item(t))
    for batch_size in (100, 10):  # 6 and 60 batches per epoch
        calls.clear()
        model = _softmax()
        fit(model, CE, torch.optim.SGD(model.parameters(), lr=0.1),
            _toy(600, 1, batch_size=batch_size), epochs=2, test=_toy(100, 2, shuffle=False),
            progress=False, log=lambda s: None)
        # per epoch: train loss, train acc, test loss, test acc; once: the first batch's loss
        assert len(calls) <= 2 * 4 + 1


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
