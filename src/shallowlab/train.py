"""``fit`` and ``evaluate``: a training loop that knows nothing about the model it trains.

The history of a fit is a plain list of per-epoch records, each a dict with the keys of
:data:`HISTORY_KEYS`, ready for ``json.dump``. Metrics are summed on the tensor side and read
once per epoch (on a terminal, also at most twice a second for the progress bar), so the loop
never waits on the host between batches.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

from shallowlab.metrics import correct

HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")
Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.inference_mode()
def evaluate(model: nn.Module, loss_fn: LossFn, batches: Iterable[Batch]) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``batches``, in evaluation mode.

    ``loss_fn`` returns the mean loss of a batch; the result weights each batch by its size.
    """
    was_training = model.training
    model.eval()
    loss_sum = hits = None
    n = 0
    for X, y in batches:
        out = model(X)
        batch_loss = loss_fn(out, y) * len(y)
        batch_hits = correct(out, y)
        loss_sum = batch_loss if loss_sum is None else loss_sum + batch_loss
        hits = batch_hits if hits is None else hits + batch_hits
        n += len(y)
    model.train(was_training)
    if n == 0:
        raise ValueError("evaluate() got no batches")
    return loss_sum.item() / n, hits.item() / n


def _bar(total: int, desc: str):
    from tqdm import tqdm  # only on a terminal

    return tqdm(total=total, desc=desc, leave=True, dynamic_ncols=True, file=sys.stderr)


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    train: Iterable[Batch],
    *,
    epochs: int,
    test: Iterable[Batch] | None = None,
    history: list[dict] | None = None,
    on_epoch_end: Callable[[list[dict]], None] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Train ``model`` for ``epochs`` passes over ``train``; returns the history.

    Each step is ``optimizer.zero_grad(); loss_fn(model(X), y).backward(); optimizer.step()``
    with ``loss_fn`` mean-reduced. ``train_loss`` and ``train_acc`` are means over the epoch's
    batches as they were trained (the book's convention); ``test_loss`` and ``test_acc`` are
    measured on ``test`` after the epoch (None without ``test``).

    Args:
        history: records of epochs already trained; training continues after the last one.
        on_epoch_end: called with the history after each epoch (to save, plot, checkpoint).
        progress: a tqdm bar per epoch when True, one plain line per epoch when False;
            None picks the bar when stderr is a terminal.
    """
    history = list(history or [])
    bar = sys.stderr.isatty() if progress is None else progress
    for epoch in range(len(history) + 1, epochs + 1):
        start = time.perf_counter()
        model.train()
        loss_sum = torch.zeros(())
        hits = torch.zeros((), dtype=torch.long)
        n = 0
        pbar = _bar(len(train) if hasattr(train, "__len__") else None, f"epoch {epoch}/{epochs}") \
            if bar else None
        shown = start
        for X, y in train:
            if loss_sum.device != X.device:
                loss_sum, hits = loss_sum.to(X.device), hits.to(X.device)
            out = model(X)
            loss = loss_fn(out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                loss_sum += loss.detach() * len(y)
                hits += correct(out, y)
            n += len(y)
            if pbar is not None:
                pbar.update()
                if time.perf_counter() - shown > 0.5:  # a host read, twice a second at most
                    shown = time.perf_counter()
                    pbar.set_postfix(loss=f"{loss_sum.item() / n:.4f}",
                                     acc=f"{hits.item() / n:.3f}", refresh=False)
        if n == 0:
            raise ValueError("fit() got an empty training set")
        record = {"epoch": epoch, "train_loss": loss_sum.item() / n, "train_acc": hits.item() / n,
                  "test_loss": None, "test_acc": None}
        if test is not None:
            record["test_loss"], record["test_acc"] = evaluate(model, loss_fn, test)
        record["seconds"] = time.perf_counter() - start
        history.append(record)
        line = format_record(record, epochs)
        if pbar is not None:
            pbar.set_postfix_str(line.split("  ", 1)[1], refresh=True)
            pbar.close()
        else:
            log(line)
        if on_epoch_end is not None:
            on_epoch_end(history)
    return history


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; any other name is taken as given."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def format_record(record: dict, epochs: int) -> str:
    """One line for an epoch: ``epoch 3/10  train loss 0.5123 acc 0.812  test ...  1.2s``."""
    line = (f"epoch {record['epoch']}/{epochs}  train loss {record['train_loss']:.4f} "
            f"acc {record['train_acc']:.3f}")
    if record["test_loss"] is not None:
        line += f"  test loss {record['test_loss']:.4f} acc {record['test_acc']:.3f}"
    return line + f"  {record['seconds']:.1f}s"
