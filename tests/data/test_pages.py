"""Training images held in 2 MB pages: the same bits, aligned, and small tensors left alone."""

import mmap

import pytest
import torch

from shallowlab.data.batches import Batches
from shallowlab.data.pages import HUGE_PAGE, MIN_BYTES, huge_empty, huge_paged


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no transparent huge pages here")
def test_a_large_tensor_is_copied_bit_for_bit_onto_a_2mb_boundary():
    X = torch.rand(MIN_BYTES // (4 * 784) + 1, 784, generator=torch.Generator().manual_seed(0))
    held = huge_paged(X)
    assert held.data_ptr() != X.data_ptr() and held.data_ptr() % HUGE_PAGE == 0
    assert torch.equal(held, X) and held.is_contiguous()
    order = torch.Generator().manual_seed(1)
    first = next(iter(Batches(held, torch.arange(len(X)), 256, generator=order)))
    X_batch, y_batch = first
    assert torch.equal(X_batch, X[y_batch])  # a gathered batch holds the same rows
    empty = huge_empty((4, MIN_BYTES // 8), torch.bfloat16)
    assert empty.dtype == torch.bfloat16 and empty.data_ptr() % HUGE_PAGE == 0


def test_a_small_tensor_stays_as_it_is():
    X = torch.rand(100, 784)
    assert huge_paged(X) is X
    assert huge_empty((100, 784), torch.float32).shape == (100, 784)
