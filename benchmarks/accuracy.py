"""Whether bf16 buys its speed with accuracy: the book's MLP in fp32 and in bf16, same seeds.

The MLP 784-256-10 with the book's settings (batch 256, SGD lr 0.1, N(0, 0.01) weights) trained
by the fused step for ``epochs`` epochs (the book's 10) from each of ``seeds`` seeds (the weights'
and the batches' order), in fp32 and in bf16 (the images held in bf16, as a bf16 run holds
them); the test accuracy after the last epoch. The claim compared is the median over the seeds:
bf16's minus fp32's (:func:`compare`). The two precisions of a seed start from the same weights
and see the same batches.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from benchmarks.common import BATCH, LR, STD
from shallowlab.core.loop import fit
from shallowlab.core.steps import held_for, make_step
from shallowlab.data.batches import Batches, to_unit
from shallowlab.models import nets

EVAL_BATCH = 4096


def final_test_acc(ds, precision: str, seed: int, epochs: int) -> float:
    """The test accuracy after ``epochs`` epochs of the book's MLP in ``precision``."""
    model = nets.init_(nets.mlp(784, (256,), 10), "normal", STD,
                       generator=torch.Generator().manual_seed(seed))
    loss = nn.CrossEntropyLoss(reduction="none")
    step = make_step(model, loss, torch.optim.SGD(model.parameters(), lr=LR), "fused",
                     precision)
    train = Batches(held_for(step, to_unit(ds.train_images)), ds.train_labels, BATCH,
                    generator=torch.Generator().manual_seed(seed + 1))
    test = Batches(to_unit(ds.test_images), ds.test_labels, EVAL_BATCH, shuffle=False)
    history = fit(step, train, epochs=epochs, test=test, progress=False, log=lambda s: None)
    return history[-1]["test_acc"]


def compare(ds, seeds: int = 3, epochs: int = 10) -> dict:
    """Per precision the final test accuracy of each seed and their median; ``gap`` is bf16's
    median minus fp32's."""
    accs = {p: [final_test_acc(ds, p, seed, epochs) for seed in range(seeds)]
            for p in ("fp32", "bf16")}
    medians = {p: statistics.median(a) for p, a in accs.items()}
    return {"epochs": epochs, "seeds": seeds, "test_acc": accs, "median": medians,
            "gap": medians["bf16"] - medians["fp32"]}
