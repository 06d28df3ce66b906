"""Files written whole or not at all: what every writer of run folders, reports and sweeps uses.

Nothing here imports torch or numpy, so a process that only draws figures can write them too.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shallowlab.errors import ShallowlabError


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make outputs private
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):  # a full disk, a quota, a folder gone read-only
            raise ShallowlabError(f"cannot write {path} ({e.strerror or e}); free some space "
                                  "or choose another --out") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
