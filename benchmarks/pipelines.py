"""The pipelines that train one model, each as its users write it: (train one epoch, test acc).

All train with the book's settings (batch 256, SGD lr 0.1, cross-entropy with
``reduction="none"`` and the mean's gradient, weights N(0, 0.01), biases 0) on Fashion-MNIST:

* ``shallowlab``: as ``shallowlab run`` holds them, the images converted to float32 once
  (``to_unit``), shuffled batches gathered by ``Batches``; ``fit(make_step(...), epochs=1)``
  once per epoch, the default engine (the fused step);
* ``shallowlab-bf16``: the same with ``precision="bf16"``, forced: the large products in
  bfloat16 even on a CPU without bf16 instructions (where ``shallowlab run --precision bf16``
  trains in fp32), the training images held in bf16 as such a run holds them (``held_for``);
* ``autograd``: the same as ``shallowlab`` with ``make_step(..., "autograd")``, the book's step;
* ``book``: the book's own loaders and ``train_epoch_ch3`` (:mod:`benchmarks.book`);
* ``sklearn``: scikit-learn's ``MLPClassifier`` (same layers, batch, learning rate, plain SGD,
  float32; its own Glorot initialisation), one ``partial_fit`` per epoch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmarks.book import book_loaders, evaluate_accuracy, train_epoch_ch3
from benchmarks.common import BATCH, LR, SEED, STD
from shallowlab.core.loop import evaluate, fit
from shallowlab.core.steps import held_for, make_step
from shallowlab.data.batches import Batches, to_unit
from shallowlab.models import nets

EVAL_BATCH = 4096  # evaluation keeps no graph, so big batches only save per-batch overhead
MODELS = {  # the book's nets, written as d2l writes them; the same as shallowlab.models.nets'
    "softmax": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
    "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                                 nn.Linear(256, 10)),
}
BUILDERS = {"softmax": nets.softmax_regression, "mlp": lambda: nets.mlp(784, (256,), 10)}
HIDDEN = {"softmax": (), "mlp": (256,)}

Pipeline = tuple[Callable[[], object], Callable[[], float]]


def initialised(model: nn.Module) -> nn.Module:
    """Weights N(0, 0.01^2), biases 0, from the same seed for every torch pipeline."""
    return nets.init_(model, "normal", STD, generator=torch.Generator().manual_seed(SEED))


def train_one_epoch(step, train: Batches) -> None:
    fit(step, train, epochs=1, progress=False, log=lambda s: None)


def shallowlab_pipeline(name: str, ds, engine: str = "auto", precision: str = "fp32"
                        ) -> Pipeline:
    model = initialised(BUILDERS[name]())
    loss = nn.CrossEntropyLoss(reduction="none")  # fit's contract, as the book's: one per example
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    step = make_step(model, loss, optimizer, engine, precision)
    train = Batches(held_for(step, to_unit(ds.train_images)), ds.train_labels, BATCH,
                    generator=torch.Generator().manual_seed(SEED + 1))
    test = Batches(to_unit(ds.test_images), ds.test_labels, EVAL_BATCH, shuffle=False)
    return (functools.partial(train_one_epoch, step, train),
            lambda: evaluate(model, loss, test)[1])


def book_pipeline(name: str, ds) -> Pipeline:
    torch.manual_seed(SEED + 1)  # the DataLoader's shuffle draws from the global generator
    train_iter, test_iter = book_loaders(ds, BATCH)
    net = initialised(MODELS[name]())
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    return (lambda: train_epoch_ch3(net, train_iter, loss, trainer),
            lambda: evaluate_accuracy(net, test_iter))


def sklearn_pipeline(name: str, ds) -> Pipeline:
    """scikit-learn's ``MLPClassifier``: the same layers, batch, learning rate and plain SGD.

    ``partial_fit`` is one shuffled pass over the data; float32 in, float32 weights. Its own
    initialisation (Glorot), as a user of it gets.
    """
    from sklearn.neural_network import MLPClassifier

    X = ds.train_images.reshape(len(ds.train_images), -1).numpy().astype(np.float32) / 255
    y = ds.train_labels.numpy()
    X_test = ds.test_images.reshape(len(ds.test_images), -1).numpy().astype(np.float32) / 255
    model = MLPClassifier(hidden_layer_sizes=HIDDEN[name], activation="relu", solver="sgd",
                          batch_size=BATCH, learning_rate_init=LR, momentum=0.0, alpha=0.0,
                          shuffle=True, random_state=SEED)
    classes = np.arange(10)
    return (lambda: model.partial_fit(X, y, classes=classes),
            lambda: float((model.predict(X_test) == ds.test_labels.numpy()).mean()))


PRECISION = {"shallowlab-bf16": "bf16"}  # of the products; every other pipeline's is fp32
PIPELINES = {"shallowlab": shallowlab_pipeline,
             "shallowlab-bf16": functools.partial(shallowlab_pipeline, precision="bf16"),
             "autograd": functools.partial(shallowlab_pipeline, engine="autograd"),
             "book": book_pipeline, "sklearn": sklearn_pipeline}
