"""Learning-rate and batch-size schedules: pure functions of where training is.

Each value depends only on the position in the run (a fraction of it, or an epoch number),
never on what happened before, so a resumed run recomputes exactly the values an
uninterrupted one would have used.
"""

from __future__ import annotations

import math


def warmup_cosine(progress: float, peak: float, warmup: float = 0.0) -> float:
    """The learning rate at ``progress`` in [0, 1] of the run: a linear warm-up, then a cosine.

        lr(t) = peak * t / w                                    for t < w (the warm-up)
        lr(t) = peak * (1 + cos(pi * (t - w) / (1 - w))) / 2    for t >= w

    so it climbs from 0 to ``peak`` over the first fraction ``w = warmup`` of the run and
    decays smoothly back to 0 at ``t = 1``. Values of ``t`` outside [0, 1] are clamped.
    """
    if not 0 <= warmup < 1:
        raise ValueError(f"warmup must be in [0, 1), got {warmup}")
    t = min(max(progress, 0.0), 1.0)
    if t < warmup:
        return peak * t / warmup
    return peak * (1 + math.cos(math.pi * (t - warmup) / (1 - warmup))) / 2


def doubling_batch_size(epoch: int, epochs: int, first: int, doublings: int) -> int:
    """The batch size of ``epoch`` (1-based) of ``epochs``: ``first``, doubled in even stages.

        b(e) = first * 2 ** floor((d + 1) * (e - 1) / epochs),   d = doublings

    The run falls into ``d + 1`` stages of (about) equal length; each trains with twice the
    batch of the one before, ending at ``first * 2 ** d``. Epochs outside [1, epochs] are
    clamped. (Growing the batch does what decaying the learning rate does, in fewer steps:
    Smith et al., "Don't decay the learning rate, increase the batch size", 2018.)
    """
    if first < 1 or doublings < 0 or epochs < 1:
        raise ValueError(f"need first >= 1, doublings >= 0, epochs >= 1; got {first}, "
                         f"{doublings}, {epochs}")
    e = min(max(epoch, 1), epochs)
    return first * 2 ** ((doublings + 1) * (e - 1) // epochs)
