"""Batches: every example once per pass, in a fresh order each pass, reproducible from a seed."""

from __future__ import annotations

import pytest
import torch

from shallowlab.data.batches import Batches


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
