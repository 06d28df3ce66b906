"""The numbers a report shows: each summary entry named in words, with its unit and precision.

``NUMBERS[experiment]`` maps a summary key (``a.b`` reaches into a nested entry) to its words
and a formatter; ``COMMON`` holds the entries every training run has. An entry not named here
is left to the raw numbers folded under each section; an entry without a value (``null``, an
accuracy a regression does not have) is left out, never shown blank.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Format = Callable[[object], str]
SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076"
                            "\u2077\u2078\u2079")


def sig(x: float, digits: int = 4, zeros: bool = False) -> str:
    """``x`` to ``digits`` significant digits (keeping trailing ``zeros`` if asked); very small
    or large as ``4.64 × 10⁻⁵``."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    if 1e-3 <= abs(x) < 1e5:
        text = f"{x:{'#' if zeros else ''}.{digits}g}".rstrip(".")
        return text.replace("-", "\u2212")
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".").replace("-", "\u2212")
    return f"{mantissa} \u00d7 10{str(int(exponent)).translate(SUPERSCRIPT)}"


def num(unit: str = "", digits: int = 4) -> Format:
    return lambda v: sig(float(v), digits, zeros=True) + (f" {unit}" if unit else "")


def pct(v) -> str:
    return f"{100 * float(v):.2f} %"


def points(v) -> str:
    return f"{100 * float(v):.1f} points"


def integer(v) -> str:
    return f"{int(v):,}"


def yes_no(v) -> str:
    return "yes" if v else "no"


def text(v) -> str:
    return str(v)


def times(v) -> str:
    return f"{float(v):,.0f} \u00d7" if float(v) >= 100 else f"{float(v):.3g} \u00d7"


def duration(v) -> str:
    """Seconds for people, from microseconds to hours."""
    v = float(v)
    if v < 1e-3:
        return f"{v * 1e6:.3g} \u00b5s"
    if v < 1:
        return f"{v * 1e3:.3g} ms"
    if v < 60:
        return f"{v:.1f} s"
    return f"{int(v // 60)} min {int(v % 60):02d} s"


def vector(digits: int = 4, unit: str = "") -> Format:
    def fmt(v) -> str:
        inner = ", ".join(sig(float(x), digits) for x in v)
        return f"[{inner}]" + (f" {unit}" if unit else "")
    return fmt


def listed(v) -> str:
    return ", ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v) or "none"


def pairs(digits: int = 4) -> Format:
    return lambda v: "; ".join(f"{k}: {sig(float(x), digits)}" for k, x in v.items())


def confused(v) -> str:
    """The most-confused pairs: ``Shirt taken for T-shirt/top 123 times; ...``."""
    return "; ".join(f"{p['true']} taken for {p['predicted']} {p['count']} times" for p in v)


COMMON: dict[str, tuple[str, Format]] = {
    "final_test_acc": ("Final test accuracy", pct),
    "best_test_acc": ("Best test accuracy", pct),
    "best_epoch": ("Epoch of the best test accuracy", integer),
    "final_train_acc": ("Final training accuracy", pct),
    "final_test_loss": ("Final test loss", num()),
    "final_train_loss": ("Final training loss", num()),
    "most_confused": ("Most confused classes", confused),
    "epochs": ("Epochs", integer),
    "seconds": ("Time", duration),
    "device": ("Device", text),
    "engine": ("Training step", text),
}

NUMBERS: dict[str, dict[str, tuple[str, Format]]] = {
    "autograd": {
        "w": ("Fitted w (target 2)", num(digits=6)),
        "final_loss": ("Final loss", num()),
        "prediction_at_4_before": ("Prediction at x = 4 before the descent", num()),
        "prediction_at_4_after": ("Prediction at x = 4 after it (target 8)", num()),
        "first_grad_autograd": ("First gradient, by autograd", num(digits=6)),
        "first_grad_analytic": ("First gradient, by calculus", num(digits=6)),
        "second_derivative_max_error": ("Largest error of a second derivative", num()),
        "activation_derivative_max_error": ("Largest error of an activation's derivative",
                                            num()),
        "grad_accumulation_ratio": ("Gradient after two backward passes over one", times),
        "retained_grad": ("Gradient kept by a non-leaf tensor", vector()),
        "second_backward_raised": ("Second backward pass through a freed graph refused",
                                   yes_no),
        "sum_equals_ones": ("Gradient of a sum is all ones", yes_no),
    },
    "linreg": {
        "w": ("Learned w (truth [2, \u22123.4])", vector()),
        "b": ("Learned b (truth 4.2)", num()),
        "w_error": ("Largest error in w", num(digits=3)),
        "b_error": ("Error in b", num(digits=3)),
        "train_loss_whole": ("Training loss over the whole set", num(digits=3)),
        "noise_floor": ("Noise floor \u03c3\u00b2/2", num(digits=3)),
        "loss_over_floor": ("Training loss over the noise floor", num(digits=3)),
        "closed_form_w": ("Least-squares w", vector()),
        "closed_form_b": ("Least-squares b", num()),
        "closed_form_loss": ("Least-squares loss (the best this data allows)", num(digits=3)),
        "final_grad_w": ("Gradient of w at the end", vector(3)),
    },
    "ohm": {
        "resistance": ("Learned resistance", num("\u03a9")),
        "true_resistance": ("True resistance", num("\u03a9")),
        "closed_form_resistance": ("Least-squares resistance", num("\u03a9")),
        "error": ("Error of the learned resistance", num("\u03a9", 3)),
        "closed_form_error": ("Error of the least-squares resistance", num("\u03a9", 3)),
        "gap_to_closed_form": ("Learned minus least-squares resistance", num("\u03a9", 3)),
    },
    "lr-sweep": {
        "best_lr": ("Best learning rate", num()),
        "best_loss": ("Its final loss", num(digits=3)),
        "noise_floor": ("Noise floor \u03c3\u00b2/2", num(digits=3)),
        "diverged_lrs": ("Learning rates that diverged", listed),
    },
    "huber": {
        "outliers": ("Outlier labels", integer),
        "squared.error": ("Squared loss: distance from the true weights", num(digits=3)),
        "huber.error": ("Huber loss: distance from the true weights", num(digits=3)),
        "least_squares_error": ("Exact least squares: distance from the true weights",
                                num(digits=3)),
        "error_ratio": ("Huber's fit closer than the squared loss's by", times),
        "squared.w": ("Squared loss: w (truth [2, \u22123.4])", vector()),
        "huber.w": ("Huber loss: w", vector()),
        "least_squares_w": ("Exact least squares: w", vector()),
    },
    "softmax": {},
    "mlp": {"distinct_hidden_units": ("Hidden units that differ from one another", integer)},
    "polyfit": {
        "cubic_w": ("Cubic fit's weights (truth [5, 1.2, \u22123.4, 5.6])", vector()),
        "cubic_w_error": ("Largest error in the cubic's weights", num(digits=3)),
        "linear_test_loss": ("Test loss of a line", num(digits=3)),
        "cubic_test_loss": ("Test loss of the cubic", num(digits=3)),
        "degree_19_test_loss": ("Test loss of degree 19", num(digits=3)),
        "linear_train_loss": ("Training loss of a line", num(digits=3)),
        "cubic_train_loss": ("Training loss of the cubic", num(digits=3)),
        "degree_19_train_loss": ("Training loss of degree 19", num(digits=3)),
        "cv_degree": ("Degree chosen by cross-validation (SGD)", integer),
        "cv_degree_exact": ("Degree chosen by cross-validation (exact fits)", integer),
    },
    "weight-decay": {
        "decay_lambda": ("\u03bb with decay", num()),
        "w_norm_no_decay": ("\u2016w\u2016 without decay", num(digits=3)),
        "w_norm_decay": ("\u2016w\u2016 with decay", num(digits=3)),
        "true_w_norm": ("\u2016w\u2016 of the truth", num(digits=3)),
        "test_loss_no_decay": ("Test loss without decay", num(digits=3)),
        "test_loss_decay": ("Test loss with decay", num(digits=3)),
        "lambdas": ("Values of \u03bb tried", listed),
        "w_norms": ("\u2016w\u2016 for each \u03bb", vector(3)),
        "test_losses": ("Test loss for each \u03bb", vector(3)),
    },
    "dropout": {
        "test_acc": ("Test accuracy with dropout", pct),
        "train_acc": ("Training accuracy with dropout", pct),
        "gap": ("Training minus test accuracy, with dropout", points),
        "no_dropout_test_acc": ("Test accuracy without dropout", pct),
        "no_dropout_train_acc": ("Training accuracy without dropout", pct),
        "no_dropout_gap": ("Training minus test accuracy, without dropout", points),
    },
    "backprop": {
        "wx.first_grad": ("y = w x: first gradient dl/dw = 2 x (w x \u2212 y)", num()),
        "wx.w": ("y = w x: w after the seed's SGD (target 2)", num(digits=8)),
        "wx.prediction_after": ("y = w x: prediction at x = 4 after it", num(digits=8)),
        "mazur.out_h1": ("Mazur: out_h1 (the post: 0.593269992)", num(digits=9)),
        "mazur.out_o1": ("Mazur: out_o1 (the post: 0.75136507)", num(digits=9)),
        "mazur.error": ("Mazur: total error (the post: 0.298371109)", num(digits=9)),
        "mazur.grads.w5": ("Mazur: \u2202E/\u2202w5 (the post: 0.082167041)", num(digits=9)),
        "mazur.grads.w1": ("Mazur: \u2202E/\u2202w1 (the post: 0.000438568)", num(digits=9)),
        "mazur.after_one.w5": ("Mazur: w5 after one update (the post: 0.35891648)",
                               num(digits=9)),
        "mazur.after_one.w1": ("Mazur: w1 after one update (the post: 0.149780716)",
                               num(digits=9)),
        "mazur.error_after_one": ("Mazur: error after one update, exact (the post: "
                                  "0.291027924)", num(digits=9)),
        "mazur.error_after_one_new_W2": ("Mazur: the same with the hidden layer's gradient "
                                         "through the updated W2", num(digits=9)),
        "mazur.error_after_10000": ("Mazur: error after 10,000 updates, exact (the post: "
                                    "0.0000351085)", num(digits=6)),
        "mazur.error_after_9999": ("Mazur: error after 9,999 updates", num(digits=6)),
        "mazur.routes_max_difference": ("Mazur: largest difference between hand, autograd "
                                        "and nn", num(digits=2)),
        "book.max_difference": ("d2l 4.7: largest |formula \u2212 autograd| in dJ/dW",
                                num(digits=2)),
        "book.examples": ("d2l 4.7: random examples checked", integer),
    },
    "stability": {
        "sigmoid_max_grad": ("Largest slope of the sigmoid", num()),
        "product_norm": ("Norm of a product of 100 random 4 \u00d7 4 matrices", num(digits=3)),
        "kept_in_band": ("Activation and initialisation that keep gradients in range", listed),
    },
    "label-smoothing": {
        "hard.test_acc": ("Test accuracy, hard labels", pct),
        "smooth.test_acc": ("Test accuracy, smoothed labels", pct),
        "hard.ece": ("Expected calibration error, hard labels", num(digits=3)),
        "smooth.ece": ("Expected calibration error, smoothed labels", num(digits=3)),
        "hard.mean_confidence": ("Mean confidence, hard labels", num(digits=3)),
        "smooth.mean_confidence": ("Mean confidence, smoothed labels", num(digits=3)),
        "smooth.label_smoothing": ("Smoothing \u03b5", num(digits=2)),
        "bins": ("Calibration bins", integer),
    },
    "planck": {"max_relative_error": ("Largest relative error of a temperature", pct)},
    "normal": {
        "areas": ("Area under each curve", pairs(6)),
        "peaks": ("Peak height of each curve", pairs(3)),
    },
    "vectorize": {
        "n": ("Numbers added", integer),
        "seconds_loop": ("Python loop", duration),
        "seconds_vectorised": ("One vectorised call", duration),
        "speedup": ("Speed-up", times),
        "same_result": ("Same result", yes_no),
    },
}


def _get(summary: dict, key: str):
    value = summary
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def table(experiment: str, summary: dict) -> list[tuple[str, str]]:
    """The (words, value) rows for ``summary``: the experiment's own numbers, then the common
    ones; a missing or null entry, zero epochs and a value of another shape are left out."""
    own = NUMBERS.get(experiment, {})
    rows = []
    for key, (words, fmt) in {**own, **{k: v for k, v in COMMON.items() if k not in own}}.items():
        value = _get(summary, key)
        if value is None or (key == "epochs" and value == 0):
            continue
        try:
            rows.append((words, fmt(value)))
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
    return rows
