"""The learning rate of linear regression, swept over three decades (d2l 3.2/3.3 exercise).

The data and model are :mod:`linreg`'s (``y = X w + b + eps``, 1000 examples, the squared loss
``(y_hat - y)^2 / 2``). Every learning rate starts from the same parameters and sees the same
batches in the same order, so only the step ``p <- p - lr * grad`` differs between runs.

What it shows: the loss is a quadratic bowl whose curvature ``E[x x^T] = I`` has every
eigenvalue near 1, so gradient descent shrinks the error by ``|1 - lr|`` per step: a small lr
crawls (at 0.001 a third of the loss is left after 500 steps, ``0.999^(2 x 500) = 0.37``), lr
near 1 is fastest, and past ``lr = 2`` each step overshoots by more than it corrects, so the
loss grows without bound (fit stops such a run once its loss passes 10^4 times its first). A
batch of 10 has its own, more spread, curvature, which moves that edge down (with this data,
1.5 still converges and 1.8 diverges) and keeps a large lr's loss a little above the noise
floor ``sigma^2 / 2 = 5e-5``.

A run counts as diverged when fit stopped it (its result says at which epoch and step) or when
its final loss is above its starting loss.
"""

from __future__ import annotations

import torch

from shallowlab.core.callbacks import EachEpoch
from shallowlab.core.loop import evaluate, fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data.batches import Batches
from shallowlab.errors import DivergedError
from shallowlab.experiments import linreg, title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons

TITLE = title("lr-sweep")
RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def train_at(lr: float, config: dict, X: torch.Tensor, y: torch.Tensor,
             generator: torch.Generator) -> dict:
    """Train linreg's model at ``lr``; the loss on all of X before, per epoch, and at the end."""
    model, loss, updater = linreg.build({**linreg.EXPERIMENT.defaults, **config, "lr": lr},
                                        generator)
    whole = Batches(X, y, len(X), shuffle=False)
    start, _ = evaluate(model, loss, whole, metric=None)
    losses = [start]
    stopped = None
    try:
        fit(AutogradStep(model, loss, updater),
            Batches(X, y, config["batch_size"], generator=generator),
            epochs=config["epochs"], metric=None, progress=False, log=lambda line: None,
            callbacks=[EachEpoch(lambda history: losses.append(history[-1]["train_loss"]))])
    except DivergedError as e:
        stopped = f"epoch {e.epoch}, batch {e.batch}"
    final, _ = evaluate(model, loss, whole, metric=None)  # finite: fit stops before a bad step
    return {"lr": lr, "final_loss": final, "diverged": stopped is not None or final > start,
            "stopped_at": stopped, "losses": losses}


def run(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    X, y = linreg.dataset(g)
    start = g.get_state()
    results = []
    for lr in RATES:
        g.set_state(start)  # the same initial parameters and batch order for every lr
        results.append(train_at(lr, config, X, y, g))

    floor = linreg.NOISE**2 / 2
    converged = [r for r in results if not r["diverged"]]
    best = min(converged, key=lambda r: r["final_loss"]) if converged else None
    log(f"{'lr':>7}  {'final loss':>10}  {'/ noise floor':>13}")
    for r in results:
        verdict = "diverged" if r["diverged"] else ("best" if r is best else "")
        if r["stopped_at"]:
            verdict += f" (stopped at {r['stopped_at']})"
        log(f"{r['lr']:>7g}  {r['final_loss']:>10.3e}  {r['final_loss'] / floor:>13.3g}  "
            f"{verdict}".rstrip())
    diverged = [r["lr"] for r in results if r["diverged"]]
    log(f"best lr {best['lr']:g} ({best['final_loss'] / floor:.2f} x the noise floor "
        f"{floor:.0e}); diverged: {', '.join(f'{lr:g}' for lr in diverged) or 'none'}"
        if best else "every learning rate diverged")

    losses = {f"lr {r['lr']:g}" + (" (diverged)" if r["diverged"] else ""): r["losses"]
              for r in results}
    run_dir.save_figure("sweep.png", lessons.sweep, losses, floor,
                        f"{config['impl']}: training loss per epoch")
    return {"runs": results, "best_lr": best["lr"] if best else None,
            "best_loss": best["final_loss"] if best else None, "diverged_lrs": diverged,
            "noise_floor": floor}


QUESTION = ('How does the learning rate decide whether SGD crawls, converges or explodes?')


def answer(s: dict) -> str:
    diverged = ", ".join(f"{lr:g}" for lr in s["diverged_lrs"]) or "none"
    return (f"The best learning rate, {s['best_lr']:g}, ended at a loss of "
            f"{s['best_loss']:.2g} (the noise floor is {s['noise_floor']:.0e}); learning rates "
            f"that diverged: {diverged}.")


EXPERIMENT = Experiment(
    "lr-sweep", TITLE, {"impl": "concise", "epochs": 5, "batch_size": 10, "seed": 0}, run,
    lesson="Too small a learning rate crawls, a good one reaches the noise floor in an epoch, "
           "and past about 2 / curvature every step overshoots and the loss explodes.",
    question=QUESTION, answer=answer)
