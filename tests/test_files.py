"""atomic_write: a file is written whole or not at all."""

import os

import pytest

from shallowlab.files import atomic_write


def test_atomic_write_replaces_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "f.json"
    atomic_write(target, "old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["f.json"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write(target, "old")
    with pytest.raises(TypeError):
        atomic_write(target, 12345)  # not bytes: fails while writing the temporary
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]
