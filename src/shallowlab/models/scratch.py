"""The from-scratch track: models, losses and SGD with nothing but tensors and autograd.

Each piece states its formula; :mod:`shallowlab.models.nets` and ``torch.nn`` hold the concise
twins, and the tests check every piece here against them (values and gradients). Parameters keep the
book's layout: ``W`` is (inputs, outputs), so a layer is ``X @ W + b``.

Two departures from the book, both for numerical safety and both kept side by side with the
book's versions: the models return logits rather than probabilities, and :func:`cross_entropy`
takes logits and works through the log-sum-exp, so logits of +-1000 still give finite losses
and gradients. :func:`softmax_book` and :func:`cross_entropy_book` are the book's formulas as
printed, which overflow there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

# --- linear regression (d2l 3.2) ---------------------------------------------------------


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``y_hat = X w + b``.  Shapes: X (n, d), w (d, 1), b (1,) -> (n, 1)."""
    return X @ w + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``l = (y_hat - y)^2 / 2`` per example, unreduced; y is reshaped like y_hat."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def huber_loss(y_hat: torch.Tensor, y: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """``l = r^2 / 2`` if ``|r| <= delta``, else ``delta (|r| - delta / 2)``, r = y_hat - y.

    Quadratic near zero like :func:`squared_loss`, linear beyond ``delta``, so an outlier's
    gradient is bounded by ``delta`` instead of growing with its residual.
    """
    r = (y_hat - y.reshape(y_hat.shape)).abs()
    return torch.where(r <= delta, r**2 / 2, delta * (r - delta / 2))


def sgd(params: Sequence[torch.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch SGD after ``loss.sum().backward()``: ``p <- p - lr * p.grad / batch_size``.

    Then ``p.grad <- 0``, since autograd adds each backward pass to the last one's gradient.
    """
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad / batch_size
            p.grad.zero_()


def data_iter(batch_size: int, X: torch.Tensor, y: torch.Tensor,
              generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
    """One pass of shuffled minibatches ``(X[idx], y[idx])``; the last one is short if
    n % batch_size. The order is the one :class:`shallowlab.data.batches.Batches` draws from
    the same generator state, so the scratch and concise tracks see the same batches."""
    order = torch.randperm(len(X), generator=generator)
    for i in range(0, len(X), batch_size):
        idx = order[i: i + batch_size]
        yield X[idx], y[idx]


# --- softmax regression (d2l 3.6) --------------------------------------------------------


def softmax(O: torch.Tensor) -> torch.Tensor:
    """``softmax(O)_ij = exp(O_ij - m_i) / sum_k exp(O_ik - m_i)``, ``m_i = max_k O_ik``.

    Subtracting the row maximum changes nothing mathematically and keeps every ``exp`` <= 1.
    """
    O_exp = torch.exp(O - O.max(dim=1, keepdim=True).values)  # (n, q)
    return O_exp / O_exp.sum(dim=1, keepdim=True)


def softmax_book(O: torch.Tensor) -> torch.Tensor:
    """The book's ``exp(O) / sum exp(O)`` as printed: overflows to nan for logits near 100."""
    O_exp = torch.exp(O)
    return O_exp / O_exp.sum(dim=1, keepdim=True)


def log_softmax(O: torch.Tensor) -> torch.Tensor:
    """``log softmax(O)_ij = O_ij - m_i - log sum_k exp(O_ik - m_i)`` (log-sum-exp)."""
    shifted = O - O.max(dim=1, keepdim=True).values  # (n, q), every entry <= 0
    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))


def cross_entropy(O: torch.Tensor, y: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """``l_i = -log softmax(O)_{i, y_i}`` per example, from logits O (n, q) and labels y (n,).

    With label smoothing ``eps`` the target is ``(1 - eps) one_hot(y) + eps / q``, as in
    ``torch.nn.CrossEntropyLoss(label_smoothing=eps)``.
    """
    logp = log_softmax(O)  # (n, q)
    nll = -logp[torch.arange(len(y)), y]  # (n,)
    if smoothing == 0:
        return nll
    return (1 - smoothing) * nll - smoothing * logp.mean(dim=1)


def cross_entropy_book(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The book's ``-log(y_hat[range(n), y])`` on probabilities: inf where y_hat underflows."""
    return -torch.log(y_hat[range(len(y_hat)), y])


def correct(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The number of rows whose arg-max is the label, ``sum_i [argmax_k y_hat_ik = y_i]``
    (the book's ``accuracy``, a count), as a 0-d tensor: no host read per batch."""
    return (y_hat.argmax(dim=1).type(y.dtype) == y).sum()


class LinearRegression:
    """``y_hat = linreg(reshape(X, (n, d)), W, b)``: W (d, q) from N(0, std^2), b = 0.

    A model in the shape ``fit`` expects: callable, with ``parameters()``, ``train()``,
    ``eval()`` and ``state_dict()`` like an ``nn.Module``, but only tensors inside.
    """

    def __init__(self, num_inputs: int = 2, num_outputs: int = 1, std: float = 0.01,
                 generator: torch.Generator | None = None) -> None:
        self.W = _weight(num_inputs, num_outputs, std, generator)
        self.b = torch.zeros(num_outputs, requires_grad=True)
        self.training = True

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return linreg(X.reshape(-1, self.W.shape[0]), self.W, self.b)  # (n, q)

    def parameters(self) -> list[torch.Tensor]:
        return [self.W, self.b]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"W": self.W, "b": self.b}

    def to(self, device: torch.device | str) -> LinearRegression:
        """Move the parameters in place; they stay the leaves that ``sgd`` updates."""
        for p in self.parameters():
            p.data = p.data.to(device)
        return self

    def train(self, mode: bool = True) -> LinearRegression:
        self.training = mode
        return self

    def eval(self) -> LinearRegression:
        return self.train(False)


class SoftmaxRegression(LinearRegression):
    """``O = reshape(X, (n, 784)) W + b``, the logits; the softmax lives in ``cross_entropy``."""

    def __init__(self, num_inputs: int = 784, num_outputs: int = 10, std: float = 0.01,
                 generator: torch.Generator | None = None) -> None:
        super().__init__(num_inputs, num_outputs, std, generator)


# --- multilayer perceptron (d2l 4.2, 4.6) ------------------------------------------------


def relu(X: torch.Tensor) -> torch.Tensor:
    """``relu(x) = max(x, 0)``."""
    return torch.max(X, torch.zeros_like(X))


def dropout_layer(X: torch.Tensor, p: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Keep each entry with probability ``1 - p`` and scale it by ``1 / (1 - p)``, else 0.

    So ``E[dropout_layer(X)] = X``. ``p = 0`` returns X and ``p = 1`` returns zeros.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if p == 1:
        return torch.zeros_like(X)
    if p == 0:
        return X
    mask = (torch.rand(X.shape, generator=generator, device=X.device) > p).to(X.dtype)
    return mask * X / (1.0 - p)


def l2_penalty(w: torch.Tensor) -> torch.Tensor:
    """``||w||^2 / 2``: added as ``lambd * l2_penalty(w)`` to each example's loss (d2l 4.5)."""
    return (w**2).sum() / 2


class MLP(LinearRegression):
    """``H_k = dropout(relu(H_{k-1} W_k + b_k))`` per hidden layer, then ``O = H W + b``.

    Weights from N(0, std^2), biases 0; dropout (one probability per hidden layer, or one for
    all) applies only while ``training``. Returns logits.
    """

    def __init__(self, num_inputs: int = 784, hidden: Sequence[int] = (256,),
                 num_outputs: int = 10, dropout: float | Sequence[float] = 0.0,
                 std: float = 0.01, generator: torch.Generator | None = None) -> None:
        widths = [num_inputs, *hidden, num_outputs]
        self.weights = [_weight(i, o, std, generator) for i, o in zip(widths, widths[1:])]
        self.biases = [torch.zeros(o, requires_grad=True) for o in widths[1:]]
        drops = [dropout] * len(hidden) if isinstance(dropout, (int, float)) else list(dropout)
        if len(drops) != len(hidden):
            raise ValueError(f"{len(drops)} dropout values for {len(hidden)} hidden layers")
        self.dropout, self.training = drops, True
        self.W = self.weights[0]  # the input width, for the reshape

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        H = X.reshape(-1, self.W.shape[0])
        for W, b, p in zip(self.weights, self.biases, self.dropout):
            H = relu(H @ W + b)  # (n, h)
            if self.training and p > 0:
                H = dropout_layer(H, p)
        return H @ self.weights[-1] + self.biases[-1]  # (n, q)

    def parameters(self) -> list[torch.Tensor]:
        return [t for pair in zip(self.weights, self.biases) for t in pair]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {f"{kind}{i}": t for i, (W, b) in enumerate(zip(self.weights, self.biases), 1)
                for kind, t in (("W", W), ("b", b))}


def _weight(fan_in: int, fan_out: int, std: float,
            generator: torch.Generator | None) -> torch.Tensor:
    # Drawn as (fan_out, fan_in), the order nn.Linear draws in, then transposed: the same seed
    # then gives a scratch model and its concise twin the very same starting point.
    W = torch.empty(fan_out, fan_in)
    if std > 0:
        W.normal_(0.0, std, generator=generator)
    else:
        W.zero_()
    return W.T.contiguous().requires_grad_()
