"""Squared loss against Huber loss on labels with outliers (d2l 3.2/3.3 exercise).

Data: :mod:`linreg`'s ``y = X w + b + eps`` (w = [2, -3.4], b = 4.2, sigma = 0.01, 1000
examples), then 5% of the labels shifted by ``+-U(10, 50)``: gross errors, as from a broken
sensor. The same model is trained twice from the same start on the same batches, once on each
loss of the residual ``r = y_hat - y``:

* squared: ``l = r^2 / 2``, gradient ``r x``: an outlier 30 away pulls 3000 times harder than
  an inlier 0.01 away, so even the exact least-squares fit is dragged off the truth, and SGD
  is kicked around by every outlier it meets;
* Huber (delta 1): ``l = r^2 / 2`` for ``|r| <= 1``, else ``|r| - 1/2``: the same near zero,
  but an outlier's gradient is at most ``delta |x|``, so 50 outliers barely move the fit.

Reported: each fit's error ``max |parameter - truth|`` over w and b, per epoch and at the end,
and the least-squares optimum on the same data. The concise track uses
``F.huber_loss(reduction='none')``, the same formula.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shallowlab.core.callbacks import EachEpoch
from shallowlab.core.loop import fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data import synthetic
from shallowlab.data.batches import Batches
from shallowlab.experiments import linreg, title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons
from shallowlab.models import scratch

TITLE = title("huber")
FRACTION, SHIFT, DELTA = 0.05, (10.0, 50.0), 1.0


def huber(impl: str):
    """The per-example Huber loss with ``DELTA``, scratch or torch's."""
    if impl == "scratch":
        return lambda y_hat, y: scratch.huber_loss(y_hat, y, DELTA)
    return lambda y_hat, y: F.huber_loss(y_hat, y.reshape(y_hat.shape), reduction="none",
                                         delta=DELTA)


def error(w: torch.Tensor, b: float) -> float:
    """``max(|w - w_true|, |b - b_true|)``: how far a fit is from the truth."""
    return max((w - torch.tensor(linreg.TRUE_W)).abs().max().item(), abs(b - linreg.TRUE_B))


def train_with(name: str, config: dict, X: torch.Tensor, y: torch.Tensor,
               generator: torch.Generator) -> dict:
    """Train linreg's model on loss ``name``; its error before and after each epoch."""
    model, squared, updater = linreg.build({**linreg.EXPERIMENT.defaults, **config}, generator)
    loss = squared if name == "squared" else huber(config["impl"])
    errors = [error(*linreg.weights(model))]
    history = fit(AutogradStep(model, loss, updater),
                  Batches(X, y, config["batch_size"], generator=generator),
                  epochs=config["epochs"], metric=None, progress=False, log=lambda line: None,
                  callbacks=[EachEpoch(lambda h: errors.append(error(*linreg.weights(model))))])
    w, b = linreg.weights(model)
    with torch.no_grad():
        residuals = y - model(X)  # (n, 1)
    return {"w": w.tolist(), "b": b, "error": errors[-1], "errors": errors,
            "losses": [r["train_loss"] for r in history], "residuals": residuals}


def run(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    X, y_clean = linreg.dataset(g)
    y, outlier = synthetic.outliers(y_clean, FRACTION, *SHIFT, g)
    start = g.get_state()
    fits = {}
    for name in ("squared", "huber"):
        g.set_state(start)  # the same initial parameters and batch order for both losses
        fits[name] = train_with(name, config, X, y, g)
    w_ls, b_ls = linreg.closed_form(X, y)

    log(f"{int(outlier.sum())} of {len(y)} labels shifted by +-{SHIFT[0]:g}..{SHIFT[1]:g}; "
        f"truth w = {list(linreg.TRUE_W)}, b = {linreg.TRUE_B}")
    for name, f in fits.items():
        log(f"{name + ' loss':13} w = [{', '.join(f'{v:.4f}' for v in f['w'])}]  "
            f"b = {f['b']:.4f}   error {f['error']:.4f}")
    log(f"least squares w = [{', '.join(f'{v:.4f}' for v in w_ls.tolist())}]  b = {b_ls:.4f}   "
        f"error {error(w_ls, b_ls):.4f}  (the squared loss's exact optimum: dragged too)")
    ratio = fits["squared"]["error"] / fits["huber"]["error"]
    log(f"Huber's fit is {ratio:.0f} x closer to the truth than the squared loss's")

    run_dir.save_figure("huber.png", lessons.robust_fit,
                        {f"{n} loss": f["errors"] for n, f in fits.items()},
                        {f"{n} loss": f["residuals"][~outlier] for n, f in fits.items()},
                        span=2.0, title=f"{config['impl']}: {int(outlier.sum())} outliers "
                        "among 1000 labels; residuals of the clean examples on the right")
    extras = {name: {k: v for k, v in f.items() if k != "residuals"} for name, f in fits.items()}
    return {**extras, "outliers": int(outlier.sum()), "least_squares_w": w_ls.tolist(),
            "least_squares_b": b_ls, "least_squares_error": error(w_ls, b_ls),
            "error_ratio": ratio}


QUESTION = ("How far do a few outlier labels drag a squared-loss fit, and does the "
            "Huber loss resist them?")


def answer(s: dict) -> str:
    return (f"With {s['outliers']} outlier labels the squared loss ends "
            f"{s['squared']['error']:.3f} from the true weights and the Huber loss "
            f"{s['huber']['error']:.3f}: {s['error_ratio']:.0f} times closer.")


EXPERIMENT = Experiment(
    "huber", TITLE, {"impl": "concise", "epochs": 5, "lr": 0.03, "batch_size": 10, "seed": 0},
    run,
    lesson="A few outliers drag a squared-loss fit far off; the Huber loss caps their pull and "
           "stays near the truth.",
    question=QUESTION, answer=answer)
