"""The book's API (d2l 0.17.6, chapters 2-4) on shallowlab: ``from shallowlab import d2l``.

A thin facade: every name keeps the signature and the semantics of the ``d2l.torch`` function it
stands in for, so the code of *Dive into Deep Learning* runs with only its import line changed.
What differs is underneath:

* Fashion-MNIST comes from :mod:`shallowlab.data.fashion_mnist` (local files first, a download
  only when they are absent; no torchvision) and is held in memory as float32 tensors; a batch
  is one index slice of them, not 256 PIL conversions in worker processes.
* Figures work everywhere. In Jupyter, :class:`Animator` redraws in place as the book's does;
  in a script or an IDE every figure (``Animator``, ``plot``, ``show_images``, ``predict_ch3``,
  and anything else drawn on ``d2l.plt``) is also written as a PNG to ``./figures`` (or
  ``$SHALLOWLAB_FIGURES``) and its path printed once. IPython is imported only in a notebook.
* ``train_ch3`` prints one line per epoch, and its sanity checks raise
  :class:`TrainingCheckError` (one line, and still an ``AssertionError``) instead of bare asserts.
* The chapter-3 trainers run on the CPU as the book's do, unless the net's parameters live on
  another device; then each batch follows them there.

Nothing else in shallowlab imports this module.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
import weakref
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils import data

from shallowlab import scratch
from shallowlab.data import fashion_mnist, synthetic
from shallowlab.errors import ShallowlabError

# --- figures ----------------------------------------------------------------------------------


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (Jupyter, Colab, VS Code); never imports IPython itself."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    return shell is not None and hasattr(shell, "kernel")


def _pyplot():
    """``matplotlib.pyplot``, imported on first use; on Agg in a script with no display."""
    if "matplotlib.pyplot" not in sys.modules and not _in_notebook() \
            and not os.environ.get("MPLBACKEND") and not _has_display():
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not _in_notebook():
        _FIGURES.watch()
    return plt


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") \
        or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def __getattr__(name: str):
    if name == "plt":  # d2l.plt, imported only when a script first asks for it
        return _pyplot()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _FigureFiles:
    """Outside notebooks, each figure's PNG: ``<figures>/<script>-<n>-<kind>.png``.

    A figure keeps its file, rewritten as it changes; at exit, every open figure that changed
    since it was written (or never was, like one drawn on ``d2l.plt`` directly) is written.
    """

    def __init__(self) -> None:
        self.files: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.saved_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.count, self.watching, self.broken = 0, False, False

    def watch(self) -> None:
        if not self.watching:
            self.watching = True
            atexit.register(self.save_changed)

    def save(self, fig, kind: str, every: float = 0.0) -> None:
        """Write ``fig`` now, unless it was written less than ``every`` seconds ago."""
        if self.broken or _in_notebook():
            return
        if fig not in self.files:
            self.count += 1
            folder = Path(os.environ.get("SHALLOWLAB_FIGURES") or "figures")
            shown = folder / f"{_script_name()}-{self.count:02d}-{kind}.png"
            self.files[fig] = (Path.cwd() / shown, shown)
        elif time.monotonic() - self.saved_at.get(fig, -np.inf) < every:
            return  # left stale: the next save, or the one at exit, writes it
        path, shown = self.files[fig]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path)
        except OSError as e:
            self.broken = True
            print(f"d2l: cannot write figures to {path.parent} ({e.strerror or e}); set "
                  "SHALLOWLAB_FIGURES to a folder you can write to", file=sys.stderr)
            return
        fig.stale = False  # savefig leaves it stale; any later change to the figure sets it again
        if fig not in self.saved_at:
            print(f"figure saved to {shown}")
        self.saved_at[fig] = time.monotonic()

    def save_changed(self) -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        for num in plt.get_fignums() if plt is not None else []:
            fig = plt.figure(num)
            if fig.axes and (fig.stale or fig not in self.saved_at):
                self.save(fig, "figure")


_FIGURES = _FigureFiles()


def _script_name() -> str:
    name = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] not in ("", "-c", "-") else ""
    return name or "figure"


def use_svg_display() -> None:
    """In Jupyter, draw figures as SVG; elsewhere nothing (figures are written as PNG files)."""
    if _in_notebook():
        try:
            from matplotlib_inline import backend_inline
        except ImportError:  # IPython older than 7.23 carries no matplotlib_inline: keep PNG
            return
        backend_inline.set_matplotlib_formats("svg")


def set_figsize(figsize=(3.5, 2.5)) -> None:
    """The size, in inches, of the figures made from now on."""
    use_svg_display()
    _pyplot().rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend) -> None:
    """Labels, limits, scales, legend and a grid for ``axes``."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), figsize=(3.5, 2.5),
         axes=None):
    """Plot one or more curves: ``Y`` against ``X``, or ``X`` against its indices if no ``Y``.

    ``X`` and ``Y`` are each one sequence or a list of them. Without ``axes``, a script draws
    each call on a fresh figure, as each notebook cell does.
    """
    if legend is None:
        legend = []
    set_figsize(figsize)
    plt = _pyplot()
    if axes is None:
        if not _in_notebook() and plt.get_fignums() and plt.gcf() in _FIGURES.files:
            plt.figure()  # the current figure is a finished plot: start the next one
        axes = plt.gca()

    def has_one_axis(X):
        return (hasattr(X, "ndim") and X.ndim == 1
                or isinstance(X, list) and not hasattr(X[0], "__len__"))

    if has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
    _FIGURES.save(axes.figure, "plot")


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """A ``num_rows`` x ``num_cols`` grid of images (tensors or PIL images); returns the axes."""
    figsize = (num_cols * scale, num_rows * scale)
    fig, axes = _pyplot().subplots(num_rows, num_cols, figsize=figsize)
    axes = np.asarray(axes).flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(img.detach().cpu().numpy() if torch.is_tensor(img) else img)
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    _FIGURES.save(fig, "images")
    return axes


class Animator:
    """Curves that grow point by point, e.g. loss and accuracy after each epoch.

    In Jupyter each :meth:`add` redraws the figure in place (``IPython.display``); elsewhere it
    rewrites the figure's PNG, at most once a second (the last state is written at exit).
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1,
                 ncols=1, figsize=(3.5, 2.5)):
        if legend is None:
            legend = []
        use_svg_display()
        self.fig, self.axes = _pyplot().subplots(nrows, ncols, figsize=figsize)
        if nrows * ncols == 1:
            self.axes = [self.axes]
        self._config = (xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
        self.X, self.Y, self.fmts = None, None, fmts

    def config_axes(self) -> None:
        set_axes(self.axes[0], *self._config)

    def add(self, x, y) -> None:
        """Add the point ``(x, y_i)`` to curve ``i``, for each ``y_i`` of ``y`` that is not None."""
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        self.axes[0].cla()
        for xs, ys, fmt in zip(self.X, self.Y, self.fmts):
            self.axes[0].plot(xs, ys, fmt)
        self.config_axes()
        if _in_notebook():
            from IPython import display

            display.display(self.fig)
            display.clear_output(wait=True)
        else:
            _FIGURES.save(self.fig, "animator", every=1.0)


class Timer:
    """Records the durations of several runs: ``start()``, ``stop()``, then their statistics."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self.tik = time.perf_counter()

    def stop(self) -> float:
        """Record and return the seconds since the last ``start()``."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        return sum(self.times)

    def cumsum(self) -> list[float]:
        return np.array(self.times).cumsum().tolist()


# --- linear regression (3.2, 3.3) ---------------------------------------------------------


def synthetic_data(w, b, num_examples):
    """``y = X w + b + eps``, X ~ N(0, 1) (n, len(w)), eps ~ N(0, 0.01^2); returns X, y (n, 1)."""
    return synthetic.linear(w, b, num_examples, noise=0.01)


linreg = scratch.linreg  # y_hat = X w + b
squared_loss = scratch.squared_loss  # l = (y_hat - y)^2 / 2, per example
sgd = scratch.sgd  # p <- p - lr * p.grad / batch_size, then p.grad <- 0


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


# --- Fashion-MNIST (3.5) ------------------------------------------------------------------


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
    converted once; a ``resize`` is applied to each batch as it is drawn, so 224 x 224 images
    cost no memory beyond a batch.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, resize=None) -> None:
        self.data, self.targets = images, labels
        self.classes = list(fashion_mnist.CLASS_NAMES)
        self.tensors = (images.unsqueeze(1).float().div_(255), labels)  # (N, 1, 28, 28), (N,)
        if resize and not isinstance(resize, int) and len(resize) != 2:
            raise ValueError(f"resize must be a size or (height, width), got {resize!r}")
        self.size = None if not resize else (resize, resize) if isinstance(resize, int) \
            else tuple(resize)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        return self.transform(self.tensors[0][i].unsqueeze(0))[0], int(self.targets[i])

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, 1, H, W): bilinear, antialiased when shrinking, like PIL's."""
        if self.size is None or tuple(X.shape[-2:]) == self.size:
            return X
        return F.interpolate(X, size=self.size, mode="bilinear", align_corners=False,
                             antialias=True)


def load_data_fashion_mnist(batch_size, resize=None):
    """``(train_iter, test_iter)`` over Fashion-MNIST, the training set reshuffled every pass.

    Batches are ``[X, y]``: X float32 (B, 1, 28, 28) in [0, 1] (or ``resize`` high and wide),
    y int64 (B,). The files are found as by ``shallowlab data`` (``$SHALLOWLAB_DATA``, the
    cache, ``/usr/share/datasets/fashion-mnist``), and downloaded only when absent.
    """
    ds = fashion_mnist.load()
    train = FashionMNISTSplit(ds.train_images, ds.train_labels, resize)
    test = FashionMNISTSplit(ds.test_images, ds.test_labels, resize)
    return TensorLoader(train, batch_size, shuffle=True), TensorLoader(test, batch_size, False)


# --- training and evaluation (3.6, 4.4) -----------------------------------------------------


class TrainingCheckError(ShallowlabError, AssertionError):
    """A ``train_ch3`` result outside the book's bounds (an ``AssertionError``, as the book's)."""


def _device_of(net) -> torch.device | None:
    """Where a module's parameters live, if not on the CPU; None keeps the batches where they are.

    A function (the book's scratch nets) has no parameters to ask, so it stays on the CPU.
    """
    if isinstance(net, nn.Module):
        p = next(net.parameters(), None)
        if p is not None and p.device.type != "cpu":
            return p.device
    return None


def _to(device: torch.device | None, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tensors if device is None else tuple(t.to(device) for t in tensors)


def _correct(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return (y_hat.type(y.dtype) == y).type(y.dtype).sum()


def accuracy(y_hat, y) -> float:
    """The number (not the fraction) of rows of ``y_hat`` whose arg-max is the label ``y``."""
    return float(_correct(y_hat, y))


class Accumulator:
    """Running sums of ``n`` quantities."""

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


@torch.no_grad()
def evaluate_accuracy(net, data_iter) -> float:
    """The fraction of correct predictions of ``net`` over ``data_iter`` (in eval mode)."""
    if isinstance(net, nn.Module):
        net.eval()
    device, hits, n = _device_of(net), 0, 0
    for X, y in data_iter:
        X, y = _to(device, X, y)
        hits = hits + _correct(net(X), y)
        n += y.numel()
    return float(hits) / n


@torch.no_grad()
def evaluate_loss(net, data_iter, loss) -> float:
    """The mean of ``loss(net(X), y)`` over every element of every batch (y shaped as net(X))."""
    device, total, n = _device_of(net), 0, 0
    for X, y in data_iter:
        X, y = _to(device, X, y)
        out = net(X)
        l = loss(out, y.reshape(out.shape))
        total, n = total + l.sum(), n + l.numel()
    return float(total) / n


def train_epoch_ch3(net, train_iter, loss, updater) -> tuple[float, float]:
    """One pass over ``train_iter``; returns the mean training loss and accuracy.

    ``loss`` returns one loss per example (or their mean). With a ``torch.optim.Optimizer`` a
    step is ``zero_grad(); l.mean().backward(); step()``; any other ``updater`` is called as
    ``updater(batch_size)`` after ``l.sum().backward()``, as the book's ``sgd`` wants. The
    losses are summed on the tensor side and read once; a mean-reduced loss counts as its mean
    times the batch size, so the result is a mean per example either way.
    """
    if isinstance(net, nn.Module):
        net.train()
    device, loss_sum, hits, n = _device_of(net), 0, 0, 0
    for X, y in train_iter:
        X, y = _to(device, X, y)
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        with torch.no_grad():
            loss_sum = loss_sum + (l.sum() if l.dim() else l * X.shape[0])
            hits = hits + _correct(y_hat, y)
        n += y.numel()
    return float(loss_sum) / n, float(hits) / n


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater) -> None:
    """Train for ``num_epochs``, printing and plotting train loss, train and test accuracy.

    Then the book's checks: the last epoch's train loss below 0.5 and both accuracies in
    (0.7, 1]; otherwise a :class:`TrainingCheckError`.
    """
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                        legend=["train loss", "train acc", "test acc"])
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        # printed before the figure: in a notebook the next redraw clears the cell's output
        print(f"epoch {epoch + 1}/{num_epochs}: train loss {train_metrics[0]:.4f}, "
              f"train acc {train_metrics[1]:.3f}, test acc {test_acc:.3f}", flush=True)
        animator.add(epoch + 1, train_metrics + (test_acc,))
    _FIGURES.save(animator.fig, "animator")
    train_loss, train_acc = train_metrics
    for name, value, ok, bound in (
            ("train loss", train_loss, train_loss < 0.5, "below 0.5"),
            ("train accuracy", train_acc, 0.7 < train_acc <= 1, "in (0.7, 1]"),
            ("test accuracy", test_acc, 0.7 < test_acc <= 1, "in (0.7, 1]")):
        if not ok:
            raise TrainingCheckError(
                f"train_ch3: the {name} after {num_epochs} epochs is {value:.4g}, not {bound} "
                "as the book expects; train for more epochs, or check the learning rate, the "
                "loss and the net")


def predict_ch3(net, test_iter, n=6) -> None:
    """Show the first ``n`` test images of the first batch, titled true / predicted label."""
    X, y = next(iter(test_iter))
    with torch.no_grad():
        y_hat = net(*_to(_device_of(net), X))
    trues = get_fashion_mnist_labels(y)
    preds = get_fashion_mnist_labels(argmax(y_hat, axis=1))
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(reshape(X[0:n], (n, 28, 28)), 1, n, titles=titles[0:n])


# --- devices and the tensor aliases the chapters call ---------------------------------------


def try_gpu(i: int = 0) -> torch.device:
    """GPU ``i`` if there is one, else the CPU."""
    return torch.device(f"cuda:{i}") if torch.cuda.device_count() >= i + 1 \
        else torch.device("cpu")


def try_all_gpus() -> list[torch.device]:
    """Every GPU, or ``[cpu]`` if there is none."""
    return [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())] \
        or [torch.device("cpu")]


nn_Module = nn.Module
ones, zeros, tensor, arange, meshgrid = torch.ones, torch.zeros, torch.tensor, torch.arange, \
    torch.meshgrid
sin, sinh, cos, cosh, tanh = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh
linspace, exp, log, normal, rand, randn = torch.linspace, torch.exp, torch.log, torch.normal, \
    torch.rand, torch.randn
matmul, int32, float32, concat, stack, abs, eye = torch.matmul, torch.int32, torch.float32, \
    torch.cat, torch.stack, torch.abs, torch.eye


def numpy(x, *args, **kwargs):
    return x.detach().cpu().numpy(*args, **kwargs)


def size(x, *args, **kwargs):
    return x.numel(*args, **kwargs)


def reshape(x, *args, **kwargs):
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    return x.to(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    return x.sum(*args, **kwargs)


def reduce_mean(x, *args, **kwargs):
    return x.mean(*args, **kwargs)


def argmax(x, *args, **kwargs):
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    return x.type(*args, **kwargs)


def transpose(x, *args, **kwargs):
    return x.t(*args, **kwargs)
