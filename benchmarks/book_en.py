"""The English edition's framework (d2l 1.0) as the book builds it, replicated without torchvision.

The yardstick ``shallowlab.d2l``'s d2l 1.0 names are measured against: the book's classes with
the book's behaviour, written here from its description (chapters 3.2, 4.2, 4.3 and 4.5):

* ``FashionMNIST``: torchvision's ``FashionMNIST(transform=Compose([Resize(resize),
  ToTensor()]))``, the raw files read at construction and one PIL image made, resized (as
  torchvision does: not at all when it has the size already) and converted per item, in
  ``DataLoader(batch_size, shuffle=train, num_workers=4)``, whose workers start at every ``iter()``;
* ``Module.plot`` reads each batch's value to the host (``.to(cpu).detach().numpy()``);
* ``ProgressBoard.draw`` averages ``every_n`` points, then plots every line again on the current
  axes (the old lines stay), sets the limits, labels and legend and hands the figure to
  ``IPython.display`` (which, in a script, prints its text form);
* ``Trainer.fit``: ``training_step``, ``zero_grad``, ``backward``, ``step`` per batch, then the
  validation pass, as the book's ``fit_epoch``.
"""

from __future__ import annotations

import inspect
import sys
from collections import OrderedDict, namedtuple

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F
from torch.utils import data

from shallowlab.data import fashion_mnist

Point = namedtuple("Point", ["x", "y"])


def add_to_class(Class):
    """``@add_to_class(C)`` above ``def f(self)``: ``f`` becomes ``C.f`` (returns None, as the
    book's does)."""
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)

    return wrapper


class HyperParameters:
    def save_hyperparameters(self, ignore=[]):  # noqa: B006 (the book's signature)
        """Every argument of the calling ``__init__`` but ``ignore`` becomes an attribute."""
        local_vars = inspect.currentframe().f_back.f_locals
        self.hparams = {k: v for k, v in local_vars.items()
                        if k not in {*ignore, "self"} and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)


def _display():
    """``IPython.display`` as the book imports it; without IPython, its script behaviour."""
    try:
        from IPython import display
    except ImportError:
        class display:  # noqa: N801 (stands in for the module)
            display = staticmethod(print)
            clear_output = staticmethod(lambda wait=False: print("\033[2K\r", end=""))
    return display


class ProgressBoard(HyperParameters):
    def __init__(self, xlabel=None, ylabel=None, xlim=None, ylim=None, xscale="linear",
                 yscale="linear", ls=("-", "--", "-.", ":"), colors=("C0", "C1", "C2", "C3"),
                 fig=None, axes=None, figsize=(3.5, 2.5), display=True):
        self.save_hyperparameters()

    def draw(self, x, y, label, every_n=1):
        """Add ``(x, y)`` to ``label``; every ``every_n`` points, their mean joins the line
        and every line is plotted again."""
        if not hasattr(self, "raw_points"):
            self.raw_points, self.data = OrderedDict(), OrderedDict()
        points = self.raw_points.setdefault(label, [])
        line = self.data.setdefault(label, [])
        points.append(Point(x, y))
        if len(points) != every_n:
            return
        line.append(Point(*(sum(v) / len(v) for v in zip(*points))))
        points.clear()
        if not self.display:
            return
        plt = _pyplot()
        if self.fig is None:
            self.fig = plt.figure(figsize=self.figsize)
        lines = [plt.plot([p.x for p in v], [p.y for p in v], linestyle=ls, color=color)[0]
                 for v, ls, color in zip(self.data.values(), self.ls, self.colors)]
        axes = self.axes if self.axes else plt.gca()
        if self.xlim:
            axes.set_xlim(self.xlim)
        if self.ylim:
            axes.set_ylim(self.ylim)
        axes.set_xlabel(self.xlabel)
        axes.set_ylabel(self.ylabel)
        axes.set_xscale(self.xscale)
        axes.set_yscale(self.yscale)
        axes.legend(lines, list(self.data))
        display = _display()
        display.display(self.fig)
        display.clear_output(wait=True)


def _pyplot():
    if "matplotlib.pyplot" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")  # a benchmark draws on no screen
    import matplotlib.pyplot as plt

    return plt


class Module(nn.Module, HyperParameters):
    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat, y):
        raise NotImplementedError

    def forward(self, X):
        assert hasattr(self, "net"), "Neural network is defined"
        return self.net(X)

    def plot(self, key, value, train):
        """One point per batch for the curve ``train_<key>`` / ``val_<key>``, read to numpy."""
        assert hasattr(self, "trainer"), "Trainer is not inited"
        self.board.xlabel = "epoch"
        if train:
            x = self.trainer.train_batch_idx / self.trainer.num_train_batches
            n = self.trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = self.trainer.epoch + 1
            n = self.trainer.num_val_batches / self.plot_valid_per_epoch
        self.board.draw(x, value.to(torch.device("cpu")).detach().numpy(),
                        ("train_" if train else "val_") + key, every_n=int(n))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741 (the book's name)
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741 (the book's name)
        self.plot("loss", l, train=False)

    def configure_optimizers(self):  # section 4.3's
        return torch.optim.SGD(self.parameters(), lr=self.lr)


class Classifier(Module):
    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        preds = Y_hat.reshape((-1, Y_hat.shape[-1])).argmax(axis=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):  # section 4.5's
        return F.cross_entropy(Y_hat.reshape((-1, Y_hat.shape[-1])), Y.reshape((-1,)),
                               reduction="mean" if averaged else "none")


class DataModule(HyperParameters):
    def __init__(self, root="../data", num_workers=4):
        self.save_hyperparameters()

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)


class FashionMNISTItems(data.Dataset):
    """torchvision's ``FashionMNIST(transform=Compose([Resize(size), ToTensor()]))``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, size) -> None:
        self.data, self.targets, self.size = images, labels, list(size)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy(), mode="L")
        if [img.size[1], img.size[0]] != self.size:  # Resize: PIL's bilinear, when needed
            img = img.resize(tuple(self.size[::-1]), Image.BILINEAR)
        # ToTensor: (H, W) uint8 -> (1, H, W) float in [0, 1]
        t = torch.from_numpy(np.array(img, np.uint8, copy=True))
        t = t.view(img.size[1], img.size[0], len(img.getbands())).permute((2, 0, 1)).contiguous()
        return t.to(dtype=torch.get_default_dtype()).div(255), target


class FashionMNIST(DataModule):
    def __init__(self, batch_size=64, resize=(28, 28)):
        super().__init__()
        self.save_hyperparameters()
        ds = fashion_mnist.load(allow_download=False)  # torchvision reads the files each time
        self.train = FashionMNISTItems(ds.train_images, ds.train_labels, resize)
        self.val = FashionMNISTItems(ds.test_images, ds.test_labels, resize)

    def get_dataloader(self, train):
        dataset = self.train if train else self.val
        return data.DataLoader(dataset, self.batch_size, shuffle=train,
                               num_workers=self.num_workers)


class Trainer(HyperParameters):
    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()
        self.gpus = [torch.device(f"cuda:{i}")
                     for i in range(min(num_gpus, torch.cuda.device_count()))]

    def prepare_data(self, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def fit(self, model, data):
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = self.train_batch_idx = self.val_batch_idx = 0
        for epoch in range(self.max_epochs):
            self.epoch = epoch  # Module.plot reads it
            self.fit_epoch()

    def prepare_batch(self, batch):
        return [a.to(self.gpus[0]) for a in batch] if self.gpus else batch

    def fit_epoch(self):
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    def clip_gradients(self, grad_clip_val, model):
        """Scale the gradients to the norm ``grad_clip_val`` when their joint norm is larger."""
        params = [p for p in model.parameters() if p.requires_grad]
        norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
        if norm > grad_clip_val:
            for param in params:
                param.grad[:] *= grad_clip_val / norm
