"""Weight decay in a high-dimensional linear regression (d2l 4.5), swept over lambda.

Data: ``y = 0.05 + sum_{i=1}^{200} 0.01 x_i + eps``, x ~ N(0, I), eps ~ N(0, 0.01^2): 200 inputs
and only 20 training examples (100 to test), so a linear model can fit the training set
exactly with wildly wrong weights. Training, as the book: w ~ N(0, 1), b = 0, minibatch SGD,
batch 5, lr 0.003, 100 epochs, on

    ``l = (y_hat - y)^2 / 2 + lambda ||w||^2 / 2``  (``lambd * l2_penalty(w)``, scratch), or
    ``w <- w - lr (grad_w + lambda w)``  (``torch.optim.SGD`` weight_decay on w only, concise),

the same steps either way; the bias is never decayed. The penalty's gradient ``lambda w``
shrinks every weight by ``(1 - lr lambda)`` a step, so in the 180 directions the 20 examples
say nothing about, w decays from its start towards 0: after 400 steps ``(1 - 0.009)^400 =
e^{-3.6}``, which takes the norm from ``sqrt(200) = 14`` to ~0.4 with lambda 3. Without decay
those directions keep their random start: the norm stays ~13-14, the training loss falls to
~0 and the test loss stays large. The true ``||w|| = 0.01 sqrt(200) = 0.14``.

Every lambda starts from the same weights and sees the same batches, so only lambda differs.
"""

from __future__ import annotations

import torch
from torch import nn

from shallowlab.core.loop import evaluate, fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data import synthetic
from shallowlab.data.batches import Batches
from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment, Headline
from shallowlab.figures import plots
from shallowlab.models import nets, scratch

TITLE = title("weight-decay")
INPUTS, TRAIN, TEST, TRUE_W, TRUE_B, NOISE = 200, 20, 100, 0.01, 0.05, 0.01
LAMBDAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)
BOOK_NORM = {0.0: 13.0, 3.0: 0.36}  # the book's ||w|| after training with lambda 0 and 3


def build(config: dict, lambd: float, generator: torch.Generator):
    """The linear model from w ~ N(0, 1), b = 0, its per-example loss and updater."""
    lr = config["lr"]
    if config["impl"] == "scratch":
        model = scratch.LinearRegression(INPUTS, 1, 1.0, generator)
        params = model.parameters()

        def loss(y_hat, y):
            return scratch.squared_loss(y_hat, y) + lambd * scratch.l2_penalty(model.W)

        return model, loss, lambda n: scratch.sgd(params, lr, n)
    model = nets.init_(nn.Sequential(nn.Linear(INPUTS, 1)), "normal", 1.0, generator)
    mse = nn.MSELoss(reduction="none")
    optimizer = torch.optim.SGD(nets.decay_groups(model, lambd), lr=lr)
    return model, lambda y_hat, y: mse(y_hat, y) / 2, optimizer


def train_with(lambd: float, config: dict, data: tuple, generator: torch.Generator) -> dict:
    """Train at ``lambd``; the weight norm, the data losses (without the penalty), the history."""
    X, y, X_test, y_test = data
    model, loss, updater = build(config, lambd, generator)
    history = fit(AutogradStep(model, loss, updater),
                  Batches(X, y, config["batch_size"], generator=generator),
                  epochs=config["epochs"], test=Batches(X_test, y_test, TEST, shuffle=False),
                  metric=None, progress=False, log=lambda line: None)
    w = next(iter(model.parameters())).detach()
    plain = scratch.squared_loss  # the data term alone, comparable across lambdas
    train_loss, _ = evaluate(model, plain, [(X, y)], metric=None)
    test_loss, _ = evaluate(model, plain, [(X_test, y_test)], metric=None)
    return {"lambda": lambd, "w_norm": float(w.norm()), "train_loss": train_loss,
            "test_loss": test_loss, "history": history}


def train_every_lambda(config: dict) -> list[dict]:
    """Train at every lambda (``LAMBDAS`` and ``config["weight_decay"]``) on the data of
    ``config["seed"]``, each from the same initial weights and batch order."""
    g = torch.Generator().manual_seed(config["seed"])
    true_w = torch.full((INPUTS,), TRUE_W)
    X, y = synthetic.linear(true_w, TRUE_B, TRAIN, NOISE, g)
    data = (X, y, *synthetic.linear(true_w, TRUE_B, TEST, NOISE, g))
    start = g.get_state()
    results = []
    for lambd in sorted({*LAMBDAS, config["weight_decay"]}):
        g.set_state(start)  # the same initial weights and batch order for every lambda
        results.append(train_with(lambd, config, data, g))
    return results


def summarize(results: list[dict], config: dict) -> dict:
    """The run's summary from :func:`train_every_lambda`'s results."""
    by = {r["lambda"]: r for r in results}
    return {"lambdas": [r["lambda"] for r in results],
            "w_norms": [r["w_norm"] for r in results],
            "train_losses": [r["train_loss"] for r in results],
            "test_losses": [r["test_loss"] for r in results],
            "w_norm_no_decay": by[0.0]["w_norm"],
            "w_norm_decay": by[config["weight_decay"]]["w_norm"],
            "test_loss_no_decay": by[0.0]["test_loss"],
            "test_loss_decay": by[config["weight_decay"]]["test_loss"],
            "decay_lambda": config["weight_decay"], "true_w_norm": TRUE_W * INPUTS ** 0.5}


def run(config, run_dir, log):
    results = train_every_lambda(config)
    summary = summarize(results, config)
    log(f"{'lambda':>7}  {'||w||':>7}  {'train loss':>10}  {'test loss':>10}")
    for r in results:
        log(f"{r['lambda']:>7g}  {r['w_norm']:7.3f}  {r['train_loss']:10.4g}  "
            f"{r['test_loss']:10.4g}")
    log(f"true ||w|| = {summary['true_w_norm']:.3f}; "
        "the book: ||w|| 13.0 at lambda 0, 0.36 at 3")
    by = {r["lambda"]: r for r in results}
    xs = summary["lambdas"]
    run_dir.save_figure(
        "sweep.png", plots.series_panels, xs,
        {"weight norm ||w||": {"||w||": summary["w_norms"],
                               "true ||w||": [summary["true_w_norm"]] * len(xs)},
         "squared loss (without the penalty)": {"train": summary["train_losses"],
                                                "test": summary["test_losses"]}},
        "lambda", xscale="symlog", mark=config["weight_decay"],
        title=f"{config['impl']}: after {config['epochs']} epochs, against lambda")
    shown = [0.0, config["weight_decay"]]
    run_dir.save_figure(
        "curves.png", plots.series_panels, range(1, config["epochs"] + 1),
        {f"lambda = {lam:g}": {"train": [h["train_loss"] for h in by[lam]["history"]],
                               "test": [h["test_loss"] for h in by[lam]["history"]]}
         for lam in shown},
        "epoch", title="loss per epoch (train loss with the penalty)")
    return summary


def headlines(summary: dict) -> list[Headline]:
    # Tolerances: at lambda 0 the 20 examples reset the N(0, 1) start in 20 of the 200
    # directions and leave the other 180 alone, so ||w|| ~ sqrt(180..200) = 13.4..14.1, with a
    # spread of ~0.7 between draws: 1.5 is about two of those around the book's 13. At lambda
    # 3 the start shrinks by (1 - 0.009)^400 = e^{-3.6} to 0.38 +- 0.02, plus what the data
    # pin down (true ||w|| = 0.14); 0.1 covers both.
    if summary["decay_lambda"] != 3.0:
        return []
    return [Headline("||w|| with lambda 0", summary["w_norm_no_decay"], BOOK_NORM[0.0], 1.5),
            Headline("||w|| with lambda 3", summary["w_norm_decay"], BOOK_NORM[3.0], 0.1)]


QUESTION = ("What does an L2 penalty do to the weights and the test loss when 20 "
            "examples must pin down 200 weights?")


def answer(s: dict) -> str:
    return (f"\u03bb = {s['decay_lambda']:g} shrinks \u2016w\u2016 from "
            f"{s['w_norm_no_decay']:.1f} to {s['w_norm_decay']:.2f} and the test loss from "
            f"{s['test_loss_no_decay']:.3g} to {s['test_loss_decay']:.3g}.")


EXPERIMENT = Experiment(
    "weight-decay", TITLE, {"impl": "scratch", "epochs": 100, "lr": 0.003, "batch_size": 5,
                            "weight_decay": 3.0, "seed": 0}, run,
    lesson="An L2 penalty shrinks the weights the data cannot pin down: with 20 examples "
           "for 200 weights, lambda 3 cuts ||w|| from ~13 to ~0.4 and the test loss with it.",
    headlines=headlines,
    question=QUESTION, answer=answer)
