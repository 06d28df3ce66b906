"""The sentence a run exercise's answer ends with, from what the run found: an experiment's
summary (and history), or a sweep's rows (settings and final metrics of every trial). Plain
data in, words out; no torch. Own runs answer through their experiment's ``answer``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

SWEPT_METRIC = "final_test_acc"


def label(settings: dict) -> str:
    """``{"hidden": [256, 256], "lr": 0.1}`` -> ``hidden 256+256, lr 0.1``."""
    def text(v) -> str:
        return "+".join(map(text, v)) if isinstance(v, (list, tuple)) else f"{v:g}" \
            if isinstance(v, float) else str(v)
    return ", ".join(f"{k.replace('_', ' ')} {text(v)}" for k, v in settings.items())


def by_config(rows: list[dict], keys: list[str], metric: str = SWEPT_METRIC) -> dict[str, list]:
    """Configuration label -> the metric of each of its completed trials, in grid order."""
    found = defaultdict(list)
    for row in rows:
        name = label({k: row[k] for k in keys})
        found.setdefault(name, [])
        if row.get("status") == "completed" and row.get(metric) is not None:
            found[name].append(row[metric])
    return dict(found)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _accuracies(rows: list[dict], keys: list[str], metric: str = SWEPT_METRIC) -> str:
    shown = []
    for name, values in by_config(rows, keys, metric).items():
        m = mean(values)
        shown.append(f"{name}: " + ("failed" if m is None else f"{m:.3f}" + (
            f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else "")))
    return "; ".join(shown)


def _best(rows: list[dict], keys: list[str], metric: str = SWEPT_METRIC, low=False) -> str:
    means = {k: mean(v) for k, v in by_config(rows, keys, metric).items() if v}
    if not means:
        return "none completed"
    return (min if low else max)(means, key=means.get)


def sweep_sentence(rows: list[dict], keys: list[str], epochs: int) -> str:
    what = "mean over seeds, range in brackets" if any(r.get("seed", 0) for r in rows) else ""
    return (f"Test accuracy after {epochs} epochs{f' ({what})' if what else ''}: "
            f"{_accuracies(rows, keys)}. Best: {_best(rows, keys)}.")


SWEEPS: dict[str, Callable[[list[dict], list[str], int], str]] = {
    "softmax-lr": lambda rows, keys, epochs: (
        f"Test loss after {epochs} epochs by learning rate: "
        f"{_accuracies(rows, keys, 'final_test_loss')}; least at "
        f"{_best(rows, keys, 'final_test_loss', low=True)} (test accuracy: "
        f"{_accuracies(rows, keys)})."),
    "softmax-batch": lambda rows, keys, epochs: (
        f"After {epochs} epochs at lr 0.1, training loss by batch size: "
        f"{_accuracies(rows, keys, 'final_train_loss')}; test loss: "
        f"{_accuracies(rows, keys, 'final_test_loss')}."),
    "mlp-one-unit": lambda rows, keys, epochs: (
        sweep_sentence(rows, keys, epochs) + " Runs stuck near chance (accuracy under 0.2): "
        f"{sum(1 for r in rows if (r.get(SWEPT_METRIC) or 0) < 0.2)} of {len(rows)}."),
}


def sweep(name: str, rows: list[dict], keys: list[str], epochs: int) -> str:
    return SWEEPS.get(name, sweep_sentence)(rows, keys, epochs)


def _polyfit(s: dict, history: list[dict]) -> str:
    train, val = s["cv_exact_train"], s["cv_exact_validation"]
    best = min(range(len(val)), key=val.__getitem__)
    return (f"Training error of the exact fits (5-fold) falls from {train[0]:.3g} at degree 0 to "
            f"{train[-1]:.3g} at degree {len(train) - 1} and reaches 0 only at degree 99, through "
            f"all 100 points; the validation error is least at degree {best} (the truth is 3), "
            f"{val[best]:.3g}, and rises to {val[-1]:.3g} at degree {len(val) - 1}.")


def _weight_decay(s: dict, history: list[dict]) -> str:
    lam, train, test = s["lambdas"], s["train_losses"], s["test_losses"]
    best = min(range(len(test)), key=test.__getitem__)
    return (f"From lambda {lam[0]:g} to {lam[-1]:g} the training loss rises from {train[0]:.2g} "
            f"to {train[-1]:.2g}, the test loss falls from {test[0]:.3g} to a least "
            f"{test[best]:.3g} at lambda {lam[best]:g}, and ||w|| shrinks from "
            f"{s['w_norms'][0]:.1f} to {s['w_norms'][-1]:.2f}.")


def _softmax_epochs(s: dict, history: list[dict]) -> str:
    best = max(history, key=lambda h: h["test_acc"])
    first, last = history[0], history[-1]
    return (f"Over {len(history)} epochs the training loss keeps falling "
            f"({first['train_loss']:.3f} to {last['train_loss']:.3f}) while the test accuracy "
            f"peaks at {best['test_acc']:.4f} in epoch {best['epoch']} and ends at "
            f"{last['test_acc']:.4f}; training minus test "
            f"accuracy went from {100 * (first['train_acc'] - first['test_acc']):+.1f} to "
            f"{100 * (last['train_acc'] - last['test_acc']):+.1f} points.")


def _autograd(s: dict, history: list[dict]) -> str:
    return ("A second backward through the same graph raised a RuntimeError"
            f" ({'yes' if s['second_backward_raised'] else 'no'}); with retain_graph=True both "
            f"passes ran and left x.grad = {s['retained_grad']} for y = x * x, twice 2x: the "
            f"gradients add up ({s['grad_accumulation_ratio']:g} times one pass's).")


EXPERIMENTS: dict[str, Callable[[dict, list[dict]], str]] = {
    "autograd": _autograd,
    "polyfit": _polyfit,
    "weight-decay": _weight_decay,
    "softmax-epochs": _softmax_epochs,
    "mlp-fast": lambda s, h: (f"The --fast recipe reached {s['final_test_acc']:.4f} test accuracy "
                              f"after {s['epochs']} epochs in {s['seconds']:.0f} s (the book's "
                              "settings: about 0.84 after 10 epochs)."),
}
