"""Read and write IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 dimensions, then exactly ``prod(dims)`` items of ``<type>`` in C order. Fashion-MNIST
images have magic 2051 (unsigned bytes, 3 dims: count, rows, cols) and labels magic 2049
(unsigned bytes, 1 dim: count).

Everything read is validated; any problem raises :class:`~shallowlab.errors.DataError` naming
the file. Reading never allocates more than the header promises and the file actually holds.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from shallowlab.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

# IDX type code -> big-endian numpy dtype
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_exact(f, n: int, path: Path, what: str) -> bytes:
    # In chunks, so a header promising terabytes fails at the file's end, not in an allocation.
    chunks, got = [], 0
    while got < n:
        chunk = f.read(min(n - got, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    data = b"".join(chunks)
    if len(data) != n:
        raise DataError(f"{path}: file ends early, in the {what} ({len(data)} of {n} bytes); "
                        "the file is truncated, download or copy it again")
    return data


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read any IDX file (gzip detected by its magic bytes) into a native-endian array."""
    path = Path(path)
    try:
        with open(path, "rb") as probe:
            compressed = probe.read(2) == _GZIP_MAGIC
        opener = gzip.open if compressed else open
        with opener(path, "rb") as f:
            magic = _read_exact(f, 4, path, "magic number")
            if magic[0] != 0 or magic[1] != 0 or magic[2] not in _DTYPES:
                raise DataError(f"{path}: not an IDX file (magic number {magic.hex()}); "
                                "expected 2051 for images or 2049 for labels")
            dtype, ndim = _DTYPES[magic[2]], magic[3]
            if ndim == 0:
                raise DataError(f"{path}: IDX header declares 0 dimensions")
            dims = struct.unpack(f">{ndim}I", _read_exact(f, 4 * ndim, path, "dimensions"))
            nbytes = math.prod(dims) * dtype.itemsize
            payload = _read_exact(f, nbytes, path, f"data promised by the header {dims}")
            if f.read(1):
                raise DataError(f"{path}: more bytes than the header {dims} promises; "
                                "the file is corrupt, download or copy it again")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DataError(f"{path}: cannot be read ({e}); download or copy it again") from None
    try:
        array = np.frombuffer(payload, dtype=dtype).reshape(dims)
    except ValueError as e:  # more than numpy's 64 dimensions, or a size that overflows
        raise DataError(f"{path}: the header's {ndim} dimensions cannot be held in an array "
                        f"({e}); the file is corrupt, download or copy it again") from None
    return array.astype(dtype.newbyteorder("="))


def _magic_of(array: np.ndarray) -> int:
    return _CODES[array.dtype] << 8 | array.ndim


def read_images(path: str | os.PathLike) -> np.ndarray:
    """Read an images file (magic 2051): uint8 array of shape (count, rows, cols)."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 3:
        raise DataError(f"{path}: magic number {_magic_of(array)} is not {IMAGES_MAGIC}; "
                        "this is not an images file (did you swap images and labels?)")
    return array


def read_labels(path: str | os.PathLike, num_classes: int = 10) -> np.ndarray:
    """Read a labels file (magic 2049): uint8 array (count,) with values in 0..num_classes-1."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise DataError(f"{path}: magic number {_magic_of(array)} is not {LABELS_MAGIC}; "
                        "this is not a labels file (did you swap images and labels?)")
    if array.size and int(array.max()) >= num_classes:
        bad = int(np.argmax(array >= num_classes))
        raise DataError(f"{path}: label {int(array[bad])} at index {bad} is outside "
                        f"0..{num_classes - 1}; the file is corrupt, download or copy it again")
    return array


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file, gzip-compressed if ``compress`` (default: name ends .gz)."""
    path = Path(path)
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(_DTYPES[code]).tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
