"""Run answers about dropout and weight decay on a net that overfits (d2l en 5.6.2, 5.6.5;
zh 4.6.2, 4.6.5).

The book's 10 epochs on all 60000 images barely overfit: the training-test gaps are a point or
two (``shallowlab run dropout`` shows it), too little to tell what dropout does to them. Here
the book's dropout network is trained on few images for many epochs, so that without dropout
it learns its training images by heart:

- ``dropout-epochs``: 784-256-256-10, ReLU, on the first ``train_size`` training images of
  Fashion-MNIST, with the book's dropout (0.2 after the first hidden layer, 0.5 after the
  second) and without, for ``seeds`` seeds; each pair from the same Xavier start, on the same
  batches of 64, with the same dropout masks for the same seed. SGD at lr 0.1 on the mean
  cross-entropy. The book's N(0, 0.01^2) start and lr 0.5 are not used: on 1000 images they
  make SGD swing from epoch to epoch (after 50 epochs the training accuracy was anywhere from
  0.41 to 0.89 over three seeds), so the last epoch's gap is a draw, not a trend.
- ``dropout-weight-decay``: the same, four nets: neither, dropout, weight decay
  ``weight_decay`` (SGD's, ``w <- w - lr (grad + lambda w)``, on every parameter), and both.

Every ``every`` epochs both nets are measured in eval mode (no units dropped) on their training
images and on the first ``test_size`` test images; the gap is ``train accuracy - test
accuracy``, and dropout's narrowing of it is ``gap without - gap with``, seed by seed.
"""

from __future__ import annotations

from statistics import median

import torch
from torch import nn

from shallowlab.core.callbacks import EachEpoch
from shallowlab.core.loop import fit
from shallowlab.core.metrics import accuracy
from shallowlab.core.steps import AutogradStep
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches, to_unit
from shallowlab.experiments.base import Experiment
from shallowlab.figures import plots
from shallowlab.models import nets
from shallowlab.term import silent

BOOK, NONE = (0.2, 0.5), (0.0, 0.0)


def _train(net: tuple, data: tuple, config: dict, seed: int) -> list[tuple[float, float]]:
    """(train accuracy, test accuracy) every ``every`` epochs for one net (its dropout rates
    and weight decay) and seed."""
    drops, decay = net
    X, y, X_test, y_test = data
    g = torch.Generator().manual_seed(seed)
    model = nets.init_(nets.mlp(784, (256, 256), 10, dropout=drops), "xavier", 0.01, g)
    step = AutogradStep(model, nn.CrossEntropyLoss(reduction="none"),
                        torch.optim.SGD(model.parameters(), lr=config["lr"],
                                        weight_decay=decay))
    found = []

    def measure(history: list[dict]) -> None:  # fit puts the model back in training mode
        if len(history) % config["every"] == 0 or len(history) == config["epochs"]:
            model.eval()
            with torch.no_grad():
                found.append((accuracy(model(X), y), accuracy(model(X_test), y_test)))
    with torch.random.fork_rng(devices=[]):  # nn.Dropout draws its masks from the global RNG
        torch.manual_seed(seed)
        fit(step, Batches(X, y, config["batch_size"], generator=g), epochs=config["epochs"],
            metric=None, progress=False, log=silent, callbacks=[EachEpoch(measure)])
    return found


def compare(variants: dict, config: dict, run_dir, log) -> dict:
    """Train every net of ``variants`` (name -> (dropout rates, weight decay)) for every seed; the
    first net is the baseline every other's narrowing of the gap is measured against."""
    data = fashion_mnist.load(config["data_dir"])
    n, m = config["train_size"], config["test_size"]
    tensors = (to_unit(data.train_images[:n]).reshape(-1, 784), data.train_labels[:n],
               to_unit(data.test_images[:m]).reshape(-1, 784), data.test_labels[:m])
    seeds = range(config["seed"], config["seed"] + config["seeds"])
    threads = torch.get_num_threads()
    # Batches of 64 through 256 units are too small to share between threads: on 2 busy cores
    # two threads took 2-5 times as long as one (a 60-epoch pair of nets: 91 s against 18 s).
    torch.set_num_threads(1)
    try:
        curves = {name: [_train(net, tensors, config, s) for s in seeds]
                  for name, net in variants.items()}
    finally:
        torch.set_num_threads(threads)
    epochs = [e for e in range(1, config["epochs"] + 1)
              if e % config["every"] == 0 or e == config["epochs"]]
    final = {name: {"train": [c[-1][0] for c in runs], "test": [c[-1][1] for c in runs],
                    "gap": [c[-1][0] - c[-1][1] for c in runs]} for name, runs in curves.items()}
    base = final[next(iter(variants))]["gap"]
    narrowing = {name: [a - b for a, b in zip(base, f["gap"])] for name, f in final.items()}
    for name, f in final.items():
        log(f"{name:>13}: after {config['epochs']} epochs, per seed: train "
            + ", ".join(f"{v:.3f}" for v in f["train"]) + "; test "
            + ", ".join(f"{v:.3f}" for v in f["test"]) + "; narrowing "
            + ", ".join(f"{100 * v:+.1f}" for v in narrowing[name]) + " points")

    def median_gap(runs: list, k: int) -> float:
        return median(c[k][0] - c[k][1] for c in runs)
    run_dir.save_figure(
        "gap.png", plots.series_panels, epochs,
        {"training minus test accuracy (median over seeds)":
         {name: [median_gap(runs, k) for k in range(len(epochs))]
          for name, runs in curves.items()}},
        "epoch", yscale="linear",
        title=f"{n} training images, 784-256-256-10, eval mode")
    return {"epochs": epochs, "seeds": list(seeds), "train_size": n, "test_size": m,
            "weight_decay": config.get("weight_decay", 0.0),
            "final": final, "narrowing": narrowing,
            "curves": {name: [[list(p) for p in c] for c in runs]
                       for name, runs in curves.items()}}


def dropout_epochs(config, run_dir, log):
    return compare({"no dropout": (NONE, 0.0), "dropout": (BOOK, 0.0)}, config, run_dir, log)


def dropout_weight_decay(config, run_dir, log):
    decay = config["weight_decay"]
    return compare({"neither": (NONE, 0.0), "dropout": (BOOK, 0.0), "weight decay": (NONE, decay),
                    "both": (BOOK, decay)}, config, run_dir, log)


def _test_change(s: dict, name: str, base: str) -> float:
    """The median over seeds of ``name``'s test accuracy minus ``base``'s."""
    return median([a - b for a, b in zip(s["final"][name]["test"], s["final"][base]["test"])])


def dropout_answer(s: dict) -> str:
    f, n = s["final"], s["narrowing"]["dropout"]
    none, drop = f["no dropout"], f["dropout"]
    test_change = _test_change(s, "dropout", "no dropout")
    return (f"On {s['train_size']} training images after {s['epochs'][-1]} epochs (medians over "
            f"{len(n)} seeds, eval mode): without dropout training accuracy "
            f"{median(none['train']):.3f}, test {median(none['test']):.3f}, a gap of "
            f"{100 * median(none['gap']):.1f} points; with dropout 0.2, 0.5 "
            f"{median(drop['train']):.3f}, {median(drop['test']):.3f}, a gap of "
            f"{100 * median(drop['gap']):.1f}. Dropout narrowed the gap in "
            f"{sum(v > 0 for v in n)} of {len(n)} seeds, by {100 * min(n):.1f} to "
            f"{100 * max(n):.1f} points, by holding the training accuracy down: the test "
            f"accuracy moved by {100 * test_change:+.1f} points (figure gap.png).")


def decay_answer(s: dict) -> str:
    gaps = "; ".join(f"{name} {100 * median(f['gap']):.1f}" for name, f in s["final"].items())
    narrowed = "; ".join(
        f"{name} by {100 * median(v):.1f} ({100 * min(v):.1f} to {100 * max(v):.1f}), test "
        f"accuracy {100 * _test_change(s, name, 'neither'):+.1f}"
        for name, v in s["narrowing"].items() if name != "neither")
    n = {name: median(v) for name, v in s["narrowing"].items()}
    together = ("more than either alone" if n["both"] > max(n["dropout"], n["weight decay"])
                else "no more than the better of the two alone")
    return (f"On {s['train_size']} training images after {s['epochs'][-1]} epochs, weight decay "
            f"{s['weight_decay']:g} (medians over {len(s['seeds'])} seeds, eval mode), the "
            f"training-test gaps in points: {gaps}. Against neither, each narrowed it: "
            f"{narrowed} points (range over seeds in brackets). Both together narrowed it "
            f"{together} (figure gap.png).")


OVERFIT = {"seed": 0, "seeds": 5, "epochs": 60, "every": 10, "train_size": 1000,
           "test_size": 10000, "lr": 0.1, "batch_size": 64, "data_dir": None}

RUNS = {
    "dropout-epochs": Experiment(
        "exercise-dropout-epochs", "dropout's training-test gap on 1000 images",
        OVERFIT, dropout_epochs, answer=dropout_answer,
        question="Does dropout narrow the gap between training and test accuracy?"),
    "dropout-weight-decay": Experiment(
        "exercise-dropout-weight-decay", "dropout and weight decay on 1000 images",
        {**OVERFIT, "weight_decay": 0.005}, dropout_weight_decay, answer=decay_answer,
        question="Do dropout and weight decay each narrow the gap, and do their effects add?"),
}
