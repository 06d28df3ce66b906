"""Vanishing and exploding gradients, and the initialisations that avoid them (d2l 4.8).

1. The sigmoid ``s(x) = 1 / (1 + exp(-x))`` and its gradient ``s'(x) = s (1 - s) <= 1/4``:
   nearly 0 once ``|x| > 5``, so a chain of sigmoids multiplies many small factors.
2. The product ``M_100 = A_1 A_2 ... A_100`` of random 4x4 matrices ``A_i ~ N(0, 1)``: its
   norm grows geometrically (about 1e25 after 100 factors), as a gradient through 100 layers
   of badly scaled weights would.
3. A deep MLP, ``hidden`` widths (19 layers of 256 by default, plus a 10-way output: 20 weight
   layers), measured at initialisation: for a fixed input batch ``X ~ N(0, 1)`` (batch_size,
   256) and fixed random labels ``y ~ U{0..9}``, the loss is the mean cross-entropy
   ``L = mean_i -log softmax(net(X))_{i, y_i}``, and each layer's number is the Frobenius norm
   ``||dL/dW_k||`` of its weight gradient. Backpropagation multiplies the output's gradient by
   ``W_k^T diag(act'(.))`` per layer, so the norm changes by about
   ``sqrt(n) * std(W) * E|act'|`` per layer: N(0, 0.01) gives 0.16 x (vanishing),
   N(0, 1) gives 16 x (exploding), Xavier ``Var W = 2 / (n_in + n_out)`` keeps it near 1 for
   tanh (tanh'(0) = 1), He ``Var W = 2 / n_in`` near 1 for ReLU (half the units pass);
   sigmoid's ``s' <= 1/4`` shrinks it 4 x per layer whatever the initialisation.

The network runs in float64 so that 1e-27 and 1e21 are measured, not flushed to 0 or inf.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from shallowlab.core import devices
from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment
from shallowlab.figures import lessons, plots
from shallowlab.models import nets

TITLE = title("stability")
ACTS = ("sigmoid", "tanh", "relu")
INITS = {"N(0, 0.01)": ("normal", 0.01), "N(0, 1)": ("normal", 1.0), "xavier": ("xavier", 0.0),
         "he": ("he", 0.0)}
OUTPUTS, FACTORS = 10, 100
BAND = (1e-3, 1e2)  # where a layer's gradient norm counts as neither vanished nor exploded


def sigmoid_curve(run_dir, log) -> float:
    """Draw the sigmoid and its autograd gradient; return the gradient's largest value."""
    x = torch.linspace(-8.0, 8.0, 321, requires_grad=True)
    y = torch.sigmoid(x)
    (dy,) = torch.autograd.grad(y.sum(), x)
    log(f"sigmoid'(x) <= {dy.max().item():.4f}; sigmoid'(4) = {dy[-81].item():.2e}")
    run_dir.save_figure("sigmoid.png", plots.activations, x, {"sigmoid": (y, dy)},
                        "the sigmoid's gradient vanishes away from 0")
    return dy.max().item()


def matrix_product(generator: torch.Generator, log) -> list[float]:
    """``||A_1 ... A_k||_F`` for k = 1..100, ``A_i ~ N(0, 1)`` 4x4, in float64."""
    M = torch.randn(4, 4, generator=generator, dtype=torch.float64)
    norms = [M.norm().item()]
    for _ in range(FACTORS - 1):
        M = M @ torch.randn(4, 4, generator=generator, dtype=torch.float64)
        norms.append(M.norm().item())
    log(f"product of {FACTORS} random 4x4 N(0, 1) matrices: norm {norms[-1]:.2e}")
    return norms


def layer_grad_norms(hidden, activation: str, init: str, batch_size: int, seed: int):
    """``||dL/dW_k||_F`` for every weight layer k, input to output (see the module docstring).

    The same seed gives the same input batch and labels for every activation and init.
    """
    data = torch.Generator().manual_seed(seed)
    X = torch.randn(batch_size, hidden[0], generator=data, dtype=torch.float64)
    y = torch.randint(0, OUTPUTS, (batch_size,), generator=data)
    scheme, std = INITS[init]
    model = nets.mlp(hidden[0], hidden, OUTPUTS, activation).double()
    nets.init_(model, scheme, std, torch.Generator().manual_seed(seed + 1))
    F.cross_entropy(model(X), y).backward()
    return [m.weight.grad.norm().item() for m in model if isinstance(m, nn.Linear)]


def footprint(config: dict) -> int:
    """Bytes one of the float64 models holds at least while its gradients are computed."""
    hidden = config["hidden"]
    return devices.mlp_bytes((hidden[0], *hidden, OUTPUTS), config["batch_size"], value_bytes=8)


def run(config, run_dir, log):
    generator = torch.Generator().manual_seed(config["seed"])
    max_grad = sigmoid_curve(run_dir, log)
    products = matrix_product(generator, log)
    run_dir.save_figure("products.png", lessons.log_panels,
                        {"norm of the running product": {"||A_1 ... A_k||": products}},
                        "factors k", "Frobenius norm",
                        "exploding: products of random 4x4 N(0, 1) matrices")

    hidden = tuple(config["hidden"])
    grads = {a: {i: layer_grad_norms(hidden, a, i, config["batch_size"], config["seed"])
                 for i in INITS} for a in ACTS}
    log(f"gradient norm per layer, {len(hidden) + 1} weight layers, widths {hidden[0]}: "
        "min .. max (first / last)")
    for a, by_init in grads.items():
        for i, n in by_init.items():
            log(f"  {a:7} {i:10} {min(n):9.2e} .. {max(n):9.2e}   first/last "
                f"{n[0] / n[-1] if n[-1] else math.nan:9.2e}")
    run_dir.save_figure("gradients.png", lessons.log_panels, grads, "layer (1 = input side)",
                        "||dL/dW_k||", f"gradient norm per layer at initialisation "
                        f"({len(hidden) + 1} layers, width {hidden[0]})", BAND)
    kept = sorted(f"{a} + {i}" for a, by_init in grads.items() for i, n in by_init.items()
                  if BAND[0] <= min(n) and max(n) <= BAND[1])
    log(f"every layer inside [{BAND[0]:g}, {BAND[1]:g}]: {', '.join(kept) or 'none'}")
    return {"sigmoid_max_grad": max_grad, "product_norms": products,
            "product_norm": products[-1], "grad_norms": grads, "kept_in_band": kept}


QUESTION = ("Why do gradients vanish or explode with depth, and which initialisations "
            "keep them in range?")


def answer(s: dict) -> str:
    kept = ", ".join(s["kept_in_band"]) or "none"
    return (f"A sigmoid's slope is at most {s['sigmoid_max_grad']:g}, so its gradients vanish; "
            f"a product of 100 random matrices reaches a norm of {s['product_norm']:.1e}. "
            f"Gradients stayed in range with: {kept}.")


EXPERIMENT = Experiment(
    "stability", TITLE, {"hidden": (256,) * 19, "batch_size": 64, "seed": 0}, run,
    quick={"batch_size": 16}, footprint=footprint,
    lesson="Gradients shrink or grow geometrically with depth unless the initialisation "
           "matches the activation: Xavier for tanh, He for ReLU; sigmoid vanishes anyway.",
    question=QUESTION, answer=answer)
