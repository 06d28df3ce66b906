"""Recover a black body's temperature from its noisy spectrum by gradient descent.

Planck's law: ``B(lambda, T) = 2 h c^2 / lambda^5 / (exp(h c / (lambda k T)) - 1)``. For each
true temperature (3000, 5800, 10000 K) we measure ``B_i = B(lambda_i, T) exp(0.05 eps_i)``
at 100 wavelengths from 200 to 3000 nm (5% relative noise) and fit T by plain gradient descent.

Raw, the problem is badly scaled: radiances are ~1e13 W/(m^2 sr m), T is ~1e3, and a squared
error in those units has gradients of 1e20 and more, so no learning rate suits every
temperature. Two changes make it tame:

* parameter ``theta = log T`` (T = exp(theta) stays positive; a step changes T by a
  *fraction*), starting from ``theta_0 = log 5000`` for every truth;
* loss on log radiance, ``L(theta) = mean_i (log B(lambda_i, e^theta) - log B_i)^2 / 2``:
  relative errors, every wavelength on the same footing whatever its magnitude.

Then ``d log B / d theta = x e^x / (e^x - 1)`` with ``x = h c / (lambda k T)`` is of order
1-25, and ``theta <- theta - lr dL/dtheta`` with lr 0.005 converges for all three. The fit is
the maximum-likelihood T under this noise model.
"""

from __future__ import annotations

import math

import torch

from shallowlab.data import synthetic
from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons

TITLE = title("planck")
TEMPERATURES = (3000.0, 5800.0, 10000.0)
START, NOISE = 5000.0, 0.05
WAVELENGTHS = (200e-9, 3000e-9, 100)  # metres: from, to, how many


def fit_temperature(wavelength: torch.Tensor, measured: torch.Tensor, lr: float,
                    steps: int) -> tuple[float, list[float]]:
    """Gradient descent on ``theta = log T`` from ``log START``; T and the loss per step."""
    theta = torch.tensor(math.log(START), dtype=torch.float64, requires_grad=True)
    target = measured.log()
    losses = []
    for _ in range(steps):
        loss = (synthetic.planck(wavelength, theta.exp()).log() - target).pow(2).mean() / 2
        (grad,) = torch.autograd.grad(loss, theta)
        with torch.no_grad():
            theta -= lr * grad
        losses.append(loss.item())
    return theta.exp().item(), losses


def raw_gradient(wavelength: torch.Tensor, measured: torch.Tensor) -> float:
    """``|dL/dT|`` at T = START for the naive loss ``mean (B(lambda, T) - B_i)^2 / 2``."""
    T = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    loss = (synthetic.planck(wavelength, T) - measured).pow(2).mean() / 2
    (grad,) = torch.autograd.grad(loss, T)
    return abs(grad.item())


def run(config, run_dir, log):
    generator = torch.Generator().manual_seed(config["seed"])
    wavelength = torch.linspace(*WAVELENGTHS, dtype=torch.float64)
    fits, measured, fitted = [], {}, {}
    for true in TEMPERATURES:
        data = synthetic.black_body(true, wavelength, NOISE, generator)
        T, losses = fit_temperature(wavelength, data, config["lr"], config["epochs"])
        error = abs(T - true) / true
        log(f"T = {true:7.0f} K: recovered {T:9.1f} K ({100 * error:.3f}% off) after "
            f"{config['epochs']} steps, final loss {losses[-1]:.2e}")
        fits.append({"true": true, "recovered": T, "relative_error": error,
                     "final_loss": losses[-1], "losses": losses[:: max(1, len(losses) // 50)],
                     "raw_gradient": raw_gradient(wavelength, data)})
        measured[f"{true:.0f} K"] = data.tolist()
        fitted[f"{true:.0f} K (fit {T:.0f} K)"] = synthetic.planck(wavelength, T).tolist()
    log(f"for comparison, the naive loss on raw radiance has |dL/dT| up to "
        f"{max(f['raw_gradient'] for f in fits):.1e} at T = {START:.0f} K")
    run_dir.save_figure("planck.png", lessons.spectra, (wavelength * 1e9).tolist(), measured,
                        fitted, "wavelength (nm)", "spectral radiance (W / m^2 / sr / m)",
                        f"5% noisy spectra and the fitted Planck curves (start {START:.0f} K)")
    return {"fits": fits, "max_relative_error": max(f["relative_error"] for f in fits)}


QUESTION = ("Can gradient descent recover a black body's temperature from its spectrum?")


def answer(s: dict) -> str:
    temperatures = ", ".join(f"{f['true']:g} K" for f in s["fits"])
    return (f"Yes: it recovered each temperature ({temperatures}) to within "
            f"{s['max_relative_error']:.2%}.")


EXPERIMENT = Experiment(
    "planck", TITLE, {"epochs": 1000, "lr": 0.005, "seed": 0}, run, quick={"epochs": 300},
    lesson="In a well-scaled parameterisation (log T, log radiance) plain gradient descent "
           "recovers a black body's temperature to a fraction of a percent.",
    question=QUESTION, answer=answer)
