"""The schedules: a learning rate and a batch size as pure functions of the position in a run."""

import math

import pytest

from shallowlab.core.schedules import doubling_batch_size, warmup_cosine


def test_warmup_cosine_climbs_linearly_then_falls_as_a_cosine():
    peak, w = 0.05, 0.1
    assert warmup_cosine(0.0, peak, w) == 0.0
    assert warmup_cosine(0.05, peak, w) == pytest.approx(peak / 2)
    assert warmup_cosine(w, peak, w) == pytest.approx(peak)
    assert warmup_cosine(w + 0.9 / 2, peak, w) == pytest.approx(peak / 2)  # the cosine's middle
    assert warmup_cosine(0.7, peak, w) == pytest.approx(
        peak * (1 + math.cos(math.pi * (0.7 - w) / (1 - w))) / 2)
    assert warmup_cosine(1.0, peak, w) == pytest.approx(0.0, abs=1e-15)
    assert warmup_cosine(-1.0, peak, w) == 0.0 and warmup_cosine(2.0, peak, w) < 1e-15
    assert warmup_cosine(0.0, peak) == peak  # no warm-up: the cosine from its top
    with pytest.raises(ValueError):
        warmup_cosine(0.5, peak, 1.0)


def test_doubling_batch_size_doubles_in_even_stages():
    sizes = [doubling_batch_size(e, 20, 128, 2) for e in range(1, 21)]
    assert sizes == [128] * 7 + [256] * 7 + [512] * 6  # b(e) = 128 * 2 ** floor(3 (e-1) / 20)
    assert [doubling_batch_size(e, 4, 64, 1) for e in range(1, 5)] == [64, 64, 128, 128]
    assert doubling_batch_size(1, 1, 100, 3) == 100  # one epoch: one stage
    assert doubling_batch_size(0, 20, 128, 2) == 128 and doubling_batch_size(99, 20, 128, 2) == 512
    assert [doubling_batch_size(e, 5, 32, 0) for e in range(1, 6)] == [32] * 5
    with pytest.raises(ValueError):
        doubling_batch_size(1, 10, 0, 1)
