"""Run answers of the linear-regression exercises (d2l en 3.3-3.5, zh 3.2-3.3), on the linreg
experiment's data: ``y = X w + b + eps``, w = (2, -3.4), b = 4.2, eps ~ N(0, 0.01^2), 1000
examples.

Training here is the scratch step written out, so that a loss of any kind (and a label of
10000) can be watched without the divergence guard stopping it: minibatch SGD on the mean
loss of each batch, ``p <- p - lr * grad``, from a seeded start and batch order. A fit's error
is ``max(|w - w_true|, |b - b_true|)``.
"""

from __future__ import annotations

import math

import torch

from shallowlab.data import synthetic
from shallowlab.data.batches import Batches
from shallowlab.experiments import linreg
from shallowlab.experiments.base import Experiment
from shallowlab.figures import plots

TRUTH = torch.tensor([*linreg.TRUE_W, linreg.TRUE_B])


def squared(r: torch.Tensor) -> torch.Tensor:
    return r**2 / 2


def absolute(r: torch.Tensor) -> torch.Tensor:
    return r.abs()


def error(theta: torch.Tensor) -> float:
    return (theta.detach() - TRUTH).abs().max().item()


def sgd(X, y, loss, lr: float, epochs: int, generator, start=None, batch: int = 10) -> dict:
    """Train theta = (w, b) on ``loss(residual)``; its error after each epoch and the spread
    (standard deviation of w_1) over the last 50 steps."""
    A = torch.cat([X, torch.ones(len(X), 1)], dim=1)
    theta = (torch.zeros(3) if start is None else start.clone()).requires_grad_()
    errors, late = [error(theta)], []
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for lo in range(0, len(X), batch):
            idx = order[lo: lo + batch]
            (grad,) = torch.autograd.grad(loss(A[idx] @ theta - y[idx, 0]).mean(), theta)
            with torch.no_grad():
                theta -= lr * grad
            late = (late + [theta[0].item()])[-50:]
        errors.append(error(theta))
    return {"theta": theta.detach().tolist(), "errors": errors,
            "jitter": torch.tensor(late).std().item()}


def _data(config: dict):
    g = torch.Generator().manual_seed(config["seed"])
    return (*linreg.dataset(g), g)


def last_batch(config, run_dir, log):
    X, y, g = _data(config)

    def data_iter(batch_size):  # the section's reader, in shallowlab's words
        order = torch.randperm(len(X), generator=g)
        for lo in range(0, len(X), batch_size):
            yield X[order[lo: lo + batch_size]]

    book = [len(b) for b in data_iter(30)]
    ours = [len(b[0]) for b in Batches(X, y, 30, generator=g)]
    dropped = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=30,
                                          drop_last=True)
    kept = [len(b[0]) for b in dropped]
    log(f"data_iter: {len(book)} batches, the last of {book[-1]}; Batches: last of {ours[-1]};"
        f" DataLoader(drop_last=True): {len(kept)} batches of {set(kept)}")
    return {"book": book, "batches": ours, "drop_last": kept}


def zero_init(config, run_dir, log):
    X, y, g = _data(config)
    fits = {}
    for name, std in (("zeros", 0.0), ("N(0, 0.01^2)", 0.01), ("N(0, 1000)", math.sqrt(1000))):
        start = torch.cat([std * torch.randn(2, generator=g), torch.zeros(1)])
        fits[name] = sgd(X, y, squared, config["lr"], config["epochs"], g, start)
        log(f"start {name}: error per epoch " + ", ".join(f"{e:.2g}" for e in fits[name]["errors"]))
    return {"fits": fits}


def reshape(config, run_dir, log):
    X, y, _ = _data(config)
    X, y = X[:10], y[:10].reshape(-1)  # labels as a vector (n,), as the book's reader gives
    w = torch.tensor(linreg.TRUE_W).reshape(-1, 1).requires_grad_()
    y_hat = X @ w + linreg.TRUE_B  # (10, 1)
    right, wrong = ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2), ((y_hat - y) ** 2 / 2)
    (grad_right,) = torch.autograd.grad(right.mean(), w, retain_graph=True)
    (grad_wrong,) = torch.autograd.grad(wrong.mean(), w)
    log(f"y_hat {tuple(y_hat.shape)} - y {tuple(y.shape)}: {tuple(wrong.shape)} without the "
        f"reshape; mean loss at the true weights {right.mean():.2e} with it, {wrong.mean():.3g} "
        "without")
    return {"shape": list(wrong.shape), "right_loss": right.mean().item(),
            "wrong_loss": wrong.mean().item(), "right_grad": grad_right.norm().item(),
            "wrong_grad": grad_wrong.norm().item()}


def absolute_loss(config, run_dir, log):
    X, y, g = _data(config)
    state, fits = g.get_state(), {}
    for name, loss in (("squared", squared), ("absolute", absolute)):
        g.set_state(state)  # the same batches for both losses
        fits[name] = sgd(X, y, loss, config["lr"], config["epochs"], g)
        log(f"{name} loss: error {fits[name]['errors'][-1]:.2e}, w_1 moving by "
            f"{fits[name]['jitter']:.1e} over the last 50 steps")
    return {"fits": fits}


def outlier(config, run_dir, log):
    X, y, g = _data(config)
    y = y.clone()
    y[4] = 10000.0  # y_5, counting from 1
    state, fits = g.get_state(), {}
    for name, loss in (("squared", squared), ("absolute", absolute)):
        g.set_state(state)
        fits[name] = sgd(X, y, loss, config["lr"], config["epochs"], g)
        log(f"{name} loss with y_5 = 10000: error per epoch "
            + ", ".join(f"{e:.3g}" for e in fits[name]["errors"]))
    return {"fits": fits}


def epochs_and_lr(config, run_dir, log):
    X, y, g = _data(config)
    w, b = linreg.closed_form(X, y)
    floor = error(torch.cat([w, torch.tensor([b])]))
    state, fits = g.get_state(), {}
    for lr in (0.003, 0.03, 0.3):
        g.set_state(state)
        fits[str(lr)] = sgd(X, y, squared, lr, config["epochs"], g)["errors"]
        log(f"lr {lr}: error after 1, 3, 10, {config['epochs']} epochs " + ", ".join(
            f"{fits[str(lr)][e]:.2e}" for e in (1, 3, 10, config["epochs"])))
    run_dir.save_figure("epochs.png", plots.series_panels, range(config["epochs"] + 1),
                        {"max |parameter - truth|": {**{f"lr {k}": v for k, v in fits.items()},
                                                     "least squares": [floor] * len(fits["0.3"])}},
                        "epoch")
    return {"errors": fits, "least_squares_error": floor}


def data_amount(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    sizes, w_err, b_err = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], [], []
    for n in sizes:
        found = torch.stack([torch.cat([w, torch.tensor([b])]) for w, b in (
            linreg.closed_form(*synthetic.linear(torch.tensor(linreg.TRUE_W), linreg.TRUE_B, n,
                                                 linreg.NOISE, g))
            for _ in range(config["repeats"]))]) - TRUTH
        w_err.append(found[:, :2].norm(dim=1).mean().item())
        b_err.append(found[:, 2].abs().mean().item())
    slope = _slope(sizes, w_err)
    log("n: " + ", ".join(f"{n}: |w err| {e:.1e}" for n, e in zip(sizes, w_err)))
    run_dir.save_figure("data.png", plots.series_panels, sizes,
                        {"estimation error (mean over draws)": {"|w_hat - w|": w_err,
                                                                "|b_hat - b|": b_err}},
                        "examples n", xscale="log")
    return {"sizes": sizes, "w_errors": w_err, "b_errors": b_err, "slope": slope,
            "b_slope": _slope(sizes, b_err)}


def _slope(x: list, y: list) -> float:
    """The least-squares slope of log y against log x."""
    lx, ly = torch.tensor(x, dtype=torch.float64).log(), torch.tensor(y, dtype=torch.float64).log()
    return (((lx - lx.mean()) * (ly - ly.mean())).sum() / ((lx - lx.mean()) ** 2).sum()).item()


def _own(name: str, title: str, run, answer, **defaults) -> Experiment:
    return Experiment(f"exercise-{name}", title, {"seed": 0, **defaults}, run, answer=answer,
                      question=title)


def _fits(s: dict, key: str = "fits") -> dict:
    return {k: v["errors"][-1] for k, v in s[key].items()}


RUNS = {
    "last-batch": _own(
        "last-batch", "the last minibatch when 30 does not divide 1000", last_batch,
        lambda s: f"With 1000 examples in batches of 30, data_iter yields {len(s['book'])} "
                  f"batches, the last of {s['book'][-1]} (shallowlab's Batches too: "
                  f"{s['batches'][-1]}); DataLoader(drop_last=True) yields {len(s['drop_last'])} "
                  "full batches and drops the 10 left over."),
    "zero-init": _own(
        "zero-init", "linear regression from zero and from huge initial weights", zero_init,
        lambda s: "After {} epochs the error is {}: every start reaches the same weights.".format(
            len(next(iter(s["fits"].values()))["errors"]) - 1,
            ", ".join(f"{e:.1e} from {k}" for k, e in _fits(s).items())),
        lr=0.03, epochs=3),
    "reshape": _own(
        "reshape", "the squared loss without reshaping y", reshape,
        lambda s: f"Without the reshape y_hat - y has shape {tuple(s['shape'])}: at the true "
                  f"weights the loss is {s['wrong_loss']:.3g} instead of {s['right_loss']:.1e}, "
                  f"and its gradient {s['wrong_grad']:.3g} instead of {s['right_grad']:.1e}."),
    "absolute-loss": _own(
        "absolute-loss", "the absolute-value loss on clean data", absolute_loss,
        lambda s: f"After {len(s['fits']['absolute']['errors']) - 1} epochs the absolute loss "
                  f"ends {s['fits']['absolute']['errors'][-1]:.1e} from the truth with w_1 "
                  f"still moving by {s['fits']['absolute']['jitter']:.1e} a step; the squared "
                  f"loss {s['fits']['squared']['errors'][-1]:.1e} and "
                  f"{s['fits']['squared']['jitter']:.1e}.", lr=0.03, epochs=3),
    "outlier": _own(
        "outlier", "one label of 10000: squared against absolute loss", outlier,
        lambda s: f"With y_5 = 10000 the squared loss ends {s['fits']['squared']['errors'][-1]:.3g}"
                  f" from the true parameters (thrown {max(s['fits']['squared']['errors']):.3g}"
                  f" off at worst), the absolute loss {s['fits']['absolute']['errors'][-1]:.1e}.",
        lr=0.03, epochs=3),
    "epochs-and-lr": _own(
        "epochs-and-lr", "error against epochs at three learning rates", epochs_and_lr,
        lambda s: "Error after 1 and {} epochs: {}; the exact least-squares fit is itself "
                  "{:.1e} from the truth, and the runs end at {} times that: what is left is "
                  "the data's noise and SGD's jitter, which more epochs do not remove.".format(
                      len(s["errors"]["0.3"]) - 1,
                      "; ".join(f"lr {k}: {v[1]:.1e}, {v[-1]:.1e}" for k, v in s["errors"].items()),
                      s["least_squares_error"], ", ".join(
                          f"{v[-1] / s['least_squares_error']:.2g}" for v in s["errors"].values())),
        epochs=30),
    "data-amount": _own(
        "data-amount", "estimation error against the amount of data", data_amount,
        lambda s: f"The least-squares error of w falls from {s['w_errors'][0]:.1e} at n = 5 to "
                  f"{s['w_errors'][-1]:.1e} at n = 10000: a slope of {s['slope']:.2f} on log-log "
                  f"axes (b: {s['b_slope']:.2f}), the 1/sqrt(n) law (figure data.png).",
        repeats=20),
}
