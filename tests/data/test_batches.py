"""Batches: every example once per pass, in a fresh order each pass, reproducible from a seed;
uint8 images converted batch by batch to the very floats a whole-set conversion gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from shallowlab.core.loop import fit
from shallowlab.core.steps import make_step
from shallowlab.data.batches import Batches, to_unit
from shallowlab.data.fashion_mnist import FashionMNIST
from shallowlab.models import nets
from shallowlab.runs.classifier import image_sets
from tests.conftest import toy_images


def numbered(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Example i has features (i, -i) and label 1000 + i, so a batch shows which rows it holds."""
    i = torch.arange(n)
    return torch.stack([i, -i], dim=1).float(), 1000 + i


def passes(batches: Batches, k: int) -> list[list[int]]:
    """The order of example indices in each of ``k`` passes, checking each batch on the way."""
    orders = []
    for _ in range(k):
        order = []
        for X, y in batches:
            assert X.shape[1:] == (2,) and len(X) == len(y)
            idx = (y - 1000).tolist()
            assert X[:, 0].long().tolist() == idx and X[:, 1].long().tolist() == [-i for i in idx]
            order += idx
        orders.append(order)
    return orders


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("n, size", [(10, 4), (12, 4), (7, 1), (5, 5), (3, 8)])
def test_every_example_appears_exactly_once_per_pass(n, size, shuffle):
    batches = Batches(*numbered(n), size, shuffle=shuffle,
                      generator=torch.Generator().manual_seed(0))
    for order in passes(batches, 3):
        assert sorted(order) == list(range(n))


@pytest.mark.parametrize("n, size, sizes, dropped", [
    (10, 4, [4, 4, 2], [4, 4]),
    (12, 4, [4, 4, 4], [4, 4, 4]),
    (7, 3, [3, 3, 1], [3, 3]),
    (3, 8, [3], []),
    (0, 4, [], []),
])
def test_the_last_batch_is_short_unless_drop_last(n, size, sizes, dropped):
    for drop_last, expected in ((False, sizes), (True, dropped)):
        batches = Batches(*numbered(n), size, drop_last=drop_last,
                          generator=torch.Generator().manual_seed(1))
        assert len(batches) == len(expected)
        assert [len(y) for _, y in batches] == expected
    # what drop_last leaves out is different examples each pass, not always the same ones
    kept = Batches(*numbered(n), size, drop_last=True, generator=torch.Generator().manual_seed(2))
    orders = passes(kept, 4)
    assert all(len(set(order)) == len(order) == sum(dropped) for order in orders)
    if 0 < sum(dropped) < n:
        assert len({frozenset(order) for order in orders}) > 1


def test_each_pass_is_a_new_shuffle():
    batches = Batches(*numbered(100), 10, generator=torch.Generator().manual_seed(0))
    orders = passes(batches, 4)
    assert len({tuple(order) for order in orders}) == 4
    assert all(order != list(range(100)) for order in orders)


def test_the_same_seed_gives_the_same_orders_and_another_seed_others():
    def orders(seed):
        return passes(Batches(*numbered(100), 16, generator=torch.Generator().manual_seed(seed)),
                      3)

    assert orders(7) == orders(7)
    assert orders(7) != orders(8)
    # the orders are torch.randperm's, drawn one per pass from the generator
    gen = torch.Generator().manual_seed(7)
    assert orders(7) == [torch.randperm(100, generator=gen).tolist() for _ in range(3)]


def test_shuffle_false_keeps_the_order_every_pass():
    X, y = numbered(10)
    batches = Batches(X, y, 4, shuffle=False)
    assert passes(batches, 2) == [list(range(10))] * 2
    first_X, first_y = next(iter(batches))
    assert torch.equal(first_X, X[:4]) and torch.equal(first_y, y[:4])


def test_a_batch_keeps_the_dtype_and_trailing_shape_of_its_tensors():
    X = torch.arange(6 * 28 * 28, dtype=torch.uint8).reshape(6, 28, 28)
    y = torch.arange(6, dtype=torch.int64)
    (bX, by), *_ = Batches(X, y, 4, generator=torch.Generator().manual_seed(0))
    assert bX.dtype == torch.uint8 and bX.shape == (4, 28, 28)
    assert by.dtype == torch.int64 and torch.equal(bX, X[by])


@pytest.mark.parametrize("nx, ny", [(10, 9), (9, 10), (0, 1)])
def test_x_and_y_of_different_lengths_are_a_value_error(nx, ny):
    with pytest.raises(ValueError, match=f"X has {nx} examples but y has {ny}"):
        Batches(torch.zeros(nx, 3), torch.zeros(ny), 4)


@pytest.mark.parametrize("size", [0, -1])
def test_a_batch_size_below_one_is_a_value_error(size):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        Batches(*numbered(10), size)


def every_pixel_value(n: int, seed: int) -> torch.Tensor:
    """``n`` uint8 28x28 images holding every value 0..255 (the first image all of them)."""
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(seed))
    images[0].view(-1)[:256] = torch.arange(256, dtype=torch.uint8)
    return images


def test_to_unit_is_x_over_255_in_float32():
    x = torch.arange(256, dtype=torch.uint8)
    unit = to_unit(x)
    assert unit.dtype == torch.float32 and unit[0] == 0 and unit[255] == 1
    assert torch.equal(unit, torch.arange(256, dtype=torch.float32) / 255)


@pytest.mark.parametrize("shuffle", [True, False])
def test_uint8_batches_with_to_unit_equal_the_batches_of_the_images_converted_once(shuffle):
    images, y = every_pixel_value(1000, 0), torch.arange(1000)
    held = Batches(images, y, 96, shuffle=shuffle, generator=torch.Generator().manual_seed(3),
                   transform=to_unit)
    once = Batches(to_unit(images), y, 96, shuffle=shuffle,
                   generator=torch.Generator().manual_seed(3))
    for _ in range(2):  # two passes: two orders
        pairs = list(zip(held, once, strict=True))
        assert len(pairs) == 11
        for (X, labels), (X_once, labels_once) in pairs:
            assert X.dtype == torch.float32 and X.shape[1:] == (28, 28)
            assert torch.equal(X, X_once) and torch.equal(labels, labels_once)
    assert held.X.dtype == torch.uint8  # held as given: the conversion is per batch


@pytest.mark.parametrize("build, engine", [
    (nets.softmax_regression, "auto"),  # the fused step
    (lambda: nets.mlp(784, (32,), 10), "auto"),
    (lambda: nets.mlp(784, (32,), 10), "autograd"),
])
def test_training_on_uint8_batches_gives_the_history_and_weights_of_float32(build, engine):
    images, labels = (torch.from_numpy(a) for a in toy_images(1200, 5))
    test_images, test_labels = (torch.from_numpy(a) for a in toy_images(300, 6))
    labels, test_labels = labels.long(), test_labels.long()
    results = []
    for X, transform in ((to_unit(images), None), (images, to_unit)):
        model = nets.init_(build(), "normal", 0.01, generator=torch.Generator().manual_seed(0))
        step = make_step(model, nn.CrossEntropyLoss(reduction="none"),
                         torch.optim.SGD(model.parameters(), lr=0.1), engine)
        train = Batches(X, labels, 64, generator=torch.Generator().manual_seed(1),
                        transform=transform)
        test = Batches(to_unit(test_images), test_labels, 128, shuffle=False)
        history = fit(step, train, epochs=2, test=test, progress=False, log=lambda s: None)
        results.append(([{k: v for k, v in r.items() if k != "seconds"} for r in history],
                        [p.detach().clone() for p in model.parameters()]))
    (history, params), (history_u8, params_u8) = results
    assert history == history_u8  # every loss and accuracy, to the last bit
    assert history[-1]["test_acc"] > 0.5  # and it learned (chance is 0.1)
    assert all(torch.equal(p, q) for p, q in zip(params, params_u8, strict=True))


def test_the_runs_images_are_the_floats_of_one_conversion_standardized_or_not():
    # x <- x / 255 once, then with standardize x <- (x - mean) / std in place by train's stats
    train, test = every_pixel_value(900, 1), every_pixel_value(200, 2)
    data = FashionMNIST(train, torch.zeros(900, dtype=torch.long), test,
                        torch.zeros(200, dtype=torch.long), Path("memory"))
    X_once, X_test_once = train.float() / 255, test.float() / 255
    X_train, X_test = image_sets(data, torch.device("cpu"))
    assert torch.equal(X_train, X_once) and torch.equal(X_test, X_test_once)
    mean, std = X_once.mean(), X_once.std()
    X_train, X_test = image_sets(data, torch.device("cpu"), standardize=True)
    assert torch.equal(X_train, (X_once - mean) / std)
    assert torch.equal(X_test, (X_test_once - mean) / std)
    assert abs(float(X_train.mean())) < 1e-5 and abs(float(X_train.std()) - 1) < 1e-5
