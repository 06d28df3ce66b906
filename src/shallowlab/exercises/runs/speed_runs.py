"""Run answers that time things (d2l en 4.2, 5.2): reading batches, the scratch MLP against the
concise one, and matrix products at aligned and misaligned sizes.

Every timing is the best of several rounds, the candidates interleaved round by round, so
that a burst of load from elsewhere hits all of them alike; what is compared is a ratio
measured side by side, on this machine, with the threads torch has.

- ``reading-speed``: one pass over Fashion-MNIST's 60000 training images (float, in memory),
  at batch sizes 1, 16, 256 and 4096, with shallowlab's ``Batches`` and with PyTorch's
  ``DataLoader`` over a ``TensorDataset`` (the book's reader minus its per-image transform).
- ``scratch-vs-concise``: one training step (forward, cross-entropy, backward, SGD) of a
  784-h-10 MLP on a batch of 256, from scratch (``scratch.MLP``, ``scratch.sgd``) and concise
  (``nets.mlp`` through ``make_step``: the fused step where it applies), for h = 64 .. 4096.
- ``matmul-alignment``: an n x n float32 product for n = 1024, 1025, 1026, 1028, 1032, in
  GFLOP/s (2 n^3 operations), on the CPU and, where there is one, a CUDA GPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from shallowlab.core.devices import cpu_name
from shallowlab.core.steps import make_step
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches
from shallowlab.experiments.base import Experiment
from shallowlab.models import nets, scratch


def best_times(candidates: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Each candidate's best wall time over ``rounds``, interleaved round by round."""
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _read(batches) -> None:
    for _ in batches:
        pass


def reading_speed(config, run_dir, log):
    data = fashion_mnist.load(config["data_dir"])
    X, y = data.train_images.float().div(255), data.train_labels
    candidates = {}
    for b in (1, 16, 256, 4096):
        candidates[f"Batches {b}"] = lambda b=b: _read(Batches(X, y, b))
        candidates[f"DataLoader {b}"] = lambda b=b: _read(torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(X, y), batch_size=b, shuffle=True))
    times = best_times(candidates, config["rounds"])
    for name, t in times.items():
        log(f"{name:>16}: {t:.3f} s an epoch, {1e6 * t / len(X):.2f} us an image")
    return {"times": times, "images": len(X)}


def _scratch_step(h: int, X, y, g) -> Callable[[], None]:
    model = scratch.MLP(784, (h,), 10, generator=g)
    params = model.parameters()

    def step() -> None:
        scratch.cross_entropy(model(X), y).sum().backward()
        scratch.sgd(params, 0.1, len(X))
    return step


def _concise_step(h: int, X, y, g) -> Callable[[], None]:
    model = nets.init_(nets.mlp(784, (h,), 10), "normal", 0.01, g)
    step = make_step(model, nn.CrossEntropyLoss(reduction="none"),
                     torch.optim.SGD(model.parameters(), lr=0.1))

    def run() -> None:
        step.forward(X, y)
        step.update()
    return run


def scratch_vs_concise(config, run_dir, log):
    g = torch.Generator().manual_seed(config["seed"])
    X, y = torch.randn(256, 784, generator=g), torch.randint(0, 10, (256,), generator=g)
    found = {}
    for h in (64, 256, 1024, 4096):
        steps = {"scratch": _scratch_step(h, X, y, g), "concise": _concise_step(h, X, y, g)}
        candidates = {n: (lambda s=s: [s() for _ in range(config["steps"])]) for n, s in
                      steps.items()}
        times = best_times(candidates, config["rounds"])
        found[h] = {n: 1e3 * t / config["steps"] for n, t in times.items()}
        log(f"784-{h}-10: a step takes {found[h]['scratch']:.2f} ms from scratch, "
            f"{found[h]['concise']:.2f} ms concise")
    return {"ms": {str(h): v for h, v in found.items()}, "threads": torch.get_num_threads()}


def matmul_alignment(config, run_dir, log):
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    found = {}
    for device in devices:
        g = torch.Generator(device=device).manual_seed(config["seed"])
        mats = {n: (torch.randn(n, n, generator=g, device=device),
                    torch.randn(n, n, generator=g, device=device)) for n in config["sizes"]}

        def product(n: int, device: str = device, mats: dict = mats) -> None:
            a, b = mats[n]
            for _ in range(config["repeats"]):
                a @ b
            if device == "cuda":
                torch.cuda.synchronize()
        times = best_times({str(n): (lambda n=n: product(n)) for n in config["sizes"]},
                           config["rounds"])
        found[device] = {n: 2 * int(n) ** 3 * config["repeats"] / t / 1e9
                         for n, t in times.items()}
        log(f"{device}: GFLOP/s " + ", ".join(f"{n}: {v:.1f}" for n, v in found[device].items()))
    return {"gflops": found, "cpu": cpu_name(), "threads": torch.get_num_threads()}


def _own(name: str, title: str, run, answer, **defaults) -> Experiment:
    return Experiment(f"exercise-{name}", title, {"seed": 0, **defaults}, run, answer=answer,
                      question=title)


def _reading_answer(s: dict) -> str:
    t = s["times"]
    return (f"An epoch's reading took {t['Batches 1']:.2f} s at batch 1 and "
            f"{t['Batches 256']:.3f} s at 256 with shallowlab's Batches "
            f"({t['Batches 1'] / t['Batches 256']:.0f} times longer at batch 1), and "
            f"{t['DataLoader 1']:.2f} s against {t['DataLoader 256']:.2f} s with a DataLoader: "
            "the cost is per batch, not per image.")


def _threads(n: int) -> str:
    return f"{n} torch thread{'s' * (n != 1)}"


def _speed_answer(s: dict) -> str:
    ratios = [v["scratch"] / v["concise"] for v in s["ms"].values()]
    parts = [f"{h} units {v['scratch']:.2f} ms against {v['concise']:.2f} ms"
             for h, v in s["ms"].items()]
    return ("A training step of 784-h-10 on a batch of 256, scratch against concise: "
            + "; ".join(parts) + f" ({_threads(s['threads'])}): the concise step was "
            f"{min(ratios):.1f} to {max(ratios):.1f} times faster at every width.")


def _matmul_answer(s: dict) -> str:
    parts = []
    for device, rates in s["gflops"].items():
        slowest, first = min(rates, key=rates.get), next(iter(rates))
        parts.append(f"{device}: " + ", ".join(f"{n} {v:.0f}" for n, v in rates.items())
                     + f" GFLOP/s, the slowest n = {slowest}, "
                     f"{100 * (1 - rates[slowest] / rates[first]):.0f}% below {first}")
    return f"On {s['cpu']} ({_threads(s['threads'])}), " + "; ".join(parts) + "."


RUNS = {
    "reading-speed": _own("reading-speed", "reading Fashion-MNIST at batch sizes 1 to 4096",
                          reading_speed, _reading_answer, rounds=3, data_dir=None),
    "scratch-vs-concise": _own("scratch-vs-concise", "a training step, scratch against concise",
                               scratch_vs_concise, _speed_answer, steps=10, rounds=3),
    "matmul-alignment": _own("matmul-alignment", "matrix products at aligned and misaligned "
                             "sizes", matmul_alignment, _matmul_answer,
                             sizes=(1024, 1025, 1026, 1028, 1032), repeats=3, rounds=3),
}
