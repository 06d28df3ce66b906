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

Each ``dW`` is never stored: ``W.addmm_(G^T, H, beta=1 - lr wd, alpha=-lr / B)`` computes the
product and the update in one call, and a bias update is one ``addmv_``. The output layer is
computed transposed, ``O^T = W_L H^T + b_L`` (classes x batch), because a softmax down a
contiguous column of 10 costs a third of one along a row of 10. About 15 tensor operations per
step, against some 40 for autograd with an optimizer: on a small CPU, where an operation costs
microseconds whatever its size, that is most of the difference between an epoch and its
matrix products.

With ``precision="bf16"`` every product takes bfloat16 operands (the activations are kept in
bf16, the weights cast at each step), while the softmax, the loss, the bias gradients and the
update stay in fp32, on fp32 weights.

The results equal autograd's to float rounding (``tests/test_fused.py`` compares gradients,
updates and whole epochs). :func:`unsupported` says why a model, loss or optimizer does not fit
this step; :func:`shallowlab.core.steps.resolve_engine` then picks autograd.
"""

from __future__ import annotations

import torch
from torch import nn


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
    can look at the loss and stop before anything changes.
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
        self.device = model[-1].weight.device
        self._ones = torch.empty(0)
        self._saved = None
        self.low = torch.bfloat16 if precision == "bf16" else None

    def _in(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` as a product's operand: in bf16 where the step computes in bf16."""
        return t if self.low is None else t.to(self.low)

    def forward(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        data, low = self.data, self._in
        H = [low(X.reshape(len(X), -1))]
        for W, b in self.layers[:-1]:  # addmm: bias + product in one call; relu in place
            H.append(torch.addmm(low(data[b]), H[-1], low(data[W]).t()).relu_())
        W, b = self.layers[-1]
        OT = torch.addmm(low(data[b])[:, None], low(data[W]), H[-1].t())  # classes x batch
        OT = OT if self.low is None else OT.float()  # the softmax and the loss in fp32
        logp = OT.log_softmax(0)
        loss = logp.gather(0, y[None]).neg_()[0]
        self._saved = (H, logp, y)
        return OT.t(), loss

    def update(self) -> None:
        H, G, y = self._saved
        self._saved = None
        B = len(y)
        if len(self._ones) != B or self._ones.device != y.device:
            self._ones = torch.ones(B, dtype=G.dtype, device=G.device)
        ones = self._ones
        G = G.exp_()  # softmax(O)^T; less onehot(y)^T it is the output gradient, times B
        G.scatter_add_(0, y[None], -ones[None])
        G = G.t()  # batch x classes, as every layer below
        for k in range(len(self.layers) - 1, -1, -1):
            W, b = self.layers[k]
            # the gradient for the layer below, taken before W changes, through relu's mask
            G_below = torch.ops.aten.threshold_backward(
                self._in(G) @ self._in(self.data[W]), H[k], 0) if k else None
            self._sgd(W, G.t(), H[k], 1 / B)
            self._sgd(b, G.t(), ones, 1 / B)
            G = G_below

    def _sgd(self, param: torch.Tensor, a: torch.Tensor, b: torch.Tensor, scale: float) -> None:
        """``torch.optim.SGD``'s update of ``param`` for the gradient ``scale * a @ b``, fused."""
        p, group = self.data[param], self.optimizer.param_groups[self.group[param]]
        lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
        if self.low is None:  # t <- beta t + alpha a b, in one call
            product = torch.Tensor.addmm_ if b.dim() == 2 else torch.Tensor.addmv_

            def accumulate(t, beta=1.0, alpha=1.0):
                product(t, a, b, beta=beta, alpha=alpha)
        else:  # the weights' product in bf16, the biases' sum and the update in fp32
            g = torch.mm(self._in(a), self._in(b)).float() if b.dim() == 2 else \
                torch.mv(a.float(), b)

            def accumulate(t, beta=1.0, alpha=1.0):
                (t if beta == 1 else t.mul_(beta)).add_(g, alpha=alpha)
        if not mu:  # p <- (1 - lr wd) p - lr scale a b
            accumulate(p, beta=1 - lr * wd, alpha=-lr * scale)
            return
        state = self.optimizer.state[param]
        buf = state.get("momentum_buffer")
        if buf is None:  # the first step: v = g + wd p
            buf = state["momentum_buffer"] = p * wd
            accumulate(buf, alpha=scale)
        else:  # v <- mu v + g + wd p
            if wd:
                buf.mul_(mu).add_(p, alpha=wd)
            accumulate(buf, beta=1 if wd else mu, alpha=scale)
        p.sub_(buf, alpha=lr)
