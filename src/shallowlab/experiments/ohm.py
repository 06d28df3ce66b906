"""Ohm's law learned by SGD: a resistance from noisy current/voltage pairs (d2l 3.2 exercise).

Data: currents ``I ~ U(0, 2) A`` through a 4.7 ohm resistor, voltages ``V = I R + eps`` read
off a voltmeter with ``eps ~ N(0, 0.1^2) V``, 200 pairs. Model: ``V_hat = I r``, one parameter
and no bias (the line must pass through the origin: no current, no voltage), started at r = 0.
Training: minibatch SGD on ``(V_hat - V)^2 / 2``, whose gradient is ``I (I r - V)``, so each
step shrinks ``r - R_hat`` by about ``1 - lr E[I^2] = 1 - 4/3 lr``.

The reference is the closed-form least-squares slope through the origin,
``R_hat = sum(I V) / sum(I^2)`` (set ``d/dr sum (I r - V)^2 = 0``), whose own error is about
``sigma / sqrt(sum I^2)`` = 0.006 ohm here: SGD converges to it, not to the true R.

Scratch: a (1, 1) tensor ``r`` with ``requires_grad`` and :func:`scratch.sgd`; concise:
``nn.Linear(1, 1, bias=False)`` and ``torch.optim.SGD`` on the same halved squared loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from shallowlab.core.callbacks import EachEpoch
from shallowlab.core.loop import fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data import synthetic
from shallowlab.data.batches import Batches
from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons, plots
from shallowlab.models import nets, scratch

TITLE = title("ohm")
RESISTANCE, PAIRS, NOISE, MAX_CURRENT = 4.7, 200, 0.1, 2.0


class Resistor:
    """``V_hat = I r``: a scratch model of one parameter, r (1, 1), no bias, started at 0."""

    def __init__(self) -> None:
        self.r = torch.zeros(1, 1, requires_grad=True)
        self.training = True

    def __call__(self, current: torch.Tensor) -> torch.Tensor:
        return current.reshape(-1, 1) @ self.r  # (n, 1)

    def parameters(self) -> list[torch.Tensor]:
        return [self.r]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"r": self.r}

    def train(self, mode: bool = True) -> Resistor:
        self.training = mode
        return self

    def eval(self) -> Resistor:
        return self.train(False)


def build(config: dict):
    """The model (r = 0), its per-example halved squared loss and its updater, for ``--impl``."""
    if config["impl"] == "scratch":
        model = Resistor()
        return model, scratch.squared_loss, lambda n: scratch.sgd([model.r], config["lr"], n)
    model = nets.init_(nn.Linear(1, 1, bias=False), "zeros")
    return (model, lambda V_hat, V: F.mse_loss(V_hat, V, reduction="none") / 2,
            torch.optim.SGD(model.parameters(), lr=config["lr"]))


def closed_form(current: torch.Tensor, voltage: torch.Tensor) -> float:
    """``R_hat = sum(I V) / sum(I^2)``: least squares through the origin, in float64."""
    I, V = current.double(), voltage.double()
    return float((I * V).sum() / (I * I).sum())


def run(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    current, voltage = synthetic.ohm(RESISTANCE, PAIRS, NOISE, MAX_CURRENT, g)
    model, loss, updater = build(config)
    train = Batches(current, voltage, config["batch_size"], generator=g)
    history = fit(AutogradStep(model, loss, updater), train, epochs=config["epochs"],
                  metric=None, log=log, callbacks=[EachEpoch(run_dir.write_history)])
    run_dir.save_weights(model)

    learned = float(list(model.parameters())[0].detach())
    best = closed_form(current, voltage)
    log(f"learned     R = {learned:.4f} ohm  (SGD, {config['epochs']} epochs, lr {config['lr']})")
    log(f"closed form R = {best:.4f} ohm  (sum(I V) / sum(I^2); SGD is {learned - best:+.1e} "
        "from it)")
    log(f"true        R = {RESISTANCE:.4f} ohm  (error: SGD {learned - RESISTANCE:+.4f}, "
        f"closed form {best - RESISTANCE:+.4f})")

    run_dir.save_figure("curves.png", plots.curves, history, TITLE, NOISE**2 / 2)
    run_dir.save_figure("ohm.png", lessons.slopes, current, voltage,
                        {f"SGD: R = {learned:.3f}": learned, f"closed form: R = {best:.3f}": best,
                         f"true: R = {RESISTANCE}": RESISTANCE},
                        "current I (A)", "voltage V (V)", "V = I R")
    return {"resistance": learned, "closed_form_resistance": best, "true_resistance": RESISTANCE,
            "error": learned - RESISTANCE, "closed_form_error": best - RESISTANCE,
            "gap_to_closed_form": learned - best}


QUESTION = 'Can SGD learn a resistance from noisy current and voltage readings?'


def answer(s: dict) -> str:
    return (f"SGD found R = {s['resistance']:.3f} \u03a9 against the true "
            f"{s['true_resistance']:g} \u03a9; the exact least-squares answer is "
            f"{s['closed_form_resistance']:.3f} \u03a9, {abs(s['gap_to_closed_form']):.1e} "
            "\u03a9 away.")


EXPERIMENT = Experiment(
    "ohm", TITLE, {"impl": "concise", "epochs": 5, "lr": 0.1, "batch_size": 10, "seed": 0}, run,
    lesson="A physical constant is a linear model's weight: SGD finds the resistance the "
           "closed-form least squares gives, to the noise in the meter.",
    question=QUESTION, answer=answer)
