"""Fashion-MNIST's gzip files are decompressed once, then read back from the user cache."""

import os

import numpy as np
import torch

from shallowlab.data import fashion_mnist
from tests.conftest import write_fashion


def _entries() -> set:
    """The cache's entries (the tests of a session share them: compare before and after)."""
    folder = fashion_mnist.cache_dir().parent / "decoded"
    return set(folder.glob("*.npy")) if folder.is_dir() else set()


def _same(a: fashion_mnist.FashionMNIST, b: fashion_mnist.FashionMNIST) -> bool:
    return all(torch.equal(getattr(a, k), getattr(b, k)) for k in
               ("train_images", "train_labels", "test_images", "test_labels"))


def test_a_second_load_reads_the_decoded_arrays_and_they_are_the_same(tmp_path):
    folder = write_fashion(tmp_path / "data")
    before = _entries()
    first = fashion_mnist.load(folder)
    ours = _entries() - before
    assert len(ours) == 4
    stamps = {e: e.stat().st_mtime_ns for e in ours}
    second = fashion_mnist.load(folder)
    assert _entries() - before == ours
    assert {e: e.stat().st_mtime_ns for e in ours} == stamps  # read, not written again
    assert _same(first, second)
    assert second.train_images.dtype == torch.uint8 and second.train_labels.dtype == torch.int64


def test_a_rewritten_file_is_decoded_afresh(tmp_path):
    folder = write_fashion(tmp_path / "data")
    before = fashion_mnist.load(folder)
    os.replace(write_fashion(tmp_path / "other", n_train=300) / "train-images-idx3-ubyte.gz",
               folder / "train-images-idx3-ubyte.gz")
    os.replace(tmp_path / "other" / "train-labels-idx1-ubyte.gz",
               folder / "train-labels-idx1-ubyte.gz")
    after = fashion_mnist.load(folder)
    assert len(after.train_images) == 300 and len(before.train_images) == 600


def test_a_damaged_entry_is_passed_over(tmp_path):
    folder = write_fashion(tmp_path / "data")
    before = _entries()
    first = fashion_mnist.load(folder)
    ours = _entries() - before
    for entry in ours:
        entry.write_bytes(entry.read_bytes()[:100])  # cut short
    again = fashion_mnist.load(folder)
    assert _same(first, again)
    assert all(np.load(entry).size > 0 for entry in ours)  # written again whole


def test_uncompressed_files_are_not_cached(tmp_path):
    before = _entries()
    fashion_mnist.load(write_fashion(tmp_path / "raw", gz=False))
    assert _entries() == before
