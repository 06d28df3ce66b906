"""Checkers of the synthetic data generators (en-3.3.3, en-3.3.4).

``y = X w + b + eps`` is checked by least squares on everything a pass yields: the fitted
weights must be w and b to within 0.01 and the residuals' spread at most 0.1 (the section's
noise is 0.01). "X is standard normal" asks the mean within 5 standard errors of 0 and the
standard deviation within 0.1 of 1 over all the pass's numbers.
"""

from __future__ import annotations

import torch

from shallowlab.exercises.checkers.harness import Checking, Failed, Property, same_shape, tensor

W, B, BATCH, BATCHES = torch.tensor([2.0, -3.4]), 4.2, 50, 20


def stream_reference(w: torch.Tensor, b: float, batch_size: int, batches: int):
    """Each pass draws new X ~ N(0, 1) and noise from the global generator."""
    for _ in range(batches):
        X = torch.randn(batch_size, len(w))
        yield X, X @ w.reshape(-1, 1) + b + 0.01 * torch.randn(batch_size, 1)


def replay_reference(w: torch.Tensor, b: float, batch_size: int, batches: int, seed: int):
    """Each pass draws from its own generator, seeded alike: the same batches every time."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(batches):
        X = torch.randn(batch_size, len(w), generator=g)
        yield X, X @ w.reshape(-1, 1) + b + 0.01 * torch.randn(batch_size, 1, generator=g)


def _pass(fn, *extra) -> list[tuple[torch.Tensor, torch.Tensor]]:
    got = fn(W, B, BATCH, BATCHES, *extra)
    try:
        batches = list(got)
    except TypeError:
        raise Failed(f"it returned {type(got).__name__}, not something to iterate over (a "
                     "generator: use yield)") from None
    return batches


def _shapes(fn, *extra) -> None:
    batches = _pass(fn, *extra)
    if len(batches) != BATCHES:
        raise Failed(f"asked for {BATCHES} batches, it yielded {len(batches)}")
    for X, y in batches[:1]:
        same_shape(tensor(X, "X"), (BATCH, len(W)), "X")
        same_shape(tensor(y, "y"), (BATCH, 1), "y", "one label per example, as a column")


def _linear(fn, *extra) -> None:
    batches = _pass(fn, *extra)
    X = torch.cat([x for x, _ in batches]).double()
    y = torch.cat([t for _, t in batches]).double().reshape(-1, 1)
    ones = torch.ones(len(X), 1, dtype=torch.float64)
    solution = torch.linalg.lstsq(torch.cat([X, ones], dim=1), y).solution.flatten()
    fitted_w, fitted_b = solution[:-1], solution[-1].item()
    if (fitted_w - W.double()).abs().max() > 0.01 or abs(fitted_b - B) > 0.01:
        raise Failed(f"least squares on a pass gives w = {fitted_w.tolist()}, b = "
                     f"{fitted_b:.3f}; the generator was given w = {W.tolist()}, b = {B}")
    spread = (y - X @ fitted_w.reshape(-1, 1) - fitted_b).std().item()
    if spread > 0.1:
        raise Failed(f"the noise around X w + b has standard deviation {spread:.3g}, more "
                     "than 0.1 (the section's is 0.01)")


def _standard_normal(fn, *extra) -> None:
    X = torch.cat([x for x, _ in _pass(fn, *extra)]).double()
    mean, std = X.mean().item(), X.std().item()
    if abs(mean) > 5 / X.numel() ** 0.5 or abs(std - 1) > 0.1:
        raise Failed(f"X has mean {mean:.3f} and standard deviation {std:.3f}, want 0 and 1")


def _differ(a, b) -> bool:
    return not all(torch.equal(x1, x2) and torch.equal(y1, y2)
                   for (x1, y1), (x2, y2) in zip(a, b))


def _fresh(fn) -> None:
    if not _differ(_pass(fn), _pass(fn)):
        raise Failed("two passes yielded the same data: draw new numbers on every pass (not "
                     "once, outside the generator, and not from a generator seeded the same)")


def _same(fn) -> None:
    if _differ(_pass(fn, 3), _pass(fn, 3)):
        raise Failed("two passes with seed 3 yielded different data\nhint: seed a "
                     "torch.Generator of its own at the start of every pass")


def _other_seed(fn) -> None:
    if not _differ(_pass(fn, 3), _pass(fn, 4)):
        raise Failed("seeds 3 and 4 yielded the same data: is the seed used?")


def _global_alone(fn) -> None:
    state = torch.random.get_rng_state()
    _pass(fn, 3)
    after = torch.randn(4)
    torch.random.set_rng_state(state)
    if not torch.equal(after, torch.randn(4)):
        raise Failed("a pass changed torch's global random numbers (torch.manual_seed, or "
                     "drawing from the global generator)\nhint: draw from a torch.Generator "
                     "of the pass's own")


FRESH = Checking((
    Property("batches and shapes", _shapes),
    Property("y = X w + b + small noise", _linear),
    Property("X is standard normal", _standard_normal),
    Property("new data on every pass", _fresh),
), stream_reference)

SAME = Checking((
    Property("batches and shapes", lambda fn: _shapes(fn, 3)),
    Property("y = X w + b + small noise", lambda fn: _linear(fn, 3)),
    Property("the same data on every pass", _same),
    Property("another seed, other data", _other_seed),
    Property("the global generator left alone", _global_alone),
), replay_reference)
