"""Train a classifier on Fashion-MNIST: the shared body of the softmax and mlp experiments.

``--impl concise`` trains the ``torch.nn`` model with ``torch.optim.SGD`` and
``nn.CrossEntropyLoss``; ``--impl scratch`` trains its twin from
:mod:`shallowlab.models.scratch` with the hand-written loss and ``sgd``. Both draw their initial
weights from the same seeded generator in the same order, so with the same seed they start from
the same parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from shallowlab.core import metrics, schedules
from shallowlab.core.callbacks import LrSchedule
from shallowlab.core.devices import resolve_device, slow_bf16
from shallowlab.core.fused import SMALL
from shallowlab.core.loop import fit
from shallowlab.core.steps import held_for, make_step, resolve_engine
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches, to_unit
from shallowlab.errors import ConfigError
from shallowlab.figures import plots
from shallowlab.models import nets, scratch
from shallowlab.runs.checkpoints import CHECKPOINT, CheckpointEachEpoch, Checkpointer
from shallowlab.runs.folder import RunDir
from shallowlab.runs.tensorboard import TensorBoardLogger
from shallowlab.term import Log

EVAL_BATCH = 4096  # evaluation keeps no graph, so big batches only save per-batch overhead
SHOWN = 18  # test images drawn in predictions.png
PROBE = 256  # training examples whose gradient TensorBoard shows each epoch
TOP_CONFUSED = 5  # the summary's most confused pairs


def common_defaults() -> dict:
    """The book's settings for chapter 3 and 4 classifiers."""
    return {"impl": "concise", "epochs": 10, "lr": 0.1, "batch_size": 256, "init": "normal",
            "init_std": 0.01, "weight_decay": 0.0, "label_smoothing": 0.0, "seed": 0,
            "device": "auto", "engine": "auto", "precision": "fp32", "data_dir": None,
            "tensorboard": False}


@dataclass(frozen=True)
class Recipe:
    """How a run trains beyond its settings (the mlp experiment's ``--fast`` recipe).

    SGD with ``momentum``; the learning rate follows :func:`shallowlab.core.schedules.warmup_cosine`
    step by step, peaking at the ``lr`` setting after the first ``warmup`` of the run; the
    batch size starts at the ``batch_size`` setting and doubles ``doublings`` times
    (:func:`shallowlab.core.schedules.doubling_batch_size`); with ``standardize`` the pixels are
    shifted and scaled to mean 0 and variance 1 over the training images.
    """

    momentum: float = 0.0
    warmup: float = 0.0
    doublings: int = 0
    standardize: bool = False


def check_scratch(config: dict) -> None:
    """The scratch models know the book's initialisations and activation only, and train by
    autograd (the fused step is for the concise models)."""
    if config["impl"] != "scratch":
        return
    if config["engine"] == "fused":
        raise ConfigError("--engine fused needs --impl concise; the scratch models train by "
                          "autograd (the point of them)")
    if config["init"] not in ("normal", "zeros"):
        raise ConfigError(f"--init {config['init']} needs --impl concise; the scratch models "
                          "start from normal or zeros")
    if config.get("activation", "relu") != "relu":
        raise ConfigError(f"--activation {config['activation']} needs --impl concise; the "
                          "scratch MLP uses relu")


def image_sets(data: fashion_mnist.FashionMNIST, device: torch.device,
               standardize: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The training and test images as float32 in [0, 1] on ``device``, converted once
    (:func:`to_unit`); with ``standardize`` shifted and scaled to mean 0 and variance 1 by the
    training images' statistics, ``x <- (x / 255 - mean) / std``.

    Held as float32 (188 MB) rather than as uint8 converted batch by batch: the conversion
    costs more than the bytes it saves (``benchmarks.held``, docs/speed.md).
    """
    X_train, X_test = to_unit(data.train_images.to(device)), to_unit(data.test_images.to(device))
    if standardize:
        mean, std = X_train.mean(), X_train.std()
        for X in (X_train, X_test):
            X.sub_(mean).div_(std)
    return X_train, X_test


def concise_setup(model: nn.Module, config: dict, momentum: float = 0.0):
    """The loss (one value per example) and optimizer of the concise track."""
    loss = nn.CrossEntropyLoss(reduction="none", label_smoothing=config["label_smoothing"])
    return loss, torch.optim.SGD(nets.decay_groups(model, config["weight_decay"]),
                                 lr=config["lr"], momentum=momentum)


def scratch_setup(model, config: dict):
    """The scratch loss, ``cross_entropy + wd * sum l2_penalty(W)``, and the updater ``sgd``."""
    weights = [p for name, p in model.state_dict().items() if name.startswith("W")]
    smoothing, wd, lr = config["label_smoothing"], config["weight_decay"], config["lr"]

    def loss(O, y):
        l = scratch.cross_entropy(O, y, smoothing)
        return l + wd * sum(scratch.l2_penalty(W) for W in weights) if wd else l

    params = model.parameters()
    return loss, lambda batch_size: scratch.sgd(params, lr, batch_size)


@dataclass
class Prepared:
    """A classification run ready to train: its step, data, callbacks and where it resumes."""

    step: object  # its model is the run's model
    train: Batches
    test: Batches
    callbacks: list
    metric: Callable  # the count of right predictions: the scratch track's own for scratch
    history: list[dict]
    partial: dict | None
    extra: dict  # what the summary records of how it ran


def prepare_run(config: dict, run: RunDir, log: Log,
                build: Callable[[dict, torch.Generator], object],
                recipe: Recipe | None = None) -> Prepared:
    """Build ``build(config, generator)``, its loss, updater and step, the Fashion-MNIST
    batches and the callbacks; restore the run's checkpoint if it has one.

    ``recipe`` (concise models only) adds momentum, schedules and standardized inputs; None
    trains as the book does.
    """
    device = resolve_device(config["device"])
    data = fashion_mnist.load(config["data_dir"])
    log(f"data: {data.source}  device: {device}  impl: {config['impl']}")
    seed = config["seed"]
    torch.manual_seed(seed)  # nn.Dropout and dropout_layer draw from the global generator
    model = build(config, torch.Generator().manual_seed(seed)).to(device)
    if recipe is None:
        setup = concise_setup if config["impl"] == "concise" else scratch_setup
        loss, updater = setup(model, config)
    else:
        loss, updater = concise_setup(model, config, recipe.momentum)
    precision = _precision(config["precision"], device, log)
    step = _step(model, loss, updater, config["engine"], precision, log)

    X_train, X_test = image_sets(data, device, recipe is not None and recipe.standardize)
    X_train = held_for(step, X_train)  # bf16 for a bf16 fused step; the test set stays fp32
    order = torch.Generator().manual_seed(seed + 1)
    train = Batches(X_train, data.train_labels.to(device), _batch_size(config, recipe),
                    generator=order)
    test = Batches(X_test, data.test_labels.to(device), EVAL_BATCH, shuffle=False)

    optimizer = updater if isinstance(updater, torch.optim.Optimizer) else None
    checkpointer = Checkpointer(run, model, optimizer, {"order": order})
    history, partial = checkpointer.restore()  # [], None unless this is a resumed run
    if partial:
        log(f"resuming in epoch {partial.epoch} after batch {partial.batches_done} from "
            f"{run / CHECKPOINT}")
    elif history:
        log(f"resuming after epoch {len(history)} from {run / CHECKPOINT}")
    callbacks = [CheckpointEachEpoch(run, checkpointer, lambda: {"order": train.pass_state}, log)]
    if recipe is not None:
        callbacks.append(LrSchedule(updater, functools.partial(
            schedules.warmup_cosine, peak=config["lr"], warmup=recipe.warmup)))
    if config.get("tensorboard"):
        probe = (train.X[:PROBE].float(), train.y[:PROBE])  # fp32, as the model computes
        callbacks.append(TensorBoardLogger(run / "tensorboard", model, loss, probe, optimizer,
                                           config))
    extra = {"device": str(device), "engine": step.engine, "precision": precision,
             "data": str(data.source)}
    metric = scratch.correct if config["impl"] == "scratch" else metrics.correct
    return Prepared(step, train, test, callbacks, metric, history, partial, extra)


def _precision(asked: str, device: torch.device, log: Log) -> str:
    """The precision a run computes in: ``bf16`` only where it is faster than fp32, else fp32,
    said in the log (the run's config keeps what was asked, its summary what ran)."""
    if asked == "bf16":
        reason = slow_bf16(device)
        if reason is None:
            return "bf16"
        log(f"--precision bf16: {reason}, so bf16 would be slower here; training in fp32")
    return "fp32"


def _step(model, loss, updater, engine: str, precision: str, log: Log):
    """The training step ``--engine`` asks for, said in the log."""
    try:
        name, reason = resolve_engine(model, loss, updater, engine)
    except ValueError as e:  # --engine fused where it does not apply
        raise ConfigError(f"--engine fused: {e}; use --engine auto or autograd") from None
    step = make_step(model, loss, updater, name, precision)
    narrow = sum(d == torch.float32 for d in getattr(step, "dtypes", ()))
    log(f"engine: {name}" + (f" (the fused step does not apply: {reason})" if reason else "")
        + (", products in bf16" if precision == "bf16" else "")
        + (f" but for {narrow} layer{'s' * (narrow > 1)} under {SMALL} wide, in fp32"
           if precision == "bf16" and narrow else ""))
    return step


def _batch_size(config: dict, recipe: Recipe | None):
    """The batch size, or with a recipe's doublings the plan of one per epoch."""
    if recipe is None or not recipe.doublings:
        return config["batch_size"]
    return functools.partial(schedules.doubling_batch_size, epochs=config["epochs"],
                             first=config["batch_size"], doublings=recipe.doublings)


def train_run(prepared: Prepared, config: dict, log: Log) -> list[dict]:
    """Train a prepared run to ``config["epochs"]``; its history."""
    p = prepared
    return fit(p.step, p.train, epochs=config["epochs"], test=p.test, metric=p.metric, log=log,
               history=p.history, callbacks=p.callbacks, resume=p.partial)


def train_classifier(config: dict, run: RunDir, log: Log,
                     build: Callable[[dict, torch.Generator], object], title: str,
                     recipe: Recipe | None = None):
    """Prepare, train, save the weights and draw the figures of a classification run.

    Returns the summary's extra figures and the run (its trained ``step.model``, its data).
    The extra figures include the test set's confusion matrix (``confusion``: counts, rows
    true, columns predicted) and its ``most_confused`` pairs, drawn as ``confusion.png``.
    """
    prepared = prepare_run(config, run, log, build, recipe)
    history = train_run(prepared, config, log)
    model, test = prepared.step.model, prepared.test
    run.save_weights(model)
    run.save_figure("curves.png", plots.curves, history, title)
    with torch.inference_mode():
        model.eval()
        X, y = test.X[:SHOWN], test.y[:SHOWN]
        predicted = model(X).argmax(1)
    run.save_figure("predictions.png", plots.predictions, X, y.tolist(), predicted.tolist(),
                    fashion_mnist.CLASS_NAMES)
    matrix = confusion_of(model, test)
    run.save_figure("confusion.png", plots.confusion, matrix, fashion_mnist.CLASS_NAMES,
                    f"{title}: test set confusion")
    prepared.extra.update(confusion=matrix, most_confused=metrics.most_confused(
        matrix, fashion_mnist.CLASS_NAMES, TOP_CONFUSED))
    return prepared.extra, prepared


@torch.inference_mode()
def confusion_of(model, test: Batches) -> list[list[int]]:
    """The model's confusion matrix on the test set (rows true class, columns predicted),
    summed over the batches on the device and read once at the end."""
    was_training = model.training
    model.eval()
    classes = len(fashion_mnist.CLASS_NAMES)
    matrix = sum(metrics.confusion_matrix(model(X).argmax(1), y, classes) for X, y in test)
    model.train(was_training)
    return matrix.tolist()
