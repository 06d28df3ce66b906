"""The book's data: synthetic regression data and Fashion-MNIST, batched over tensors in memory.

Where the book wraps its tensors in a ``DataLoader`` (per-item indexing and collation, and for
Fashion-MNIST a PIL conversion per image in 4 worker processes), :class:`TensorLoader` slices
them: one gather per batch, with the ``DataLoader``'s visible behaviour (``len()``, ``.dataset``,
``[X, y]`` batches, a new order each pass from torch's global generator).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils import data

from shallowlab.data import fashion_mnist, synthetic


def synthetic_data(w, b, num_examples):
    """``y = X w + b + eps``, X ~ N(0, 1) (n, len(w)), eps ~ N(0, 0.01^2); returns X, y (n, 1)."""
    return synthetic.linear(w, b, num_examples, noise=0.01)


class TensorLoader:
    """``DataLoader(dataset, batch_size, shuffle)`` for a dataset whose ``tensors`` are in memory.

    Each batch is one index slice of every tensor, yielded as a list ``[X, y]`` as the
    ``DataLoader`` does; the last batch is short. With ``shuffle``, every pass draws a new
    order from torch's global generator, so ``torch.manual_seed`` fixes it as it does the
    book's. A dataset with a ``transform`` method has it applied to each batch's first tensor.
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        tensors, size = self.dataset.tensors, self.batch_size
        n = len(tensors[0])
        order = torch.randperm(n) if self.shuffle else None
        transform = getattr(self.dataset, "transform", None)
        for lo in range(0, n, size):
            idx = order[lo: lo + size] if order is not None else slice(lo, lo + size)
            batch = [t[idx] for t in tensors]
            if transform is not None:
                batch[0] = transform(batch[0])
            yield batch


def load_array(data_arrays, batch_size, is_train=True):
    """Minibatches of ``data_arrays`` (tensors of one length), shuffled at each pass if training."""
    return TensorLoader(data.TensorDataset(*data_arrays), batch_size, shuffle=is_train)


def get_fashion_mnist_labels(labels) -> list[str]:
    """The text labels of Fashion-MNIST's numeric labels."""
    return fashion_mnist.labels_to_names(labels)


def get_dataloader_workers() -> int:
    """The book's 4 worker processes; shallowlab's loaders need none and ignore it."""
    return 4


class FashionMNISTSplit(data.Dataset):
    """One split in memory, as torchvision's ``FashionMNIST`` with ``ToTensor`` (and ``Resize``).

    ``data`` (uint8 (N, 28, 28)), ``targets`` (int64 (N,)) and ``classes`` as torchvision's;
    item ``i`` is ``(image, label)``: float32 (1, H, W) in [0, 1], and an int. The images are
    converted once; a ``resize`` (one size, or (height, width)) is applied to each batch as it
    is drawn, so 224 x 224 images cost no memory beyond a batch.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, resize=None) -> None:
        self.data, self.targets = images, labels
        self.classes = list(fashion_mnist.CLASS_NAMES)
        self.tensors = (images.unsqueeze(1).float().div_(255), labels)  # (N, 1, 28, 28), (N,)
        if not resize:
            self.size = None
        elif isinstance(resize, int):
            self.size = (resize, resize)
        elif len(resize) == 2:
            self.size = tuple(int(s) for s in resize)
        else:
            raise ValueError(f"resize must be one size or (height, width), got {resize!r}")

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        return self.transform(self.tensors[0][i].unsqueeze(0))[0], int(self.targets[i])

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, 1, H, W): bilinear, antialiased when shrinking, as PIL's."""
        if self.size is None or tuple(X.shape[-2:]) == self.size:
            return X
        return F.interpolate(X, size=self.size, mode="bilinear", align_corners=False,
                             antialias=True)


def load_data_fashion_mnist(batch_size, resize=None):
    """``(train_iter, test_iter)`` over Fashion-MNIST, the training set reshuffled every pass.

    Batches are ``[X, y]``: X float32 (B, 1, 28, 28) in [0, 1] (``resize`` high and wide if
    given), y int64 (B,). The files are found as ``shallowlab data`` finds them
    (``$SHALLOWLAB_DATA``, the cache, ``/usr/share/datasets/fashion-mnist``) and downloaded
    only when absent.
    """
    train, test = fashion_mnist_splits(resize)
    return TensorLoader(train, batch_size, shuffle=True), TensorLoader(test, batch_size, False)


def fashion_mnist_splits(resize=None, root=None) -> tuple[FashionMNISTSplit, FashionMNISTSplit]:
    """The training and test splits (see :func:`fashion_mnist_in`), each resized to ``resize``."""
    ds = fashion_mnist_in(root)
    return (FashionMNISTSplit(ds.train_images, ds.train_labels, resize),
            FashionMNISTSplit(ds.test_images, ds.test_labels, resize))


def fashion_mnist_in(root=None) -> fashion_mnist.FashionMNIST:
    """Fashion-MNIST as ``shallowlab data`` finds it, with the book's ``root`` (``../data``,
    relative to the working directory) tried after ``$SHALLOWLAB_DATA`` and before the cache:
    a folder the user named wins over one the book guesses. Read from disk once per process
    while the files stay as they are."""
    guessed = root and not os.environ.get("SHALLOWLAB_DATA")
    folder = Path(root) if guessed and fashion_mnist.files_in(Path(root)) else None
    files = sorted(fashion_mnist.locate(folder).values())
    stats = [p.stat() for p in files]
    stamp = tuple((str(p), s.st_mtime_ns, s.st_size) for p, s in zip(files, stats))
    return _read(files[0].parent, stamp)


@functools.lru_cache(maxsize=2)
def _read(folder: Path, stamp: tuple) -> fashion_mnist.FashionMNIST:
    return fashion_mnist.load(folder)
