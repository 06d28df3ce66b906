"""Dropout on the book's 784-256-256-10 MLP on Fashion-MNIST, against the same net without it.

Dropout (d2l 4.6), applied to each hidden layer's output while training only:

    ``h' = 0`` with probability p, else ``h / (1 - p)``,  so ``E[h'] = h``,

with p = 0.2 after the first hidden layer and 0.5 after the second, as the book. Training, as
the book: ReLU, weights from N(0, 0.01^2), SGD lr 0.5, batch 256, 10 epochs, cross-entropy;
``--impl scratch`` uses ``dropout_layer`` and ``scratch.MLP``, ``--impl concise`` ``nn.Dropout``.

The same network is trained twice, from the same initial weights on the same batch order:
with dropout and without (p = 0). What it shows is the generalisation gap, the accuracy on the
training set minus that on the test set, both measured in eval mode (no units dropped) after
training: dropout narrows it. The ``train_acc`` of the history is the book's running figure,
taken with dropout active, which understates the dropout net's real training accuracy.

Each training keeps its own run folder (``dropout/``, ``no-dropout/``: history, checkpoint,
weights, curves); the top-level ``history.json`` is the dropout net's, so the summary's final
and best accuracies are the book's headline figures.
"""

from __future__ import annotations

import json

from shallowlab.core.loop import evaluate
from shallowlab.data.batches import Batches
from shallowlab.experiments import mlp, title
from shallowlab.experiments.base import Experiment, Headline
from shallowlab.figures import plots
from shallowlab.runs.classifier import (
    EVAL_BATCH,
    check_scratch,
    common_defaults,
    train_classifier,
)
from shallowlab.runs.folder import RunDir

TITLE = title("dropout")
BOOK_ACC, BOOK_EPOCHS = 0.85, 10  # the book's test accuracy with dropout (0.2, 0.5)


def accuracy_on_train(model, train: Batches) -> float:
    """The model's accuracy on the whole training set in eval mode (no dropout), in fp32 (a
    bf16 run holds its training images in bf16)."""
    transform = train.transform or (lambda X: X)
    return evaluate(model, lambda O, y: O.new_zeros(len(y)),
                    Batches(train.X, train.y, EVAL_BATCH, shuffle=False,
                            transform=lambda X: transform(X).float()))[1]


def run(config, run_dir, log):
    nets = {"dropout": config["dropout"], "no-dropout": (0.0,)}
    results, extras = {}, {}
    for name, drop in nets.items():
        log(f"-- {name}: dropout {', '.join(f'{p:g}' for p in drop)}")
        sub = RunDir(run_dir / name)
        extras[name], prepared = train_classifier({**config, "dropout": drop}, sub, log,
                                                  mlp.build, f"{TITLE}: {name}")
        history = _history(sub)
        train_acc = accuracy_on_train(prepared.step.model, prepared.train)
        test_acc = history[-1]["test_acc"]
        results[name] = {"history": history, "train_acc": train_acc, "test_acc": test_acc,
                         "gap": train_acc - test_acc}
    run_dir.write_history(results["dropout"]["history"])

    for name, r in results.items():
        log(f"{name:>10}: train acc {r['train_acc']:.4f}  test acc {r['test_acc']:.4f}  "
            f"gap {r['gap']:+.4f}  (eval mode)")
    epochs = range(1, config["epochs"] + 1)
    panels = {metric: {f"{name} {split}": [h[f"{split}_{metric}"] for h in r["history"]]
                       for name, r in results.items() for split in ("train", "test")}
              for metric in ("loss", "acc")}
    run_dir.save_figure("dropout.png", plots.series_panels, epochs,
                        {"loss": panels["loss"],
                         "accuracy (train: with dropout active)": panels["acc"]},
                        "epoch", yscale="linear", title=f"{config['impl']}: {TITLE}")
    return {**extras["dropout"], "test_acc": results["dropout"]["test_acc"],
            "train_acc": results["dropout"]["train_acc"], "gap": results["dropout"]["gap"],
            "no_dropout_test_acc": results["no-dropout"]["test_acc"],
            "no_dropout_train_acc": results["no-dropout"]["train_acc"],
            "no_dropout_gap": results["no-dropout"]["gap"]}


def _history(run: RunDir) -> list[dict]:
    return json.loads((run / "history.json").read_text())


def headlines(summary: dict) -> list[Headline]:
    # Tolerance 0.02 at the book's 10 epochs: plain SGD at lr 0.5 moves the test accuracy by
    # ~0.01 from epoch to epoch, and the book's figure is read off one run's curve. A shorter
    # run (the quick one) is still climbing, ~0.01 an epoch at epoch 3 (0.82 measured there),
    # so it is held to 0.04 and says so in its name.
    epochs = summary["epochs"]
    if epochs >= BOOK_EPOCHS:
        return [Headline("dropout MLP test accuracy", summary["test_acc"], BOOK_ACC, 0.02)]
    return [Headline(f"dropout MLP test accuracy after {epochs} of the book's {BOOK_EPOCHS} "
                     "epochs", summary["test_acc"], BOOK_ACC, 0.04)]


QUESTION = 'Does dropout narrow the gap between training and test accuracy?'


def answer(s: dict) -> str:
    return (f"With dropout: {s['test_acc']:.1%} test accuracy and a training-test gap of "
            f"{100 * s['gap']:.1f} points; without: {s['no_dropout_test_acc']:.1%} and "
            f"{100 * s['no_dropout_gap']:.1f} points.")


EXPERIMENT = Experiment(
    "dropout", TITLE, {**common_defaults(), "lr": 0.5, "hidden": (256, 256),
                       "activation": "relu", "dropout": (0.2, 0.5)}, run, check_scratch,
    quick={"epochs": 3},
    lesson="Dropping hidden units at random while training narrows the gap between training "
           "and test accuracy.",
    headlines=headlines, footprint=mlp.footprint,
    question=QUESTION, answer=answer)
