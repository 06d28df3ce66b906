"""Shuffled minibatches over tensors held in memory: index slices, not per-item datasets.

Each pass draws one permutation from the generator and yields ``X[idx], y[idx]`` for
consecutive slices ``idx`` of it. That is one gather per batch, where a per-item ``Dataset``
with a ``DataLoader`` costs a Python call, a conversion and a collation per example.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


class Batches:
    """Re-iterable minibatches of ``(X, y)``; every pass is a fresh shuffle when ``shuffle``.

    Args:
        X, y: tensors with the same first dimension, already on the device they will be used on.
        batch_size: examples per batch; the last batch is short unless ``drop_last``.
        shuffle: draw a new order from ``generator`` at every pass.
        generator: the source of the order (seed it per run for reproducible training).
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int, *,
                 shuffle: bool = True, generator: torch.Generator | None = None,
                 drop_last: bool = False) -> None:
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.X, self.y = X, y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator = generator
        self.pass_state: torch.Tensor | None = None  # the state the last order was drawn from

    def __len__(self) -> int:
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.X)
        if self.shuffle:
            # Drawn on the CPU generator, then moved: the same order on every device. Setting
            # the generator back to pass_state draws this pass's order again (to resume in it).
            self.pass_state = self.generator.get_state() if self.generator is not None else None
            order = torch.randperm(n, generator=self.generator).to(self.X.device)
        for i in range(len(self)):
            lo, hi = i * self.batch_size, min((i + 1) * self.batch_size, n)
            if self.shuffle:
                idx = order[lo:hi]
                # index_select copies whole rows, about twice as fast as X[idx] here
                yield self.X.index_select(0, idx), self.y.index_select(0, idx)
            else:
                yield self.X[lo:hi], self.y[lo:hi]
