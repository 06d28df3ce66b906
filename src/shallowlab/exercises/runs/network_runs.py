"""Run answers about softmax's numbers and dropout's activations (d2l en 4.4, 5.6).

- ``naive-softmax``: ``exp(o) / sum exp(o)`` as written, in float32, on logits with a 50, a
  100, and all below -100, against the softmax shifted by the row's maximum.
- ``dropout-variance``: the book's dropout network (784-256-256-10, ReLU, dropout 0.2 then
  0.5, SGD lr 0.5, batch 256, weights N(0, 0.01^2)) and the same network without dropout,
  trained from the same start on the same batches of Fashion-MNIST. After every epoch, in
  training mode on a fixed batch of 1024 training images, the variance of each hidden layer's
  output over all its units and images, as the next layer receives it (after the dropout mask
  and the 1/(1 - p) scaling), and before the mask. For a kept-or-dropped h' = m h / (1 - p),
  ``E[h'^2] = E[h^2] / (1 - p)`` while ``E[h'] = E[h]``: the mask adds variance.
"""

from __future__ import annotations

import torch
from torch import nn

from shallowlab.core.callbacks import EachEpoch
from shallowlab.core.loop import fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches
from shallowlab.experiments.base import Experiment
from shallowlab.figures import plots
from shallowlab.models import nets

DROPOUT = (0.2, 0.5)


def naive(o: torch.Tensor) -> torch.Tensor:
    e = torch.exp(o)
    return e / e.sum(dim=1, keepdim=True)


def _text(v: torch.Tensor) -> str:
    return "[" + ", ".join(f"{x:.3g}" for x in v.tolist()) + "]"


def naive_softmax(config, run_dir, log):
    rows = {"50": [[50.0, 0.0, 1.0]], "100": [[100.0, 0.0, 1.0]],
            "below -100": [[-110.0, -111.0, -112.0]]}
    found = {}
    for name, o in rows.items():
        o = torch.tensor(o)  # float32, as the section computes
        found[name] = {"naive": _text(naive(o)[0]), "shifted": _text(torch.softmax(o, 1)[0]),
                       "exp": f"{torch.exp(o)[0, 0].item():.3g}"}  # nan and inf kept as words
        log(f"logits {o[0].tolist()}: exp gives {found[name]['exp']}; as written "
            f"{found[name]['naive']}, shifted {found[name]['shifted']}")
    return found


def _variances(model: nn.Sequential, X: torch.Tensor) -> dict[str, float]:
    """Each hidden layer's output variance before and after its dropout, in training mode."""
    seen, hooks = {}, []
    activations = [m for m in model if isinstance(m, nn.ReLU)]
    drops = [m for m in model if isinstance(m, nn.Dropout)]
    for k, module in enumerate(activations, 1):
        hooks.append(module.register_forward_hook(
            lambda m, i, out, k=k: seen.__setitem__(f"layer {k} before the mask", out.var())))
    for k, module in enumerate(drops, 1):
        hooks.append(module.register_forward_hook(
            lambda m, i, out, k=k: seen.__setitem__(f"layer {k}", out.var())))
    model.train()
    with torch.no_grad():
        model(X)
    for hook in hooks:
        hook.remove()
    for k in range(1, len(activations) + 1):  # without a mask the layer's output is the ReLU's
        seen.setdefault(f"layer {k}", seen[f"layer {k} before the mask"])
    return {k: v.item() for k, v in seen.items()}


def dropout_variance(config, run_dir, log):
    data = fashion_mnist.load(config["data_dir"])
    X, y = data.train_images.float().div(255).reshape(-1, 784), data.train_labels
    probe = X[:1024]
    traces = {}
    for name, drops in (("dropout", DROPOUT), ("no dropout", (0.0, 0.0))):
        g = torch.Generator().manual_seed(config["seed"])
        model = nets.init_(nets.mlp(784, (256, 256), 10, dropout=drops), "normal", 0.01, g)
        step = AutogradStep(model, nn.CrossEntropyLoss(reduction="none"),
                            torch.optim.SGD(model.parameters(), lr=0.5))
        trace = [_variances(model, probe)]
        fit(step, Batches(X, y, 256, generator=g), epochs=config["epochs"], metric=None,
            progress=False, log=lambda line: None,
            callbacks=[EachEpoch(lambda h, m=model, t=trace: t.append(_variances(m, probe)))])
        traces[name] = trace
        log(f"{name}: after {config['epochs']} epochs " + ", ".join(
            f"{k} {v:.3g}" for k, v in trace[-1].items()))
    run_dir.save_figure(
        "variance.png", plots.series_panels, range(config["epochs"] + 1),
        {f"hidden layer {k}": {n: [t[f"layer {k}"] for t in trace] for n, trace in traces.items()}
         for k in (1, 2)},
        "epoch", title="variance of each hidden layer's output, training mode")
    return {"traces": traces, "epochs": config["epochs"]}


def _own(name: str, title: str, run, answer, **defaults) -> Experiment:
    return Experiment(f"exercise-{name}", title, {"seed": 0, **defaults}, run, answer=answer,
                      question=title)


def _softmax_answer(s: dict) -> str:
    return (f"In float32 exp(50) = {s['50']['exp']} is fine and the softmax as written gives "
            f"{s['50']['naive']}; exp(100) is {s['100']['exp']} and it gives "
            f"{s['100']['naive']}; with every logit below -100 exp underflows to "
            f"{s['below -100']['exp']} and it gives {s['below -100']['naive']}, where the "
            f"shifted softmax gives {s['100']['shifted']} and {s['below -100']['shifted']}.")


def _variance_answer(s: dict) -> str:
    last = {n: t[-1] for n, t in s["traces"].items()}
    d, n = last["dropout"], last["no dropout"]
    return (f"After {s['epochs']} epochs, in training mode: with dropout the hidden layers' "
            f"outputs vary by {d['layer 1']:.3g} and {d['layer 2']:.3g} (before the mask "
            f"{d['layer 1 before the mask']:.3g} and {d['layer 2 before the mask']:.3g}), "
            f"without dropout by {n['layer 1']:.3g} and {n['layer 2']:.3g} (figure "
            "variance.png).")


RUNS = {
    "naive-softmax": _own("naive-softmax", "softmax as written at logits of 50, 100 and -110",
                          naive_softmax, _softmax_answer),
    "dropout-variance": _own("dropout-variance", "the variance of the hidden activations with "
                             "and without dropout", dropout_variance, _variance_answer,
                             epochs=3, data_dir=None),
}
