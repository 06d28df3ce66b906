"""Every scratch piece against its torch counterpart; whole scratch and concise runs compared."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shallowlab.core.loop import fit
from shallowlab.core.steps import AutogradStep
from shallowlab.data.batches import Batches
from shallowlab.experiments import linreg, mlp, softmax
from shallowlab.models import scratch
from shallowlab.runs.classifier import concise_setup, scratch_setup
from tests.conftest import toy_images

close = torch.testing.assert_close


def _grads(fn, *inputs):
    """Values and input gradients of ``fn`` under a fixed random weighting of its output."""
    inputs = [x.detach().clone().requires_grad_() for x in inputs]
    out = fn(*inputs)
    weight = torch.randn(out.shape, generator=torch.Generator().manual_seed(0), dtype=out.dtype)
    (out * weight).sum().backward()
    return out.detach(), [x.grad for x in inputs]


def _same(ours, theirs, *inputs):
    (v1, g1), (v2, g2) = _grads(ours, *inputs), _grads(theirs, *inputs)
    close(v1, v2)
    close(g1, g2)


G = torch.Generator().manual_seed(1)
X = torch.randn(16, 5, generator=G, dtype=torch.float64)
W = torch.randn(5, 3, generator=G, dtype=torch.float64)
B = torch.randn(3, generator=G, dtype=torch.float64)
Y = torch.randint(0, 3, (16,), generator=G)
T = torch.randn(16, 3, generator=G, dtype=torch.float64) * 3


def test_linreg_is_a_linear_layer():
    _same(scratch.linreg, lambda x, w, b: F.linear(x, w.T, b), X, W, B)


def test_squared_loss_is_half_the_mse():
    _same(scratch.squared_loss, lambda a, b: F.mse_loss(a, b, reduction="none") / 2, X @ W, T)


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_loss_is_torchs(delta):
    _same(lambda a, b: scratch.huber_loss(a, b, delta),
          lambda a, b: F.huber_loss(a, b, reduction="none", delta=delta), T, X @ W)


def test_softmax_and_log_softmax_are_torchs():
    _same(scratch.softmax, lambda o: torch.softmax(o, dim=1), T)
    _same(scratch.log_softmax, lambda o: torch.log_softmax(o, dim=1), T)
    _same(scratch.softmax_book, lambda o: torch.softmax(o, dim=1), T)  # fine at small logits


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_cross_entropy_is_torchs(smoothing):
    _same(lambda o: scratch.cross_entropy(o, Y, smoothing),
          lambda o: F.cross_entropy(o, Y, reduction="none", label_smoothing=smoothing), T)


def test_cross_entropy_book_on_probabilities_agrees_at_small_logits():
    close(scratch.cross_entropy_book(scratch.softmax_book(T), Y), scratch.cross_entropy(T, Y))


def test_huge_logits_stay_finite_where_the_books_formula_breaks():
    O = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], requires_grad=True)
    y = torch.tensor([1, 2])
    loss = scratch.cross_entropy(O, y)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(O.grad).all()
    close(loss, F.cross_entropy(O.detach(), y, reduction="none"))
    close(scratch.softmax(O.detach()), torch.softmax(O.detach(), dim=1))
    assert torch.isnan(scratch.softmax_book(O.detach())).any()  # exp(1000) = inf, inf/inf
    assert not torch.isfinite(scratch.cross_entropy_book(scratch.softmax_book(O.detach()), y)).all()


def test_relu_and_l2_penalty():
    _same(scratch.relu, torch.relu, X)  # X has no exact zeros, where the derivative is a choice
    _same(lambda w: scratch.l2_penalty(w).reshape(1), lambda w: (w.norm() ** 2 / 2).reshape(1), W)


def test_correct_counts_like_the_books_accuracy():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3]])
    assert scratch.correct(y_hat, torch.tensor([2, 2])).item() == 1


def test_sgd_is_torchs_sgd_on_the_mean_loss():
    """After l.sum().backward(): p -= lr * grad / n equals torch's step on l.mean()."""
    w1, w2 = W.clone().requires_grad_(), W.clone().requires_grad_()
    scratch.squared_loss(X @ w1, T).sum().backward()
    scratch.sgd([w1], 0.1, len(X))
    opt = torch.optim.SGD([w2], lr=0.1)
    scratch.squared_loss(X @ w2, T).sum(dim=1).mean().backward()  # mean over the 16 examples
    opt.step()
    close(w1, w2)
    assert torch.all(w1.grad == 0)  # and the gradient is cleared for the next step


def test_data_iter_covers_everything_once_with_a_short_last_batch():
    batches = list(scratch.data_iter(5, X, Y, torch.Generator().manual_seed(0)))
    assert [len(xb) for xb, _ in batches] == [5, 5, 5, 1]
    seen = torch.cat([xb for xb, _ in batches])
    assert sorted(seen[:, 0].tolist()) == sorted(X[:, 0].tolist())


def test_dropout_layer_keeps_the_mean_and_zeroes_the_fraction():
    ones = torch.ones(1000, 1000)
    for p in (0.2, 0.5, 0.8):
        out = scratch.dropout_layer(ones, p, torch.Generator().manual_seed(0))
        assert abs((out == 0).float().mean().item() - p) < 0.005
        assert abs(out.mean().item() - 1.0) < 0.01
        kept = out[out != 0]
        close(kept, torch.full_like(kept, 1 / (1 - p)))
    assert torch.equal(scratch.dropout_layer(ones, 0.0), ones)
    assert torch.equal(scratch.dropout_layer(ones, 1.0), torch.zeros_like(ones))
    with pytest.raises(ValueError):
        scratch.dropout_layer(ones, 1.5)


def test_scratch_mlp_dropout_only_while_training():
    model = scratch.MLP(784, (64, 64), 10, dropout=0.5, generator=torch.Generator().manual_seed(0))
    plain = scratch.MLP(784, (64, 64), 10, dropout=0.0, generator=torch.Generator().manual_seed(0))
    x = torch.rand(8, 784)
    model.eval()
    close(model(x), plain(x))
    model.train()
    assert not torch.equal(model(x), plain(x))


# --- whole runs: scratch and concise, same start, same batches, float64 -----------------------

def _double(model):
    for p in model.parameters():
        p.data = p.data.double()
    return model


def _flat(model, scratch_layout):
    """All parameters as one vector, in the concise layout (weights as (out, in))."""
    params = model.parameters()
    return torch.cat([(p.T if scratch_layout and p.ndim == 2 else p).reshape(-1)
                      for p in params]).detach()


def _toy(n=600):
    images, labels = toy_images(n, seed=5)
    return torch.from_numpy(images).double() / 255, torch.from_numpy(labels).long()


def _train_both(build, setup, data, config, epochs):
    """Train the scratch and concise builds from one seed on one batch order; both vectors."""
    result = {}
    for impl in ("scratch", "concise"):
        cfg = {**config, "impl": impl}
        model = _double(build(cfg, torch.Generator().manual_seed(3)))
        loss, updater = setup(model, cfg)
        batches = Batches(*data, cfg["batch_size"], generator=torch.Generator().manual_seed(4))
        fit(AutogradStep(model, loss, updater), batches, epochs=epochs, progress=False,
            log=lambda s: None)
        result[impl] = _flat(model, impl == "scratch")
    return result["scratch"], result["concise"]


def test_linreg_scratch_and_concise_end_equal():
    data = [t.double() for t in linreg.synthetic.linear(
        torch.tensor(linreg.TRUE_W), linreg.TRUE_B, 1000, 0.01, torch.Generator().manual_seed(0))]
    ends = []
    for impl in ("scratch", "concise"):  # 1000 / 10 x 3 epochs = 300 steps each
        cfg = {**linreg.EXPERIMENT.defaults, "impl": impl, "init_std": 0.5}
        model, loss, updater = linreg.build(cfg, torch.Generator().manual_seed(3))
        batches = Batches(*data, 10, generator=torch.Generator().manual_seed(4))
        fit(AutogradStep(_double(model), loss, updater), batches, epochs=3, progress=False,
            log=lambda s: None)
        ends.append(_flat(model, impl == "scratch"))
    close(ends[0], ends[1], rtol=1e-5, atol=0)


CLASSIFIER = {"epochs": 16, "lr": 0.3, "batch_size": 32, "init": "normal", "init_std": 0.01,
              "weight_decay": 0.0, "label_smoothing": 0.0}


@pytest.mark.parametrize("extra", [{}, {"weight_decay": 0.01}, {"label_smoothing": 0.1}])
def test_softmax_scratch_and_concise_end_equal(extra):
    a, b = _train_both(softmax.build, _setup, _toy(), {**CLASSIFIER, **extra}, 16)
    close(a, b, rtol=1e-5, atol=0)  # 19 steps x 16 epochs = 304 steps


@pytest.mark.parametrize("extra", [{}, {"weight_decay": 0.01}])
def test_mlp_scratch_and_concise_end_equal(extra):
    config = {**CLASSIFIER, "hidden": (32, 16), "dropout": (0.0,), "activation": "relu",
              "init_std": 0.1, **extra}
    a, b = _train_both(mlp.build, _setup, _toy(), config, 16)
    close(a, b, rtol=1e-5, atol=1e-12)


def _setup(model, cfg):
    return (scratch_setup if cfg["impl"] == "scratch" else concise_setup)(model, cfg)


def test_the_runs_really_moved_and_differ_between_settings():
    """Guard for the equality tests: training changed the parameters, and settings matter."""
    start = _flat(_double(softmax.build({**CLASSIFIER, "impl": "concise"},
                                        torch.Generator().manual_seed(3))), False)
    plain, _ = _train_both(softmax.build, _setup, _toy(), CLASSIFIER, 2)
    decayed, _ = _train_both(softmax.build, _setup, _toy(), {**CLASSIFIER, "weight_decay": 0.1},
                             2)
    assert (plain - start).norm() > 1 and (plain - decayed).norm() > 1e-2


def test_l2_penalty_in_the_loss_is_sgd_weight_decay_on_the_weights():
    """Per-example loss + wd * ||w||^2 / 2, summed then divided by n: w <- w - lr (g + wd w)."""
    w1 = W.clone().requires_grad_()
    b1 = B.clone().requires_grad_()
    wd, lr = 0.3, 0.1
    per_example = scratch.squared_loss(scratch.linreg(X, w1, b1), T).sum(dim=1)  # (n,)
    loss = per_example + wd * scratch.l2_penalty(w1)
    loss.sum().backward()
    scratch.sgd([w1, b1], lr, len(X))

    layer = nn.Linear(5, 3).double()
    with torch.no_grad():
        layer.weight.copy_(W.T)
        layer.bias.copy_(B)
    opt = torch.optim.SGD([{"params": [layer.weight], "weight_decay": wd},
                           {"params": [layer.bias], "weight_decay": 0.0}], lr=lr)
    (F.mse_loss(layer(X), T, reduction="none") / 2).sum(dim=1).mean().backward()
    opt.step()
    close(w1.detach(), layer.weight.detach().T)
    close(b1.detach(), layer.bias.detach())
