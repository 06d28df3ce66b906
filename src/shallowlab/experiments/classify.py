"""Train a classifier on Fashion-MNIST: the shared body of the softmax and mlp experiments.

``--impl concise`` trains the ``torch.nn`` model with ``torch.optim.SGD`` and
``nn.CrossEntropyLoss``; ``--impl scratch`` trains its twin from :mod:`shallowlab.scratch` with
the hand-written loss and ``sgd``. Both draw their initial weights from the same seeded
generator in the same order, so with the same seed they start from the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from shallowlab import nets, plots, schedules, scratch
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches
from shallowlab.errors import ConfigError
from shallowlab.experiments.base import Log
from shallowlab.runs import CHECKPOINT, Checkpointer, RunDir, atomic_write
from shallowlab.train import fit, resolve_device, resolve_engine

EVAL_BATCH = 4096  # evaluation keeps no graph, so big batches only save per-batch overhead
SHOWN = 18  # test images drawn in predictions.png


def common_defaults() -> dict:
    """The book's settings for chapter 3 and 4 classifiers."""
    return {"impl": "concise", "epochs": 10, "lr": 0.1, "batch_size": 256, "init": "normal",
            "init_std": 0.01, "weight_decay": 0.0, "label_smoothing": 0.0, "seed": 0,
            "device": "auto", "engine": "auto", "data_dir": None}


@dataclass(frozen=True)
class Schedule:
    """How a run trains beyond its settings (the mlp experiment's ``--fast`` recipe).

    SGD with ``momentum``; the learning rate follows :func:`shallowlab.schedules.warmup_cosine`
    step by step, peaking at the ``lr`` setting after the first ``warmup`` of the run; the
    batch size starts at the ``batch_size`` setting and doubles ``doublings`` times
    (:func:`shallowlab.schedules.doubling_batch_size`); with ``standardize`` the pixels are
    shifted and scaled to mean 0 and variance 1 over the training images.
    """

    momentum: float = 0.0
    warmup: float = 0.0
    doublings: int = 0
    standardize: bool = False


class ScheduledBatches:
    """``batches`` with the :class:`Schedule`'s batch size and per-step learning rate.

    Each pass is one epoch: before step ``i`` of ``n`` of epoch ``e`` it sets every group's
    ``lr`` to ``warmup_cosine((e - 1 + i / n) / epochs)``, and a finished pass moves on to
    the next epoch's batch size. Everything is computed from the epoch number and the step,
    so a resumed run (``start(epoch)``) trains with exactly the values it would have.
    """

    def __init__(self, batches: Batches, optimizer: torch.optim.Optimizer, config: dict,
                 schedule: Schedule) -> None:
        self.batches, self.optimizer, self.schedule = batches, optimizer, schedule
        self.epochs, self.peak, self.first = config["epochs"], config["lr"], config["batch_size"]
        self.start(1)

    def start(self, epoch: int) -> None:
        """Get ready to train ``epoch`` (1-based): its batch size."""
        self.epoch = epoch
        self.batches.batch_size = schedules.doubling_batch_size(
            epoch, self.epochs, self.first, self.schedule.doublings)

    @property
    def pass_state(self) -> torch.Tensor | None:
        return self.batches.pass_state

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.batches)
        for i, batch in enumerate(self.batches):
            progress = (self.epoch - 1 + i / n) / self.epochs
            lr = schedules.warmup_cosine(progress, self.peak, self.schedule.warmup)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            yield batch
        self.start(self.epoch + 1)


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


def to_float(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 in [0, 1] on ``device``, converted once per run."""
    return images.to(device).float().div_(255)


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


def train_classifier(config: dict, run: RunDir, log: Log,
                     build: Callable[[dict, torch.Generator], object], title: str,
                     schedule: Schedule | None = None):
    """Build ``build(config, generator)``, train it on Fashion-MNIST; save history and figures.

    ``schedule`` (concise models only) adds momentum, schedules and standardized inputs; None
    trains as the book does. Returns the summary's extra figures and the trained model.
    """
    device = resolve_device(config["device"])
    data = fashion_mnist.load(config["data_dir"])
    log(f"data: {data.source}  device: {device}  impl: {config['impl']}")

    seed = config["seed"]
    torch.manual_seed(seed)  # nn.Dropout and dropout_layer draw from the global generator
    model = build(config, torch.Generator().manual_seed(seed)).to(device)
    if schedule is None:
        setup = concise_setup if config["impl"] == "concise" else scratch_setup
        loss, updater = setup(model, config)
    else:
        loss, updater = concise_setup(model, config, schedule.momentum)

    X_train, X_test = to_float(data.train_images, device), to_float(data.test_images, device)
    if schedule is not None and schedule.standardize:  # x <- (x - mean) / std, train's stats
        mean, std = X_train.mean(), X_train.std()
        for X in (X_train, X_test):
            X.sub_(mean).div_(std)
    y_test = data.test_labels.to(device)
    order = torch.Generator().manual_seed(seed + 1)
    train = Batches(X_train, data.train_labels.to(device), config["batch_size"], generator=order)
    test = Batches(X_test, y_test, EVAL_BATCH, shuffle=False)
    if schedule is not None:
        train = ScheduledBatches(train, updater, config, schedule)

    try:
        engine, reason = resolve_engine(model, loss, updater, config["engine"])
    except ValueError as e:  # --engine fused where it does not apply
        raise ConfigError(f"--engine fused: {e}; use --engine auto or autograd") from None
    log(f"engine: {engine}" + (f" (the fused step does not apply: {reason})" if reason else ""))
    optimizer = updater if isinstance(updater, torch.optim.Optimizer) else None
    checkpoint = Checkpointer(run, model, optimizer, {"order": order})
    history, partial = checkpoint.restore()  # [], None unless this is a resumed run
    if partial:
        log(f"resuming in epoch {partial['epoch']} after step {partial['step']} from "
            f"{run / CHECKPOINT}")
    elif history:
        log(f"resuming after epoch {len(history)} from {run / CHECKPOINT}")
    if isinstance(train, ScheduledBatches):  # the epoch the run goes on with
        train.start(partial["epoch"] if partial else len(history) + 1)

    def save(history: list[dict]) -> None:
        checkpoint.save(history)  # first: a history.json never runs ahead of the checkpoint
        run.write_history(history)

    def save_interrupted(history: list[dict], partial: dict) -> None:
        # the order generator as it was when this epoch's order was drawn, to draw it again
        checkpoint.save(history, partial, {"order": train.pass_state})
        log(f"interrupted: checkpoint at epoch {partial['epoch']}, step {partial['step']}; "
            f"continue with --resume {run.path}")

    history = fit(model, loss, updater, train, epochs=config["epochs"], test=test, log=log,
                  history=history, on_epoch_end=save, engine=engine,
                  on_interrupt=save_interrupted, resume=partial)
    run.save_weights(model)

    atomic_write(run / "curves.png", plots.png_bytes(plots.curves(history, title)))
    with torch.inference_mode():
        model.eval()
        predicted = model(X_test[:SHOWN]).argmax(1)
    atomic_write(run / "predictions.png", plots.png_bytes(plots.predictions(
        X_test[:SHOWN], y_test[:SHOWN].tolist(), predicted.tolist(), fashion_mnist.CLASS_NAMES)))
    return {"device": str(device), "engine": engine, "data": str(data.source)}, model
