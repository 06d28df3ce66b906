"""The book's API on shallowlab, for both editions: ``from shallowlab import d2l``.

Two APIs live here side by side, their names disjoint but for shared helpers (``plot``,
``show_images``, ``Timer``, the devices, the tensor aliases), which keep one meaning:

* the Chinese edition's, d2l 0.17.6 (chapters 2-4): ``load_data_fashion_mnist``, ``train_ch3``,
  ``Animator``, ``sgd``, ... (:mod:`._data`, :mod:`._train`);
* the English edition's, d2l 1.0 (chapters 2.5-5): ``add_to_class``, ``HyperParameters``,
  ``ProgressBoard``, ``Module``, ``DataModule``, ``Trainer`` (:mod:`._oop`), and the
  chapters' ``SyntheticRegressionData``, ``LinearRegressionScratch``, ``SGD``,
  ``LinearRegression``, ``FashionMNIST``, ``Classifier``, ``SoftmaxRegression``
  (:mod:`._models`).

A thin facade: every name keeps the signature and the semantics of the ``d2l.torch`` one it
stands in for, so the code of *Dive into Deep Learning* runs with only its import line changed.
What differs is underneath:

* Fashion-MNIST comes from :mod:`shallowlab.data.fashion_mnist` (local files first, a download
  only when they are absent; no torchvision) and is held in memory as float32 tensors; a batch
  is one index slice of them, not 256 PIL conversions in worker processes (:mod:`._data`).
* Figures work everywhere: in Jupyter, ``Animator`` redraws in place as the book's does; in a
  script or an IDE every figure is also written as a PNG to ``./figures`` (or
  ``$SHALLOWLAB_FIGURES``) and its path printed once. IPython is imported only inside a
  notebook, pyplot only when ``d2l.plt`` or a figure is first asked for (:mod:`._figures`).
* ``Trainer.fit`` runs the book's loop (``training_step``, ``validation_step``, ``plot`` at
  the book's cadence) with no host read per batch, and the fused step where the model is the
  book's kind of classifier (:mod:`._oop`).
* Three extras the book does not have, for its sections on autograd and backpropagation:
  ``draw_graph`` (the autograd graph with every value and gradient, through Graphviz),
  ``record`` (keeps those values for it) and ``gradcheck`` (autograd against finite
  differences), from :mod:`shallowlab.graph`.
* ``train_ch3`` prints one line per epoch, and its sanity checks raise ``TrainingCheckError``
  (one line, and still an ``AssertionError``) instead of bare asserts; the chapter-3 trainers
  stay on the CPU unless the net's parameters live elsewhere, and then the batches follow them
  (:mod:`._train`).

Nothing else in shallowlab imports this package.
"""

import torch
from torch import nn

from shallowlab.core import lazy_dynamo
from shallowlab.core.timing import Timer
from shallowlab.d2l._data import (
    FashionMNISTSplit,
    TensorLoader,
    get_dataloader_workers,
    get_fashion_mnist_labels,
    load_array,
    load_data_fashion_mnist,
    synthetic_data,
)
from shallowlab.d2l._devices import cpu, gpu, num_gpus, try_all_gpus, try_gpu
from shallowlab.d2l._figures import (
    Animator,
    ProgressBoard,
    plot,
    set_axes,
    set_figsize,
    show_images,
    use_svg_display,
)
from shallowlab.d2l._figures import pyplot as _pyplot
from shallowlab.d2l._hyper import HyperParameters, add_to_class
from shallowlab.d2l._models import (
    SGD,
    Classifier,
    FashionMNIST,
    LinearRegression,
    LinearRegressionScratch,
    SoftmaxRegression,
    SyntheticRegressionData,
)
from shallowlab.d2l._oop import DataModule, Module, Trainer
from shallowlab.d2l._train import (
    Accumulator,
    TrainingCheckError,
    accuracy,
    evaluate_accuracy,
    evaluate_loss,
    predict_ch3,
    train_ch3,
    train_epoch_ch3,
)
from shallowlab.graph import draw_graph, gradcheck, record
from shallowlab.models import scratch

# The book's torch.optim.SGD steps without importing torch._dynamo (1.5-3 s) until something
# compiles: the same arithmetic, see shallowlab.core.lazy_dynamo.
lazy_dynamo.defer()

linreg = scratch.linreg  # y_hat = X w + b
squared_loss = scratch.squared_loss  # l = (y_hat - y)^2 / 2, per example
sgd = scratch.sgd  # p <- p - lr * p.grad / batch_size, then p.grad <- 0


def __getattr__(name: str):
    if name == "plt":  # d2l.plt: pyplot, imported when first asked for (see _figures.pyplot)
        return _pyplot()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The book's tensor aliases (the last lines of d2l/torch.py).
nn_Module = nn.Module
ones, zeros, tensor, arange, meshgrid = torch.ones, torch.zeros, torch.tensor, torch.arange, \
    torch.meshgrid
sin, sinh, cos, cosh, tanh = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh
linspace, exp, log, normal, rand, randn = torch.linspace, torch.exp, torch.log, torch.normal, \
    torch.rand, torch.randn
matmul, concat, stack, abs, eye = torch.matmul, torch.cat, torch.stack, torch.abs, torch.eye
int32, float32 = torch.int32, torch.float32


def _method(name: str):
    """``d2l.reshape(x, ...)`` is ``x.reshape(...)``: a tensor method as a function."""
    def call(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def numpy(x, *args, **kwargs):
    return x.detach().cpu().numpy(*args, **kwargs)


size, reshape, to = _method("numel"), _method("reshape"), _method("to")
reduce_sum, reduce_mean, argmax = _method("sum"), _method("mean"), _method("argmax")
astype, transpose = _method("type"), _method("t")


__all__ = [
    # d2l 1.0 (the English edition)
    "SGD", "Classifier", "DataModule", "FashionMNIST", "HyperParameters", "LinearRegression",
    "LinearRegressionScratch", "Module", "ProgressBoard", "SoftmaxRegression",
    "SyntheticRegressionData", "Trainer", "add_to_class", "cpu", "gpu", "num_gpus",
    # d2l 0.17 (the Chinese edition) and both
    "Accumulator", "Animator", "FashionMNISTSplit", "TensorLoader", "Timer",
    "TrainingCheckError", "abs", "accuracy", "arange", "argmax", "astype", "concat", "cos",
    "cosh", "evaluate_accuracy", "evaluate_loss", "exp", "eye", "float32",
    "get_dataloader_workers", "get_fashion_mnist_labels", "int32", "linreg", "linspace",
    "load_array", "load_data_fashion_mnist", "log", "matmul", "meshgrid", "nn_Module", "normal",
    "numpy", "ones", "plot", "predict_ch3", "rand", "randn", "reduce_mean", "reduce_sum",
    "reshape", "set_axes", "set_figsize", "sgd", "show_images", "sin", "sinh", "size",
    "squared_loss", "stack", "synthetic_data", "tanh", "tensor", "to", "train_ch3",
    "train_epoch_ch3", "transpose", "try_all_gpus", "try_gpu", "use_svg_display", "zeros",
    # extras beyond the book (docs/d2l.md): the graph of a computation, a gradient checker
    "draw_graph", "gradcheck", "record",
]
