"""Backpropagation by hand against autograd, three ways (d2l 4.7 / English 5.3).

1. The seed notes' ``y = w x`` on (1, 2), (2, 4), (3, 6): w from 1.0, per-example SGD at
   lr 0.01, in float32 as the notes' code runs. For one example the graph is
   ``x, w -> y_pred = x w -> r = y_pred - y -> l = r^2``, and the chain rule back along it
   gives ``dl/dw = dl/dr * dr/dy_pred * dy_pred/dw = 2 r * 1 * x``; each step prints the
   gradient as the notes do, and the transcript (``wx.txt``) adds w after each update.
2. Matt Mazur's worked example (:mod:`shallowlab.models.mazur`): by hand, by autograd
   and by ``nn``, against the post's printed figures.
3. The book's one-hidden-layer MLP with an L2 penalty, no biases, on one example x:
   ``z = W1 x``, ``h = phi(z)``, ``o = W2 h``, ``L = l(o, y)``,
   ``s = lambda/2 (||W1||_F^2 + ||W2||_F^2)``, ``J = L + s``. Going back along its graph:
   ``dJ/dL = dJ/ds = 1``; ``dJ/do = dL/do``; the output weights get the product of that
   with the activation they multiplied, plus the penalty's share,
   ``dJ/dW2 = (dJ/do) h^T + lambda W2``; the hidden activation gets the error sent back
   through W2, ``dJ/dh = W2^T dJ/do``; the activation's slope gates it,
   ``dJ/dz = dJ/dh * phi'(z)``; and ``dJ/dW1 = (dJ/dz) x^T + lambda W1``. Here phi is ReLU
   (``phi'(z) = [z > 0]``) and l the cross-entropy of softmax(o) (``dL/do = softmax(o) -
   onehot(y)``), checked against autograd on random examples of three sizes.

Each part draws its graph after ``backward()`` with every value and gradient on it
(``wx-step.svg``, ``mazur.svg``, ``book-mlp.svg``); ``descents.png`` shows both descents.
"""

from __future__ import annotations

import contextlib

import torch

from shallowlab.experiments import title
from shallowlab.experiments.base import Experiment, Headline
from shallowlab.figures import lessons
from shallowlab.files import atomic_write
from shallowlab.graph import draw_graph, record, require_graphviz, save
from shallowlab.models import mazur

TITLE = title("backprop")
WX_DATA = ((1.0, 2.0), (2.0, 4.0), (3.0, 6.0))
BOOK_SIZES = ((3, 4, 2), (20, 16, 10), (784, 256, 10))  # (d, h, q); the first one is drawn
BOOK_LAMBDA = 0.1


def wx_step(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> dict[str, torch.Tensor]:
    y_pred = x * w
    return {"y_pred": y_pred, "loss": (y_pred - y) ** 2}


def seed_example(epochs: int, run_dir, log) -> tuple[dict, list[float]]:
    """The notes' loop, its printout in ``wx.txt``; the first step's graph in ``wx-step.svg``."""
    w = torch.tensor([1.0], requires_grad=True)  # float32, as torch.Tensor([1.0])
    pairs = [(torch.tensor(x), torch.tensor(y)) for x, y in WX_DATA]
    lines, losses = [f"predict (before training) 4 {(4 * w).item()}"], []
    for epoch in range(epochs):
        for x, y in pairs:
            if not losses:  # the first step, recorded and drawn after its backward
                with record():
                    step = wx_step(x, y, w)
            else:
                step = wx_step(x, y, w)
            step["loss"].backward()
            if len(losses) == 0:
                names = {"w": w, "x": x, "y": y, **step}
                save(draw_graph(step["loss"], names, title="y = w x: the seed's first step"),
                     run_dir / "wx-step.svg")
            lines.append(f"\tgrad: {x.item()} {y.item()} {w.grad.item()}")
            with torch.no_grad():
                w -= 0.01 * w.grad
            w.grad.zero_()
            losses.append(step["loss"].item())
            lines.append(f"\t\ty_pred = {step['y_pred'].item()}, loss = {losses[-1]}; "
                         f"updated w = {w.item()}")
        lines.append(f"progress: {epoch} {losses[-1]}")
    lines.append(f"predict (after training) 4 {(4 * w).item()}")
    atomic_write(run_dir / "wx.txt", "\n".join(lines) + "\n")
    shown = lines[:8] + ["\t... (every step in wx.txt)"] + lines[-2:] if epochs > 1 else lines
    for line in shown:
        log(line.replace("\t", "    "))
    return {"epochs": epochs, "first_grad": float(lines[1].split()[-1]), "w": w.item(),
            "loss": losses[-1], "prediction_after": (4 * w).item()}, losses


def mazur_example(run_dir, log) -> tuple[dict, list[float]]:
    """The three routes, their largest disagreement, the published figures, the graph."""
    found = mazur.routes(10000)
    hand = found["by hand"]
    flat = {name: mazur.numbers(f) for name, f in found.items()}
    spread = max(abs(a - b) for f in flat.values() for a, b in zip(f, flat["by hand"]))
    first, errors = hand["first"], hand["errors"]
    weights = [*hand["W1"].flatten().tolist(), *hand["W2"].flatten().tolist()]
    grads = [*first.grad_W1.flatten().tolist(), *first.grad_W2.flatten().tolist()]
    variant = list(mazur.descend(mazur.by_hand, mazur.data(), 2, hidden_uses_new_W2=True))
    s = {"out_h1": first.out_h[0].item(), "out_h2": first.out_h[1].item(),
         "out_o1": first.out_o[0].item(), "out_o2": first.out_o[1].item(),
         "error": first.error, "grads": {f"w{i}": g for i, g in enumerate(grads, 1)},
         "after_one": {f"w{i}": v for i, v in enumerate(weights, 1)},
         "error_after_one": errors[1], "error_after_one_new_W2": variant[1][0].error,
         "error_after_9999": errors[9999], "error_after_10000": errors[10000],
         "routes_max_difference": spread}
    post = mazur.PUBLISHED
    log(f"Mazur, forward: out_h1 {s['out_h1']:.9f} (the post {post['out_h1']}), out_o1 "
        f"{s['out_o1']:.9f} ({post['out_o1']}), total error {s['error']:.9f} "
        f"({post['error']})")
    log("Mazur, gradients: " + ", ".join(f"{k} {g:.9g}" for k, g in s["grads"].items()))
    log(f"Mazur, one update: w1 {weights[0]:.9f} ({post['w1_after_one']}), w5 "
        f"{weights[4]:.9f} ({post['w5_after_one']}); error {errors[1]:.9f} exact, "
        f"{s['error_after_one_new_W2']:.9f} with the hidden layer's gradient through the "
        f"updated W2 (the post {post['error_after_one']})")
    log(f"Mazur, error after 10,000 updates {errors[10000]:.6g} exact, after 9,999 "
        f"{errors[9999]:.6g} (the post {post['error_after_10000']})")
    log(f"Mazur: by hand, autograd and nn differ by at most {spread:.1e}")
    p = mazur.data()
    W1, W2 = p["W1"].requires_grad_(), p["W2"].requires_grad_()
    with record():
        f = mazur.forward(p, W1, W2)
    f["E"].backward()
    names = {**p, **f, "W1 = [[w1, w2], [w3, w4]]": W1, "W2 = [[w5, w6], [w7, w8]]": W2}
    save(draw_graph(f["E"], names, digits=9, title="Mazur's network after backward()",
                    rankdir="TB"),
         run_dir / "mazur.svg")
    return s, errors


def book_gradients(x, y, W1, W2, lambd: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``dJ/dW1`` and ``dJ/dW2`` by the book's formulas (see the module's docstring)."""
    z = W1 @ x
    h = torch.relu(z)
    o = W2 @ h
    dJ_do = torch.softmax(o, 0) - torch.nn.functional.one_hot(y, len(o)).to(o.dtype)
    dJ_dW2 = torch.outer(dJ_do, h) + lambd * W2
    dJ_dz = (W2.T @ dJ_do) * (z > 0).to(z.dtype)
    return torch.outer(dJ_dz, x) + lambd * W1, dJ_dW2


def book_objective(x, y, W1, W2, lambd: float) -> dict[str, torch.Tensor]:
    """The book's forward pass, every intermediate by its name there."""
    z = W1 @ x
    h = torch.relu(z)
    o = W2 @ h
    L = torch.nn.functional.cross_entropy(o, y)
    s = lambd / 2 * ((W1**2).sum() + (W2**2).sum())
    return {"z": z, "h": h, "o": o, "L": L, "s": s, "J": L + s}


def book_example(seed: int, run_dir, log) -> dict:
    """The formulas against autograd on 4 random examples of each size; the first drawn."""
    generator = torch.Generator().manual_seed(seed)

    def r(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    worst, examples = 0.0, 0
    for d, h, q in BOOK_SIZES * 4:  # sizes in turn, 4 examples of each
        x, y = r(d), torch.randint(q, (), generator=generator)
        W1 = (r(h, d) / d**0.5).requires_grad_()
        W2 = (r(q, h) / h**0.5).requires_grad_()
        with record() if examples == 0 else contextlib.nullcontext():
            f = book_objective(x, y, W1, W2, BOOK_LAMBDA)
        f["J"].backward()
        hand = book_gradients(x, y, W1.detach(), W2.detach(), BOOK_LAMBDA)
        worst = max(worst, *((a - b.grad).abs().max().item() for a, b in zip(hand, (W1, W2))))
        if examples == 0:
            names = {"x": x, "y": y, "W(1)": W1, "W(2)": W2, **f}
            save(draw_graph(f["J"], names, title=f"d2l 4.7 / 5.3: J = L + s, lambda "
                            f"{BOOK_LAMBDA:g}, after backward()"), run_dir / "book-mlp.svg")
        examples += 1
    log(f"book 4.7 / 5.3: dJ/dW1 and dJ/dW2 by the formulas against autograd, {examples} "
        f"examples of sizes {', '.join('-'.join(map(str, s)) for s in BOOK_SIZES)}: largest "
        f"difference {worst:.1e}")
    return {"max_difference": worst, "examples": examples, "lambda": BOOK_LAMBDA}


def run(config: dict, run_dir, log) -> dict:
    wx, losses = seed_example(config["epochs"], run_dir.path, log)
    found, errors = mazur_example(run_dir.path, log)
    book = book_example(config["seed"], run_dir.path, log)
    run_dir.save_figure("descents.png", lessons.descents, losses, errors,
                        (10000, float(mazur.PUBLISHED["error_after_10000"])),
                        "The two descents, step by step")
    return {"wx": wx, "mazur": found, "book": book}


QUESTION = "Does the chain rule, done by hand, give what autograd gives?"


def answer(s: dict) -> str:
    m, wx, book = s["mazur"], s["wx"], s["book"]
    return (f"Yes, all three ways. y = w x: the first gradient is {wx['first_grad']:g} = "
            f"2 x (w x - y), and {wx['epochs']} epochs take w to {wx['w']:.6f}, the seed's "
            f"numbers step for step. Mazur's network: by hand, by autograd and by nn the "
            f"numbers differ by at most {m['routes_max_difference']:.0e}, and match the post "
            f"to its printed digits (first hidden output {m['out_h1']:.9f}, total error "
            f"{m['error']:.9f}, "
            f"w5 to {m['after_one']['w5']:.8f}, w1 to {m['after_one']['w1']:.9f}). The post's "
            f"error after one update, 0.291027924, is what a hidden-layer gradient taken "
            f"through the already updated W2 gives ({m['error_after_one_new_W2']:.9f}; exact "
            f"{m['error_after_one']:.9f}), and its 0.0000351085 after 10,000 updates is the "
            f"error after 9,999 ({m['error_after_9999']:.6e}; exact after 10,000 "
            f"{m['error_after_10000']:.5e}). The book's dJ/dW1 and dJ/dW2 equal autograd's to "
            f"{book['max_difference']:.0e} on {book['examples']} random examples.")


def headlines(s: dict) -> list[Headline]:
    m, published = s["mazur"], mazur.PUBLISHED
    ours = {"out_h1": m["out_h1"], "out_o1": m["out_o1"], "error": m["error"],
            "w5_after_one": m["after_one"]["w5"], "w1_after_one": m["after_one"]["w1"],
            "error_after_one": m["error_after_one_new_W2"],
            "error_after_10000": m["error_after_9999"]}
    words = {"out_h1": "out_h1", "out_o1": "out_o1", "error": "total error",
             "w5_after_one": "w5 after one update", "w1_after_one": "w1 after one update",
             "error_after_one": "error after one update, the hidden layer's gradient taken "
                                "through the updated W2 (as the post's figure was)",
             "error_after_10000": "error after 9,999 updates (the post's \"10,000\")"}
    rows = [Headline(f"Mazur: {words[k]}", ours[k], float(published[k]),
                     mazur.printed_tolerance(published[k])) for k in published]
    return rows + [
        Headline("Mazur: largest difference between the three routes",
                 m["routes_max_difference"], 0.0, 1e-12),
        Headline("d2l 4.7: largest |formula - autograd| for dJ/dW", s["book"]["max_difference"],
                 0.0, 1e-10)]


def check(config: dict) -> None:
    require_graphviz()  # its graphs are half of what it shows: refused before anything runs


EXPERIMENT = Experiment(
    "backprop", TITLE, {"epochs": 100, "seed": 0}, run, check=check,
    lesson="Backpropagation is the chain rule applied backwards along the graph: done by hand "
           "it gives autograd's gradients to float64's last digits, and the graph drawn with "
           "values and gradients shows every step of it.",
    headlines=headlines, question=QUESTION, answer=answer)
