"""The book's data pipeline and training epoch (d2l 0.17), replicated without torchvision.

``load_data_fashion_mnist``: torchvision's ``FashionMNIST`` with ``transforms.ToTensor()``, one
PIL image made and converted per item, in ``DataLoader(batch_size, shuffle=True,
num_workers=get_dataloader_workers())``, which starts its workers at every ``iter()``.
``train_epoch_ch3``: ``l.mean().backward()`` and the optimizer's step, then the book's host
reads (``float(l.sum())``, ``accuracy``) into an ``Accumulator`` after every batch.

This is the book's code as its readers run it, the yardstick shallowlab is measured against; it is
not ``shallowlab.d2l``, which runs the book's names on shallowlab's faster loaders and step.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils import data


class FashionMNISTItems(data.Dataset):
    """torchvision's ``FashionMNIST(transform=transforms.ToTensor())``: one PIL image per item."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.data, self.targets = images, labels

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy(), mode="L")
        # transforms.ToTensor() on a mode-L image
        t = torch.from_numpy(np.array(img, np.uint8, copy=True))
        t = t.view(img.size[1], img.size[0], len(img.getbands())).permute((2, 0, 1)).contiguous()
        return t.to(dtype=torch.get_default_dtype()).div(255), target


def get_dataloader_workers() -> int:
    return 4


def book_loaders(ds, batch_size: int) -> tuple[data.DataLoader, data.DataLoader]:
    """``load_data_fashion_mnist(batch_size)`` on the images of ``ds``: (train, test)."""
    workers = get_dataloader_workers()
    return (data.DataLoader(FashionMNISTItems(ds.train_images, ds.train_labels), batch_size,
                            shuffle=True, num_workers=workers),
            data.DataLoader(FashionMNISTItems(ds.test_images, ds.test_labels), batch_size,
                            shuffle=False, num_workers=workers))


class Accumulator:
    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args, strict=True)]

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net: nn.Module, data_iter) -> float:
    net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch_ch3(net: nn.Module, train_iter, loss, updater) -> tuple[float, float]:
    net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 (the book's name)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
