"""Shuffled minibatches over tensors held in memory: index slices, not per-item datasets.

Each pass draws one permutation from the generator and yields ``X[idx], y[idx]`` for
consecutive slices ``idx`` of it. That is one gather per batch, where a per-item ``Dataset``
with a ``DataLoader`` costs a Python call, a conversion and a collation per example.

A ``transform`` converts each gathered ``X`` batch, so that the data can be held in another
form than it is trained in: Fashion-MNIST's images as uint8, a quarter of float32's bytes, each
batch becoming float32 as it is gathered (:func:`to_unit`). The runs hold float32, which
``benchmarks.held`` found the faster of the two (docs/speed.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch


class Batches:
    """Re-iterable minibatches of ``(X, y)``; every pass is a fresh shuffle when ``shuffle``.

    Args:
        X, y: tensors with the same first dimension, already on the device they will be used on.
        batch_size: examples per batch, or a plan: a function of the epoch (1-based) giving
            that epoch's batch size, followed from :meth:`set_epoch` on (a training loop calls
            it before each pass). The last batch is short unless ``drop_last``.
        shuffle: draw a new order from ``generator`` at every pass.
        generator: the source of the order (seed it per run for reproducible training).
        transform: applied to each batch of ``X`` as it is gathered: a batch is
            ``(transform(X[idx]), y[idx])``; None yields ``X[idx]`` as it is held.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor,
                 batch_size: int | Callable[[int], int], *, shuffle: bool = True,
                 generator: torch.Generator | None = None, drop_last: bool = False,
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
        self.X, self.y, self.transform = X, y, transform
        self.plan = batch_size if callable(batch_size) else None
        self.shuffle, self.drop_last, self.generator = shuffle, drop_last, generator
        self.pass_state: torch.Tensor | None = None  # the state the last order was drawn from
        self.batch_size = batch_size if self.plan is None else 0
        self.set_epoch(1)

    def set_epoch(self, epoch: int) -> None:
        """Follow the batch-size plan (if any) for ``epoch``, 1-based."""
        if self.plan is not None:
            self.batch_size = self.plan(epoch)
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ValueError(f"batch_size must be at least 1 (an integer), got {self.batch_size!r}")

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
        transform = self.transform or (lambda X: X)
        for i in range(len(self)):
            lo, hi = i * self.batch_size, min((i + 1) * self.batch_size, n)
            if self.shuffle:
                idx = order[lo:hi]
                # index_select copies whole rows, about twice as fast as X[idx] here
                yield transform(self.X.index_select(0, idx)), self.y.index_select(0, idx)
            else:
                yield transform(self.X[lo:hi]), self.y[lo:hi]


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float32 in [0, 1]: ``x / 255``, computed as ``x.float().div_(255)``.

    The one conversion of Fashion-MNIST's pixels, whether a whole set is converted once or each
    batch as it is gathered: the same operation on the same values, so the same floats.
    """
    return images.float().div_(255)
