"""The training step of an MLP written out by hand, with each SGD update fused into a product.

For ``nn.Sequential(Flatten, Linear, ReLU, ..., Linear)`` trained with
``nn.CrossEntropyLoss(reduction="none")`` and ``torch.optim.SGD``, one step is the forward and
backward propagation of d2l 4.7, with no autograd graph:

    forward:   H_k = relu(H_{k-1} W_k^T + b_k),   O = H_{L-1} W_L^T + b_L,
               l_i = -log softmax(o_i)_{y_i}
    backward:  G_L = (softmax(O) - onehot(y)) / B          (the gradient of the mean loss)
               dW_k = G_k^T H_{k-1},   db_k = G_k^T 1,
               G_{k-1} = (G_k W_k) * [H_{k-1} > 0]            (before W_k changes)
    update:    W <- W - lr (dW + wd W)                        (SGD; with momentum mu,
               v <- mu v + dW + wd W,  W <- W - lr v           as torch.optim.SGD does)

Every activation and gradient is held features x batch (``A_k^T``, ``G_k^T``), so that each
product takes contiguous operands where it can: ``A_k^T = relu(W_k A_{k-1}^T + b_k)``, the
logits ``O^T`` (classes x batch: a softmax down a contiguous column of 10 costs a third of one
along a row), ``dW_k = G_k^T A_{k-1}``. In fp32 each ``dW`` is never stored:
``W.addmm_(G^T, A, beta=1 - lr wd, alpha=-lr / B)`` computes the product and the update in one
call, and a bias update is one ``addmv_``. About 15 tensor operations per step, against some 40
for autograd with an optimizer: on a small CPU, where an operation costs microseconds whatever
its size, that is most of the difference between an epoch and its matrix products.

With ``precision="bf16"`` each layer computes in the dtype :func:`layer_dtypes` gives it: bf16
where both its widths are at least ``SMALL``, fp32 for the narrow ones (the 10 classes), which
a CPU multiplies faster in fp32. A bf16 layer's weights are cast once a step into a kept
tensor, its input arrives in bf16 (the training images held in bf16,
:func:`shallowlab.core.steps.held_for`, or converted into a kept tensor), its product's output is
converted for the layer above into a kept tensor (``copy_``: an element-wise operation on two
dtypes would convert into a fresh tensor first), and its ``dW`` (bf16) is converted to fp32 for
the update, which with momentum or weight decay is torch's one-pass SGD kernel. The softmax, the
loss, the fp32 master weights and the update stay in fp32, as autocast's bf16 does (the bias
gradient of a bf16 gradient is its sum rounded to bf16, as there).

The results equal autograd's to float rounding (``tests/test_fused.py`` compares gradients,
updates and whole epochs). :func:`unsupported` says why a model, loss or optimizer does not fit
this step; :func:`shallowlab.core.steps.resolve_engine` then picks autograd.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

SMALL = 32  # a product with fewer rows or columns than this stays in fp32 under bf16


def layer_dtypes(shapes: list[tuple[int, int]], precision: str = "fp32") -> list[torch.dtype]:
    """The dtype each layer's products take, for weights of ``shapes`` (out x in).

    fp32: all fp32. bf16: bf16 for a layer whose inputs and outputs are both at least
    ``SMALL``, fp32 for the rest: on a CPU with AMX a product with 10 columns runs at half its
    fp32 speed in bf16, and the casts around it cost more than it does.
    """
    low = precision == "bf16"
    return [torch.bfloat16 if low and min(shape) >= SMALL else torch.float32
            for shape in shapes]


@functools.cache
def fused_sgd_on(device_type: str) -> bool:
    """Whether this torch has the one-pass SGD kernel of ``torch.optim.SGD(fused=True)``
    (``torch._fused_sgd_``) on ``device_type``: on the CPU since torch 2.4 or so."""
    try:
        p = torch.zeros(1, device=device_type)
        torch._fused_sgd_([p], [p.clone()], [], weight_decay=0.0, momentum=0.0, lr=0.0,
                          dampening=0.0, nesterov=False, maximize=False, is_first_step=False)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False
    return True


def unsupported(model, loss_fn, updater) -> str | None:
    """Why :class:`FusedStep` cannot train this combination, or None when it can."""
    if not isinstance(model, nn.Sequential):
        return "the model is not an nn.Sequential"
    layers = [m for m in model if not (isinstance(m, nn.Dropout) and m.p == 0)]
    if layers and isinstance(layers[0], nn.Flatten):
        if (layers[0].start_dim, layers[0].end_dim) != (1, -1):
            return "the model's Flatten is not Flatten(1, -1)"
        layers = layers[1:]
    kinds = "".join("L" if isinstance(m, nn.Linear) else "R" if isinstance(m, nn.ReLU) else "?"
                    for m in layers)
    if not kinds or kinds.replace("LR", "") != "L":
        return "the model's layers are not Linear, ReLU, ..., Linear"
    if any(m.bias is None for m in layers if isinstance(m, nn.Linear)):
        return "a Linear layer has no bias"
    if not isinstance(loss_fn, nn.CrossEntropyLoss) or loss_fn.reduction != "none":
        return "the loss is not nn.CrossEntropyLoss(reduction='none')"
    if loss_fn.weight is not None or loss_fn.label_smoothing:
        return "the loss has class weights or label smoothing"
    if type(updater) is not torch.optim.SGD:
        return "the optimizer is not torch.optim.SGD"
    for group in updater.param_groups:
        if group["nesterov"] or group["dampening"] or group["maximize"]:
            return "SGD with nesterov, dampening or maximize"
    owned = {p for g in updater.param_groups for p in g["params"]}
    if owned != set(model.parameters()):
        return "the optimizer does not own exactly the model's parameters"
    return None


class FusedStep:
    """One training step in two halves, as :func:`shallowlab.core.loop.fit` drives every step.

    ``forward(X, y)`` returns the logits and the per-example losses (no graph);
    ``update()`` then back-propagates and changes the parameters. Between the two, ``fit``
    can look at the loss and stop before anything changes. ``input_dtype`` is the dtype the
    first product takes: inputs held in it (bf16 training images) are used as they come.
    """

    engine = "fused"

    def __init__(self, model: nn.Sequential, loss_fn, optimizer: torch.optim.SGD,
                 precision: str = "fp32") -> None:
        reason = unsupported(model, loss_fn, optimizer)
        if reason:
            raise ValueError(f"FusedStep cannot train this: {reason}")
        self.layers = [(m.weight, m.bias) for m in model if isinstance(m, nn.Linear)]
        # by index: optimizer.load_state_dict (a resumed run) replaces the group dicts
        self.group = {p: i for i, g in enumerate(optimizer.param_groups) for p in g["params"]}
        # Detached views share the parameters' storage: updating them in place updates the
        # model, and no operation here records an autograd graph (nor needs no_grad's cost).
        self.data = {p: p.detach() for p in self.group}
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.device, self.precision = model[-1].weight.device, precision
        self.dtypes = layer_dtypes([tuple(W.shape) for W, _ in self.layers], precision)
        self.input_dtype = self.dtypes[0]
        self.columns = [self.data[b].unsqueeze(1) for _, b in self.layers]  # b as (n, 1)
        self.mixed = any(d != torch.float32 for d in self.dtypes)
        self._buffers: dict[tuple, torch.Tensor] = {}
        self._cast_at: dict[int, int] = {}  # layer -> its weights' version when last cast
        self._saved = None

    def _buffer(self, key: tuple, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """A work tensor kept from step to step: a fresh one each step would cost page faults
        and allocator work for every large intermediate."""
        t = self._buffers.get(key)
        if t is None or t.shape != shape:
            t = self._buffers[key] = torch.empty(shape, dtype=dtype, device=self.device)
        return t

    def _weight(self, k: int, fresh: bool = False) -> torch.Tensor:
        """Layer k's weight as its products take it: a bf16 copy, cast once per step.

        The update casts it (``fresh``) right after it changes the weights, while they are in
        the cache; the forward pass casts again only if the weights' version counter says
        something else has changed them since (``load_state_dict``, any in-place change).
        """
        W = self.data[self.layers[k][0]]
        if self.dtypes[k] == W.dtype:
            return W
        low = self._buffer(("weight", k), W.shape, self.dtypes[k])
        if fresh or self._cast_at.get(k) != W._version:
            low.copy_(W)
            self._cast_at[k] = W._version
        return low

    def forward(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, last = len(X), len(self.layers) - 1
        X = X.reshape(B, -1)
        if X.dtype != self.dtypes[0]:
            X = self._buffer(("input", B), X.shape, self.dtypes[0]).copy_(X)
        A, weights = [X.t()], [self._weight(k) for k in range(last + 1)]  # A_k: n_k x batch
        for k in range(last):
            A.append(self._hidden(k, weights[k], A[k]))
        b = self.columns[last]
        OT = torch.addmm(b, weights[last], A[last]) if self.dtypes[last] == b.dtype \
            else torch.add(weights[last] @ A[last], b)  # classes x batch, in fp32
        logp = OT.log_softmax(0)
        y = y.unsqueeze(0)
        loss = logp.gather(0, y).neg_()[0]
        self._saved = (A, weights, logp, y)
        return OT.t(), loss

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """The model's output for ``X`` as this step computes it: in fp32 the model itself;
        in bf16 each layer in its dtype and the logits in fp32, as in training (an evaluation
        4 to 5 times faster than fp32's on a CPU with AMX, whose logits do not tie as bf16's
        would). Fresh tensors, nothing kept: it may run under inference mode."""
        if not self.mixed:
            return self.model(X)
        A, last = X.reshape(len(X), -1).to(self.dtypes[0]).t(), len(self.layers) - 1
        for k in range(last + 1):
            Z = self.data[self.layers[k][0]].to(self.dtypes[k]) @ A  # n_k x batch
            if k == last:
                return Z.float().add_(self.columns[k]).t()
            low = self.dtypes[k + 1]
            if Z.dtype == low:
                A = Z.add_(self.columns[k].to(low)).relu_()
            else:  # the bias in fp32, as in training, then the next layer's dtype
                A = Z.float().add_(self.columns[k]).relu_().to(low)
        raise AssertionError("unreachable: the last layer returns")

    def _hidden(self, k: int, W: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """``relu(W A + b)`` for layer k, computed in its dtype, held in the next layer's.

        Every conversion is a ``copy_`` into a kept tensor: an element-wise operation on two
        dtypes converts its inputs into a fresh tensor first, on the CPU.
        """
        b, shape = self.columns[k], (W.shape[0], A.shape[1])
        low, out = self.dtypes[k], self.dtypes[k + 1]
        H = self._buffer(("hidden", k), shape, out) if low != out or low == b.dtype else None
        if low == b.dtype:  # fp32: the bias and the product in one call
            Z = torch.addmm(b, W, A, out=H if out == low else None).relu_()
            return Z if Z is H else H.copy_(Z)
        Z = torch.mm(W, A, out=self._buffer(("z", k), shape, low))  # the product alone
        if H is None:  # bf16 on to a bf16 layer
            return Z.add_(b.to(low)).relu_()
        return H.copy_(Z).add_(b).relu_()  # on to an fp32 layer: the bias in fp32

    def update(self) -> None:
        A, weights, G, y = self._saved  # y: 1 x batch
        self._saved = None
        B = y.shape[1]
        G = G.exp_()  # softmax(O)^T; less onehot(y)^T it is the output gradient, times B
        G.scatter_add_(0, y, self._ones(B, G.dtype, value=-1.0))
        scale = 1 / B  # fp32: folded into each update's alpha, in the products
        if self.mixed:  # bf16: into G once, so no pass over the weights' gradients does it
            G, scale = G.mul_(scale), 1.0
        for k in range(len(self.layers) - 1, -1, -1):  # G: n_k x batch
            G_in = self._converted(("grad in", k, B), G, self.dtypes[k])  # as k's products take
            G_below = None
            if k:  # the gradient for the layer below, taken before W changes, through the mask
                G_below = weights[k].t() @ G_in
                torch.ops.aten.threshold_backward.grad_input(G_below, A[k], 0,
                                                             grad_input=G_below)
            self._update(k, G, G_in, A[k], scale)
            G = G_below

    def _converted(self, key: tuple, t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """``t`` in ``dtype``: itself, or its conversion into a kept tensor."""
        return t if t.dtype == dtype else self._buffer(key, t.shape, dtype).copy_(t)

    def _ones(self, B: int, dtype: torch.dtype = torch.float32, value: float = 1.0
               ) -> torch.Tensor:
        """A kept vector of B ``value``s (a 1 x B row for -1, the one-hot's subtrahend)."""
        key = ("ones", dtype, value)
        ones = self._buffers.get(key)
        if ones is None or ones.shape[-1] != B:
            shape = (B,) if value == 1 else (1, B)
            ones = self._buffers[key] = torch.full(shape, value, dtype=dtype,
                                                   device=self.device)
        return ones

    def _update(self, k: int, G: torch.Tensor, G_in: torch.Tensor, A: torch.Tensor,
                scale: float) -> None:
        """Layer k's SGD updates for ``dW = scale G A^T`` and ``db = scale G 1``; ``G_in`` is
        ``G`` in the layer's dtype. In fp32 each product is fused with its update; in bf16 the
        weights' product goes to a kept bf16 tensor, converted to fp32 for the update."""
        W, b = self.layers[k]
        if G.dtype == self.data[b].dtype:
            ones = self._ones(G.shape[1], G.dtype)
            self._sgd(b, lambda t, beta, alpha: t.addmv_(G, ones, beta=beta, alpha=alpha),
                      scale)
        else:  # a bf16 gradient's sum (accumulated in fp32, rounded to bf16, as autocast's)
            self._sgd(b, self._adder(G.sum(1)), scale)
        if G_in.dtype == self.data[W].dtype:
            self._sgd(W, lambda t, beta, alpha: t.addmm_(G_in, A.t(), beta=beta, alpha=alpha),
                      scale)
            return
        dW = torch.mm(G_in, A.t(), out=self._buffer(("dW", k), W.shape, G_in.dtype))
        g = self._converted(("dW fp32", k), dW, self.data[W].dtype)
        group = self.optimizer.param_groups[self.group[W]]
        if (group["momentum"] or group["weight_decay"]) and fused_sgd_on(self.device.type):
            self._sgd_one_pass(W, g, scale)  # one pass where _sgd makes three or four
        else:
            self._sgd(W, self._adder(g), scale)
        self._weight(k, fresh=True)  # the next step's bf16 weights, cast while W is cached

    def _sgd_one_pass(self, param: torch.Tensor, g: torch.Tensor, scale: float) -> None:
        """What :meth:`_sgd` does, in one pass over the weights, by the kernel of
        ``torch.optim.SGD(fused=True)``; it overwrites ``g``."""
        p, group = self.data[param], self.optimizer.param_groups[self.group[param]]
        mu = group["momentum"]
        state = self.optimizer.state[param]
        first = bool(mu) and state.get("momentum_buffer") is None
        if first:
            state["momentum_buffer"] = torch.empty_like(p)
        per = None  # the kernel divides the gradient by it (and writes it back)
        if scale != 1:
            per = self._buffers.get(("per", scale))
            if per is None:
                per = self._buffers[("per", scale)] = torch.tensor(1 / scale,
                                                                   device=self.device)
        torch._fused_sgd_([p], [g], [state["momentum_buffer"]] if mu else [],
                          weight_decay=group["weight_decay"], momentum=mu, lr=group["lr"],
                          dampening=0.0, nesterov=False, maximize=False, is_first_step=first,
                          grad_scale=per)

    @staticmethod
    def _adder(g: torch.Tensor):
        """``accumulate`` for :meth:`_sgd` with the gradient ``g`` computed apart."""
        return lambda t, beta, alpha: (t if beta == 1 else t.mul_(beta)).add_(g, alpha=alpha)

    def _sgd(self, param: torch.Tensor, accumulate, scale: float) -> None:
        """``torch.optim.SGD``'s update of ``param`` for the gradient ``scale g``, where
        ``accumulate(t, beta, alpha)`` does ``t <- beta t + alpha g``."""
        p, group = self.data[param], self.optimizer.param_groups[self.group[param]]
        lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
        if not mu:  # p <- (1 - lr wd) p - lr scale g
            accumulate(p, 1 - lr * wd, -lr * scale)
            return
        state = self.optimizer.state[param]
        buf = state.get("momentum_buffer")
        if buf is None:  # the first step: v = g + wd p
            buf = state["momentum_buffer"] = p * wd
            accumulate(buf, 1.0, scale)
        else:  # v <- mu v + g + wd p
            if wd:
                buf.mul_(mu).add_(p, alpha=wd)
            accumulate(buf, 1.0 if wd else mu, scale)
        p.sub_(buf, alpha=lr)
