"""Linear regression on synthetic data (book sections 3.2 scratch and 3.3 concise).

Data: ``y = X w + b + eps`` with w = [2, -3.4], b = 4.2, X ~ N(0, 1), eps ~ N(0, 0.01^2),
1000 training examples (and 1000 more, from the same law, to test on). Training: minibatch SGD
on the squared loss ``(y_hat - y)^2 / 2``, batch 10, lr 0.03, 3 epochs.

Two references put the result in context:

* the closed-form least-squares fit on the same data, ``[w; b] = argmin ||[X 1] theta - y||``,
  the best any linear model can do on this sample (SGD can only approach it);
* the noise floor ``sigma^2 / 2``: the expected squared loss of the true w and b themselves,
  which is why the loss levels off at 5e-5 instead of reaching 0.

The concise track uses ``nn.MSELoss(reduction='none') / 2``: the book's ``nn.MSELoss()`` lacks
the 1/2, so its steps are twice the scratch ones; halving it puts both on the same trajectory.
"""

from __future__ import annotations

import torch
from torch import nn

from shallowlab.core.callbacks import EachEpoch
from shallowlab.core.loop import evaluate, fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data import synthetic
from shallowlab.data.batches import Batches
from shallowlab.errors import ConfigError
from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment, Headline
from shallowlab.figures import lessons, plots
from shallowlab.models import nets, scratch

TITLE = title("linreg")
TRUE_W, TRUE_B, NOISE, EXAMPLES = (2.0, -3.4), 4.2, 0.01, 1000


def dataset(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``EXAMPLES`` draws of ``y = X w + b + noise`` with the true ``w``, ``b`` and noise above:
    X (n, 2), y (n, 1). The data linreg, lr_sweep and huber learn from."""
    return synthetic.linear(torch.tensor(TRUE_W), TRUE_B, EXAMPLES, NOISE, generator)


def closed_form(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Least squares ``theta = argmin ||A theta - y||^2`` with ``A = [X 1]``, in float64."""
    A = torch.cat([X, torch.ones(len(X), 1)], dim=1).double()
    theta = torch.linalg.lstsq(A, y.double()).solution.reshape(-1)
    return theta[:-1].float(), float(theta[-1])


def build(config: dict, generator: torch.Generator):
    """The model, its per-example squared loss and its updater, for ``--impl``."""
    std = config["init_std"] if config["init"] == "normal" else 0.0
    if config["impl"] == "scratch":
        model = scratch.LinearRegression(len(TRUE_W), 1, std, generator)
        params = model.parameters()
        return model, scratch.squared_loss, lambda n: scratch.sgd(params, config["lr"], n)
    model = nets.init_(nn.Sequential(nn.Linear(len(TRUE_W), 1)), config["init"],
                       config["init_std"], generator)
    mse = nn.MSELoss(reduction="none")
    return (model, lambda y_hat, y: mse(y_hat, y) / 2,
            torch.optim.SGD(model.parameters(), lr=config["lr"]))


class Passes:
    """A one-pass iterator made anew for each epoch, as ``fit`` iterates once per epoch."""

    def __init__(self, make, batches: int) -> None:
        self.make, self.batches = make, batches

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        return self.make()


def weights(model) -> tuple[torch.Tensor, float]:
    """w (d,) and b of either track, detached."""
    W, b = model.parameters()
    return W.detach().reshape(-1), float(b.detach().reshape(-1)[0])


def run(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    true_w = torch.tensor(TRUE_W)
    X, y = dataset(g)
    X_test, y_test = dataset(g)
    # asked for now, so that a painter draws it while the model trains
    run_dir.save_figure("data.png", lessons.scatter, X, y, "y = Xw + b + noise")
    model, loss, updater = build(config, g)
    train = Batches(X, y, config["batch_size"], generator=g)
    if config["impl"] == "scratch":  # the book's own iterator (3.2): the same batches
        train = Passes(lambda: scratch.data_iter(config["batch_size"], X, y, g), len(train))
    history = fit(AutogradStep(model, loss, updater), train, epochs=config["epochs"],
                  test=Batches(X_test, y_test, EXAMPLES, shuffle=False), metric=None, log=log,
                  callbacks=[EachEpoch(run_dir.write_history)])
    run_dir.save_weights(model)
    floor = NOISE**2 / 2
    run_dir.save_figure("curves.png", plots.curves, history, TITLE, floor)

    w, b = weights(model)
    w_star, b_star = closed_form(X, y)
    whole = Batches(X, y, EXAMPLES, shuffle=False)
    train_loss, _ = evaluate(model, loss, whole, metric=None)
    optimum_loss = float(scratch.squared_loss(X @ w_star + b_star, y).mean())

    # The gradient of the whole training loss at the end, read off the model's layer: near 0
    # when SGD has found the bottom of the bowl.
    for p in model.parameters():
        p.grad = None
    loss(model(X), y).mean().backward()
    grad_w = model.parameters()[0].grad if config["impl"] == "scratch" else model[0].weight.grad

    log(f"learned   w = {_vec(w)}  b = {b:.4f}")
    log(f"true      w = {_vec(true_w)}  b = {TRUE_B:.4f}   "
        f"error w = {_vec(true_w - w)}  b = {TRUE_B - b:+.4f}")
    log(f"optimum   w = {_vec(w_star)}  b = {b_star:.4f}   (closed-form least squares on the "
        f"same data; SGD is {float((w - w_star).norm()):.1e} from it in w)")
    log(f"training loss {train_loss:.3e} = {train_loss / floor:.2f} x the noise floor "
        f"sigma^2/2 = {floor:.1e}; the optimum's is {optimum_loss:.3e}")
    log(f"gradient of the training loss at the end: dL/dw = {_vec(grad_w.reshape(-1), 6)}")

    return {"w": w.tolist(), "b": b, "w_error": (true_w - w).abs().max().item(),
            "b_error": abs(TRUE_B - b), "closed_form_w": w_star.tolist(), "closed_form_b": b_star,
            "closed_form_loss": optimum_loss, "train_loss_whole": train_loss,
            "noise_floor": floor, "loss_over_floor": train_loss / floor,
            "final_grad_w": grad_w.reshape(-1).tolist()}


def _vec(v: torch.Tensor, digits: int = 4) -> str:
    return "[" + ", ".join(f"{x:.{digits}f}" for x in v.tolist()) + "]"


def check(config: dict) -> None:
    if config["init"] not in ("normal", "zeros"):
        raise ConfigError(f"--init {config['init']} does not apply to linreg; use normal or "
                          "zeros (zeros works here: a linear model has no symmetry to break)")


QUESTION = ('Can minibatch SGD recover the weights and bias that generated noisy linear data?')


def answer(s: dict) -> str:
    return (f"Yes: w and b are within {max(s['w_error'], s['b_error']):.1e} of the truth, and "
            f"the training loss {s['train_loss_whole']:.2e} sits at the noise floor "
            f"{s['noise_floor']:.0e} (ratio {s['loss_over_floor']:.2f}), below which no model "
            "can go.")


EXPERIMENT = Experiment(
    "linreg", TITLE,
    {"impl": "concise", "epochs": 3, "lr": 0.03, "batch_size": 10, "init": "normal",
     "init_std": 0.01, "seed": 0},
    run, check,
    lesson="Three epochs of minibatch SGD recover w and b to about 1e-3 and stop at the noise "
           "floor sigma^2/2 = 5e-5: the loss cannot reach 0 because the labels are noisy.",
    # the book prints a training loss of about 0.00005 after epoch 3
    headlines=lambda s: [Headline("training loss", s.get("train_loss_whole"), 5e-5, 5e-5)],
    question=QUESTION, answer=answer)
