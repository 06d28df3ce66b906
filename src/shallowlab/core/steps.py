"""Training steps: how one batch is computed, and the choice among the ways to compute it.

A step is anything with ``model``, ``loss_fn``, ``device``, ``engine`` and two halves that
:func:`shallowlab.core.loop.fit` drives for every batch: ``forward(X, y)`` returns the model's
output and the per-example losses; ``update()`` back-propagates and changes the parameters.
Between the two the loop can look at the loss and stop before anything changes. The caller
picks the step once (:func:`make_step`); the loop never looks inside it.

    autograd   the book's step (d2l ``train_epoch_ch3``): autograd, then the optimizer
    fused      the MLP's forward, backward and SGD update written out (:mod:`shallowlab.core.fused`)
    compiled   autograd through ``torch.compile(model)``; CUDA graphs on a GPU
    auto       fused wherever it applies, autograd elsewhere

Each step computes in ``precision``: ``fp32``, or ``bf16``: the matrix products in bfloat16
(8 bits of mantissa, the range of fp32), the weights, the loss, the softmax and the update in
fp32, as Lightning's "bf16-mixed" and Keras's "mixed_bfloat16" do. Autograd gets it from
``torch.autocast``; the fused step casts its operands itself.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from shallowlab.core.fused import FusedStep, unsupported
from shallowlab.data.pages import huge_empty, huge_paged

ENGINES = ("auto", "autograd", "fused", "compiled")
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Updater = torch.optim.Optimizer | Callable[[int], None]

PRECISIONS = ("fp32", "bf16")
__all__ = ["ENGINES", "PRECISIONS", "STEPS", "AutogradStep", "FusedStep", "held_for",
           "make_step", "resolve_engine"]


def device_of(model) -> torch.device:
    """The device of the model's first parameter (the CPU for a model without any, or for a
    plain function, as the book's from-scratch ``net`` is)."""
    params = model.parameters() if hasattr(model, "parameters") else ()
    return next(iter(params), torch.empty(0)).device


class AutogradStep:
    """The book's training step: the model's forward pass, then autograd and the updater.

    With a ``torch.optim.Optimizer`` ``update()`` is ``zero_grad(); l.mean().backward();
    step()``; any other updater is the from-scratch kind, called as ``updater(batch_size)``
    after ``l.sum().backward()`` (d2l's ``sgd`` divides by the batch size itself).
    """

    engine = "autograd"

    def __init__(self, model, loss_fn: LossFn, updater: Updater, net=None,
                 precision: str = "fp32") -> None:
        self.model, self.loss_fn, self.updater = model, loss_fn, updater
        self.net = model if net is None else net  # what computes the forward pass
        self.device = device_of(model)
        self.bf16 = precision == "bf16"
        self._loss, self._batch_size = None, 0

    def forward(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bf16:  # the products in bf16; the output back in fp32 for the loss
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                out = self.net(X)
            out = out.float()
        else:
            out = self.net(X)
        self._loss, self._batch_size = self.loss_fn(out, y), len(y)
        return out, self._loss

    def update(self) -> None:
        loss, self._loss = self._loss, None
        if isinstance(self.updater, torch.optim.Optimizer):
            self.updater.zero_grad(set_to_none=True)
            loss.mean().backward()
            self.updater.step()
        else:
            loss.sum().backward()
            self.updater(self._batch_size)


class CompiledStep(AutogradStep):
    """Autograd through ``torch.compile(model)``: seconds to compile, then fewer launches.

    On a GPU with CUDA graphs (``mode="reduce-overhead"``), where launching many small
    kernels is the bottleneck; on a small CPU it has not paid here. The model itself stays
    uncompiled for evaluation.
    """

    engine = "compiled"

    def __init__(self, model, loss_fn: LossFn, updater: Updater, precision: str = "fp32") -> None:
        on_gpu = device_of(model).type == "cuda"
        super().__init__(model, loss_fn, updater,
                         torch.compile(model, mode="reduce-overhead" if on_gpu else None),
                         precision)


def resolve_engine(model, loss_fn: LossFn, updater: Updater,
                   engine: str = "auto") -> tuple[str, str | None]:
    """The engine ``engine`` comes to for this model, and why the fused step does not apply
    when ``auto`` falls back to ``autograd`` (else None).

    ``fused`` insists on the fused step: ``ValueError`` with the reason where it does not
    apply (see :func:`shallowlab.core.fused.unsupported`).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if engine not in ("auto", "fused"):
        return engine, None
    reason = unsupported(model, loss_fn, updater)
    if reason is None:
        return "fused", None
    if engine == "fused":
        raise ValueError(f"the fused step cannot train this: {reason}")
    return "autograd", reason


STEPS = {"autograd": AutogradStep, "fused": FusedStep, "compiled": CompiledStep}


def make_step(model, loss_fn: LossFn, updater: Updater, engine: str = "auto",
              precision: str = "fp32"):
    """The step for ``engine`` (see :func:`resolve_engine`): a :class:`FusedStep`,
    :class:`CompiledStep` or :class:`AutogradStep` over ``model``, ``loss_fn`` and ``updater``,
    computing in ``precision``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    step = STEPS[resolve_engine(model, loss_fn, updater, engine)[0]]
    return step(model, loss_fn, updater, precision=precision)


def held_for(step, X: torch.Tensor) -> torch.Tensor:
    """The training inputs ``X`` as ``step`` takes them best, for a whole run: in the dtype of
    its first product (bf16 for a bf16 fused step: half the bytes to gather, and no conversion
    in every step), with the values the step's own conversion of each batch would give; and,
    on the CPU, in memory backed by 2 MB pages (:mod:`shallowlab.data.pages`: a shuffled
    batch's gather then misses the TLB far less). A small ``X`` comes back as it is.
    """
    dtype = getattr(step, "input_dtype", X.dtype)
    if dtype == X.dtype or not X.is_floating_point():
        return huge_paged(X)
    held = huge_empty(tuple(X.shape), dtype, X.device)
    return held.copy_(X)
