"""Fashion-MNIST: find the four files, download them if need be, verify, and hold them in memory.

Where the files are looked for, in order:

1. ``data_dir`` (``--data-dir``), or else the ``SHALLOWLAB_DATA`` environment variable;
2. the user cache, ``$XDG_CACHE_HOME/shallowlab/fashion-mnist`` (``~/.cache/...`` by default);
3. ``/usr/share/datasets/fashion-mnist``, where Debian's and Ubuntu's package
   ``dataset-fashion-mnist`` installs them;
4. a download from the dataset's mirror (or from ``SHALLOWLAB_MIRROR`` instead, if set) into
   the folder of step 1, or else the cache, each file checked against its published MD5.

A folder counts when it holds all four files, gzip-compressed or not, directly or under
``FashionMNIST/raw`` (the layout torchvision and the book's ``../data`` use).

A gzip file is decompressed once: its array is kept in ``$XDG_CACHE_HOME/shallowlab/decoded``
as a ``.npy`` named by the file's path, size, times and inode, and read from there by later
runs (20 ms where decompressing the training images takes 0.3 to 0.5 s).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from shallowlab.data.idx import read_images, read_labels
from shallowlab.errors import ConfigError, DataError, ShallowlabError
from shallowlab.files import atomic_write

CLASS_NAMES = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)

# name -> MD5 of the gzip file, as published with the dataset (and listed by torchvision)
FILES = {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}
MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
FIX = ("to fix: `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or run "
       "`shallowlab data` where the internet is reachable, or copy the four files "
       f"({', '.join(n + '.gz' for n in FILES)}) into a folder and pass --data-dir DIR")


@dataclass(frozen=True)
class FashionMNIST:
    """The whole dataset in memory: images uint8 (N, 28, 28), labels int64 (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "shallowlab" / "fashion-mnist"


def files_in(folder: Path) -> dict[str, Path] | None:
    """The four files in ``folder`` (or its FashionMNIST/raw), or None if any is missing."""
    for root in (folder, folder / "FashionMNIST" / "raw"):
        found = {}
        for name in FILES:
            for candidate in (root / f"{name}.gz", root / name):
                if candidate.is_file():
                    found[name] = candidate
                    break
        if len(found) == len(FILES):
            return found
    return None


def md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class DownloadError(DataError):
    """A download failed; ``failures`` says, per mirror tried, what went wrong."""

    def __init__(self, dest: Path, failures: list[str]) -> None:
        self.failures = failures
        super().__init__(f"downloading Fashion-MNIST into {dest} failed: " + "; ".join(failures)
                         + "; nothing was kept under the files' names")


def download(dest: Path, mirrors: tuple[str, ...] | None = None, timeout: float = 30) -> None:
    """Download the four gzip files into ``dest``, checking MD5s; :class:`DownloadError` (a
    ``DataError``, as every data problem is) says what failed.

    Each file is written to a temporary name in ``dest`` and renamed only once its MD5 matches,
    so ``dest`` never holds a partial or wrong file under the real name. Files already there
    with the right MD5 are kept.
    """
    if mirrors is None:
        env = os.environ.get("SHALLOWLAB_MIRROR")
        mirrors = (env,) if env else MIRRORS
    if not mirrors:
        raise DownloadError(dest, ["no mirror to download from"])
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(dest, [f"cannot create {dest} ({e.strerror})"]) from None
    failures = []
    for name, expected in FILES.items():
        target = dest / f"{name}.gz"
        if target.is_file() and md5(target) == expected:
            continue
        for mirror in mirrors:
            url = mirror.rstrip("/") + f"/{name}.gz"
            problem = _fetch(url, target, expected, timeout)
            if problem is None:
                break
            failures.append(problem)
        else:
            raise DownloadError(dest, failures)


def _fetch(url: str, target: Path, expected_md5: str, timeout: float) -> str | None:
    """Fetch ``url`` to ``target`` atomically; None on success, else what went wrong."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        h = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(1 << 20), b""):
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != expected_md5:
            return f"{url}: MD5 {h.hexdigest()} does not match the published {expected_md5}"
        os.replace(tmp, target)
        return None
    except http.client.HTTPException as e:  # not HTTP at all, or an answer cut short
        return f"{url}: not a valid HTTP answer ({type(e).__name__})"
    except (urllib.error.URLError, OSError, ValueError) as e:
        return f"{url}: {getattr(e, 'reason', None) or e}"
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def locate(
    data_dir: str | os.PathLike | None = None,
    *,
    allow_download: bool = True,
    system_dirs: tuple[Path, ...] = SYSTEM_DIRS,
    mirrors: tuple[str, ...] | None = None,
) -> dict[str, Path]:
    """Find the four files (see the module docstring for the order); returns name -> path."""
    explicit = data_dir or os.environ.get("SHALLOWLAB_DATA")
    if explicit:
        explicit = Path(explicit).expanduser()
        setting = "--data-dir" if data_dir else "SHALLOWLAB_DATA"
        if not explicit.is_dir():
            raise ConfigError(f"{setting} {explicit} is not a folder; create it, or point "
                            f"{setting} at the folder that holds the Fashion-MNIST files")
    tried = []
    for folder in [p for p in (explicit, cache_dir(), *system_dirs) if p]:
        found = files_in(folder)
        if found:
            return found
        tried.append(f"{folder} (not all four files)")
    if allow_download:
        target = explicit or cache_dir()
        try:
            download(target, mirrors)
            return files_in(target)
        except DownloadError as e:
            tried.append(f"download into {target}: " + "; ".join(e.failures))
    raise DataError("Fashion-MNIST not found; tried " + ", ".join(tried) + "; " + FIX)


def fetch(data_dir: str | os.PathLike | None = None,
          mirrors: tuple[str, ...] | None = None) -> Path:
    """Download the files into ``data_dir`` (else ``SHALLOWLAB_DATA``, else the cache) even
    when a copy exists elsewhere, each checked against its MD5; returns the folder.

    Files already there with the right MD5 are kept. A DownloadError says what failed.
    """
    target = Path(data_dir or os.environ.get("SHALLOWLAB_DATA") or cache_dir()).expanduser()
    download(target, mirrors)
    return target


def load(data_dir: str | os.PathLike | None = None, *, allow_download: bool = True) -> FashionMNIST:
    """Locate, read and validate the dataset; every problem is a DataError naming the file."""
    files = locate(data_dir, allow_download=allow_download)
    arrays = {}
    for split in ("train", "t10k"):
        images = _decoded(files[f"{split}-images-idx3-ubyte"], read_images)
        labels = _decoded(files[f"{split}-labels-idx1-ubyte"],
                          lambda path: read_labels(path, len(CLASS_NAMES)))
        if images.shape[1:] != (28, 28):
            raise DataError(f"{files[f'{split}-images-idx3-ubyte']}: images are "
                            f"{images.shape[1]}x{images.shape[2]}, Fashion-MNIST's are 28x28")
        if len(images) != len(labels):
            raise DataError(f"{files[f'{split}-images-idx3-ubyte']} holds {len(images)} images "
                            f"but {files[f'{split}-labels-idx1-ubyte']} holds {len(labels)} "
                            "labels; the two files do not belong together")
        arrays[split] = (torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)))
    source = files["t10k-images-idx3-ubyte"].parent
    return FashionMNIST(*arrays["train"], *arrays["t10k"], source=source)


def _decoded(path: Path, read) -> np.ndarray:
    """``read(path)``, a validated array, through the cache of decoded gzip files.

    An entry is named by everything that changes when the file does (its resolved path, size,
    modification and change times, inode), so a file replaced or rewritten is read afresh. An
    entry that cannot be read or written is passed over: the file is decoded as if none were.
    """
    if path.suffix != ".gz":
        return read(path)
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"
    entry = (cache_dir().parent / "decoded" /
             f"{path.stem}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npy")
    try:
        return np.load(entry, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        pass
    array = read(path)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        atomic_write(entry, buffer.getvalue())
    except (OSError, ShallowlabError):  # a read-only or full cache: decode every time
        pass
    return array


def labels_to_names(labels) -> list[str]:
    """Class names for integer labels (the book's ``get_fashion_mnist_labels``)."""
    return [CLASS_NAMES[int(i)] for i in labels]
