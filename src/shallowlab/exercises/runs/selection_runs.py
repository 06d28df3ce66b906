"""Run answers of the model-selection and weight-decay exercises (d2l zh 4.4, en 3.7).

- ``polyfit-data``: the polyfit experiment's data, ``y = 5 + 1.2 x - 3.4 x^2/2! + 5.6 x^3/3! +
  eps``, eps ~ N(0, 0.1^2), for n = 10 .. 1000 training points; the cubic (4 features) and
  degree 19 (20 features) trained as the book trains them (SGD on ``mean (y_hat - y)^2``, lr
  0.01, batches of 10, from N(0, 0.01^2), ``epochs`` passes), each scored on its training
  points and on 1000 fresh ones.
- ``polyfit-unscaled``: the same 20 features without the 1/i!, trained by the book's SGD (lr
  0.01, batch 10, squared error) until the weights stop being finite; and with the 1/i!, for
  comparison.
- ``validation-lambda``: the weight-decay experiment's problem (200 inputs, 20 training
  examples) with 100 more for validation and 100 for test; every lambda trained from the same
  N(0, 1) start on the same batches (SGD lr 0.003, batch 5, 100 epochs, ``w <- w - lr (grad +
  lambda w)``, the bias not decayed), for ``repeats`` draws of the data.
"""

from __future__ import annotations

import math

import torch

from shallowlab.data import synthetic
from shallowlab.experiments import polyfit, weight_decay
from shallowlab.experiments.base import Experiment
from shallowlab.figures import plots

F64 = torch.float64
SIZES = (10, 20, 50, 100, 200, 500, 1000)
LAMBDAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)


def _poly(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x, features, y = synthetic.polynomial(torch.tensor(polyfit.TRUE_W), n, polyfit.FEATURES,
                                          polyfit.NOISE, g)
    return x, features.double(), y.double()


def _trained(F: torch.Tensor, y: torch.Tensor, epochs: int, g: torch.Generator) -> torch.Tensor:
    """The book's SGD on ``mean (F w - y)^2``: lr 0.01, batches of 10, from N(0, 0.01^2)."""
    w = 0.01 * torch.randn(F.shape[1], 1, generator=g, dtype=F64)
    batch = min(10, len(F))
    for _ in range(epochs):
        order = torch.randperm(len(F), generator=g)
        for lo in range(0, len(F), batch):
            idx = order[lo: lo + batch]
            w -= 0.01 * 2 * F[idx].T @ (F[idx] @ w - y[idx]) / len(idx)
    return w


def polyfit_data(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    found = {(fit, split): [] for fit in ("cubic", "degree 19") for split in ("train", "test")}
    _, F_test, y_test = _poly(1000, g)
    for n in config["sizes"]:
        _, F, y = _poly(n, g)
        for fit, k in (("cubic", 4), ("degree 19", 20)):
            w = _trained(F[:, :k], y, config["epochs"], g)
            found[fit, "train"].append((F[:, :k] @ w - y).pow(2).mean().item())
            found[fit, "test"].append((F_test[:, :k] @ w - y_test).pow(2).mean().item())
        log(f"n = {n}: " + ", ".join(f"{f} {s} {found[f, s][-1]:.3g}" for f, s in found))
    run_dir.save_figure("data.png", plots.series_panels, config["sizes"],
                        {fit: {s: found[fit, s] for s in ("train", "test")}
                         for fit in ("cubic", "degree 19")}, "training examples n", xscale="log",
                        title=f"squared error after {config['epochs']} epochs of SGD against the "
                        "amount of data (noise floor 0.01)")
    return {"sizes": list(config["sizes"]), **{f"{f}_{s}".replace(" ", "_"): v for (f, s), v in
                                               found.items()}}


def _sgd_steps(F: torch.Tensor, y: torch.Tensor, epochs: int, g: torch.Generator) -> dict:
    """The book's SGD on ``mean (F w - y)^2``; the step it went non-finite at, or its loss."""
    w = 0.01 * torch.randn(F.shape[1], 1, generator=g, dtype=F64)
    for step in range(1, epochs * math.ceil(len(F) / 10) + 1):
        idx = torch.randint(0, len(F), (10,), generator=g)
        r = F[idx] @ w - y[idx]
        w -= 0.01 * 2 * F[idx].T @ r / len(idx)
        if not torch.isfinite(w).all():
            return {"diverged_at": step, "loss": None}
    return {"diverged_at": None, "loss": (F @ w - y).pow(2).mean().item()}


def polyfit_unscaled(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    x, scaled, y = _poly(polyfit.TRAIN, g)
    powers = torch.arange(polyfit.FEATURES, dtype=F64)
    raw = x.double().pow(powers)
    runs = {}
    for name, F in (("x^i", raw), ("x^i / i!", scaled)):
        runs[name] = {"largest": F.abs().max().item(), **_sgd_steps(F, y, config["epochs"], g)}
        log(f"{name}: largest feature {runs[name]['largest']:.3g}; " + (
            f"SGD at lr 0.01 overflowed at step {runs[name]['diverged_at']}"
            if runs[name]["diverged_at"] else f"loss after {config['epochs']} epochs "
            f"{runs[name]['loss']:.3g}"))
    return {"runs": runs, "epochs": config["epochs"]}


def _decay_all(data: tuple, lambdas: torch.Tensor, epochs: int, g: torch.Generator) -> tuple:
    """Every lambda at once: W (L, d) from one N(0, 1) start, the same batches; the data loss
    ``mean (x w + b - y)^2 / 2`` of the weights it ends with on each split after training."""
    X, y = data[0]
    W = torch.randn(1, X.shape[1], generator=g, dtype=F64).repeat(len(lambdas), 1)
    b = torch.zeros(len(lambdas), 1, dtype=F64)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=g)
        for lo in range(0, len(X), 5):
            Xb, yb = X[order[lo: lo + 5]], y[order[lo: lo + 5]].reshape(1, -1)
            r = W @ Xb.T + b - yb  # (L, batch)
            W -= 0.003 * (r @ Xb / Xb.shape[0] + lambdas[:, None] * W)
            b -= 0.003 * r.mean(1, keepdim=True)
    return tuple(((W @ Xs.T + b - ys.reshape(1, -1)) ** 2 / 2).mean(1) for Xs, ys in data)


def validation_lambda(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    true_w = torch.full((weight_decay.INPUTS,), weight_decay.TRUE_W)
    lambdas, draws = torch.tensor(LAMBDAS, dtype=F64), []
    for _ in range(config["repeats"]):
        data = [tuple(t.double() for t in synthetic.linear(true_w, weight_decay.TRUE_B, n,
                                                           weight_decay.NOISE, g))
                for n in (weight_decay.TRAIN, 100, 100)]
        _, val, test = _decay_all(data, lambdas, config["epochs"], g)
        picked, best = int(val.argmin()), int(test.argmin())
        draws.append({"picked": LAMBDAS[picked], "best": LAMBDAS[best],
                      "picked_test": test[picked].item(), "best_test": test[best].item(),
                      "no_decay_test": test[0].item()})
        log(f"validation picks lambda {LAMBDAS[picked]:g} (test loss {test[picked]:.4g}); the "
            f"test loss is least at {LAMBDAS[best]:g} ({test[best]:.4g})")
    return {"draws": draws}


def _own(name: str, title: str, run, answer, **defaults) -> Experiment:
    return Experiment(f"exercise-{name}", title, {"seed": 0, **defaults}, run, answer=answer,
                      question=title)


def _poly_answer(s: dict) -> str:
    gaps = [te - tr for tr, te in zip(s["degree_19_train"], s["degree_19_test"])]
    return (f"Degree 19 (SGD): with {s['sizes'][0]} examples training error "
            f"{s['degree_19_train'][0]:.3g}, test {s['degree_19_test'][0]:.3g}; with "
            f"{s['sizes'][-1]}, {s['degree_19_train'][-1]:.3g} and {s['degree_19_test'][-1]:.3g}: "
            f"the gap shrinks from {gaps[0]:.3g} to {gaps[-1]:.3g}. The cubic's test error goes "
            f"from {s['cubic_test'][0]:.3g} to {s['cubic_test'][-1]:.3g}, the noise floor being "
            "0.01 (figure data.png).")


def _unscaled_answer(s: dict) -> str:
    raw, scaled = s["runs"]["x^i"], s["runs"]["x^i / i!"]
    return (f"Without 1/i! the features reach {raw['largest']:.2g} and SGD at lr 0.01 overflows "
            f"at step {raw['diverged_at']}; with 1/i! (largest {scaled['largest']:.2g}) its loss "
            f"after {s['epochs']} epochs is {scaled['loss']:.3g}.")


def _lambda_answer(s: dict) -> str:
    d = s["draws"]
    same = sum(x["picked"] == x["best"] for x in d)
    worst = max(x["picked_test"] / x["best_test"] - 1 for x in d)
    picked = ", ".join(f"{x['picked']:g}" for x in d)
    best = ", ".join(f"{x['best']:g}" for x in d)
    return (f"Over {len(d)} draws the validation set picked lambda {picked}; the test loss was "
            f"least at {best} ({same} of {len(d)} the same). The "
            f"picked lambda's test loss was at most {100 * worst:.0f}% above the best, against "
            f"{min(x['no_decay_test'] for x in d):.3g} or more without decay.")


RUNS = {
    "polyfit-data": _own("polyfit-data", "polynomial fits against the amount of data",
                         polyfit_data, _poly_answer, epochs=400, sizes=SIZES),
    "polyfit-unscaled": _own("polyfit-unscaled", "polynomial features without 1/i!",
                             polyfit_unscaled, _unscaled_answer, epochs=10),
    "validation-lambda": _own("validation-lambda", "lambda chosen on a validation set",
                              validation_lambda, _lambda_answer, epochs=100, repeats=5),
}
