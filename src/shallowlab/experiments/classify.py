"""Train a classifier on Fashion-MNIST: the shared body of the softmax and mlp experiments."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from shallowlab import nets, plots
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches
from shallowlab.experiments.base import Log
from shallowlab.runs import RunDir, atomic_write
from shallowlab.train import fit, resolve_device

EVAL_BATCH = 4096  # evaluation keeps no graph, so big batches only save per-batch overhead
SHOWN = 18  # test images drawn in predictions.png


def common_defaults() -> dict:
    """The book's settings for chapter 3 and 4 classifiers."""
    return {"epochs": 10, "lr": 0.1, "batch_size": 256, "init": "normal", "init_std": 0.01,
            "weight_decay": 0.0, "label_smoothing": 0.0, "seed": 0, "device": "auto",
            "data_dir": None}


def to_float(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 in [0, 1] on ``device``, converted once per run."""
    return images.to(device).float().div_(255)


def train_classifier(config: dict, run: RunDir, log: Log,
                     build: Callable[[dict], nn.Module], title: str) -> dict:
    """Build, initialise and train ``build(config)``; save history, weights and figures."""
    device = resolve_device(config["device"])
    data = fashion_mnist.load(config["data_dir"])
    log(f"data: {data.source}  device: {device}")

    seed = config["seed"]
    torch.manual_seed(seed)  # dropout masks draw from the global generator
    model = nets.init_(build(config), config["init"], config["init_std"],
                       generator=torch.Generator().manual_seed(seed)).to(device)
    order = torch.Generator().manual_seed(seed + 1)

    X_test, y_test = to_float(data.test_images, device), data.test_labels.to(device)
    train = Batches(to_float(data.train_images, device), data.train_labels.to(device),
                    config["batch_size"], generator=order)
    test = Batches(X_test, y_test, EVAL_BATCH, shuffle=False)
    loss = nn.CrossEntropyLoss(label_smoothing=config["label_smoothing"])
    optimizer = torch.optim.SGD(nets.decay_groups(model, config["weight_decay"]), lr=config["lr"])

    history = fit(model, loss, optimizer, train, epochs=config["epochs"], test=test, log=log,
                  on_epoch_end=run.write_history)
    run.save_weights(model)

    atomic_write(run / "curves.png", plots.png_bytes(plots.curves(history, title)))
    with torch.inference_mode():
        model.eval()
        predicted = model(X_test[:SHOWN]).argmax(1)
    atomic_write(run / "predictions.png", plots.png_bytes(plots.predictions(
        X_test[:SHOWN], y_test[:SHOWN].tolist(), predicted.tolist(), fashion_mnist.CLASS_NAMES)))
    return {"device": str(device), "data": str(data.source)}
