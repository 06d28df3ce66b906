"""Synthetic data generators (en-3.3.3 stream, en-3.3.4 replay)."""

import torch


def stream(w, b, batch_size, batches):
    for _ in range(batches):
        X = torch.randn(batch_size, len(w))
        yield X, X @ w.reshape(-1, 1) + b + 0.01 * torch.randn(batch_size, 1)


def stream_seeded(w, b, batch_size, batches):  # the same data on every pass
    g = torch.Generator().manual_seed(0)
    for _ in range(batches):
        X = torch.randn(batch_size, len(w), generator=g)
        yield X, X @ w.reshape(-1, 1) + b + 0.01 * torch.randn(batch_size, 1, generator=g)


def stream_no_bias(w, b, batch_size, batches):
    for _ in range(batches):
        X = torch.randn(batch_size, len(w))
        yield X, X @ w.reshape(-1, 1) + 0.01 * torch.randn(batch_size, 1)


def stream_flat_labels(w, b, batch_size, batches):  # y of shape (batch_size,)
    for _ in range(batches):
        X = torch.randn(batch_size, len(w))
        yield X, X @ w + b + 0.01 * torch.randn(batch_size)


def replay(w, b, batch_size, batches, seed):
    g = torch.Generator().manual_seed(seed)
    for _ in range(batches):
        X = torch.randn(batch_size, len(w), generator=g)
        yield X, X @ w.reshape(-1, 1) + b + 0.01 * torch.randn(batch_size, 1, generator=g)


def replay_reseeds_global(w, b, batch_size, batches, seed):
    torch.manual_seed(seed)
    yield from stream(w, b, batch_size, batches)


def replay_unseeded(w, b, batch_size, batches, seed):
    yield from stream(w, b, batch_size, batches)


def replay_seed_ignored(w, b, batch_size, batches, seed):
    yield from stream_seeded(w, b, batch_size, batches)
