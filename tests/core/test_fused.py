"""The fused step computes what autograd and torch.optim.SGD compute, in fewer operations."""

import math

import pytest
import torch
from torch import nn

import shallowlab.core.loop
from shallowlab.core.fused import FusedStep
from shallowlab.core.loop import fit
from shallowlab.core.steps import STEPS, AutogradStep, make_step
from shallowlab.errors import DivergedError
from shallowlab.models import nets
from tests.core.test_loop import _toy
from tests.rounding import assert_rounds_close, sum_tolerance

CE = nn.CrossEntropyLoss(reduction="none")
MODELS = {
    "softmax": lambda: nets.softmax_regression(784, 10),
    "mlp": lambda: nets.mlp(784, (32,), 10),
    "mlp2": lambda: nets.mlp(784, (32, 16), 10),
}
OPTIMIZERS = {
    "sgd": lambda m: torch.optim.SGD(m.parameters(), lr=0.5),
    "decay": lambda m: torch.optim.SGD(nets.decay_groups(m, 0.05), lr=0.5),
    "momentum": lambda m: torch.optim.SGD(nets.decay_groups(m, 0.01), lr=0.1, momentum=0.9),
}

# An epoch's mean loss, after identical steps up to rounding: the relative rounding of the
# logits' sums of 784 products where the terms add up to the size of the result.
EPOCH_REL = sum_tolerance(784, 1.0)
# A prediction whose two best logits tie to rounding may flip: at most one per set here.
ONE_FLIP = 1 + 1e-9


def _pair(model_name, optimizer_name, dtypes=(torch.float32, torch.float32)):
    """Two identical models (in ``dtypes``), each with its own optimizer of the same settings."""
    models = [nets.init_(MODELS[model_name](), "normal", 0.1, torch.Generator().manual_seed(0))
              .to(dtype) for dtype in dtypes]
    return [(m, OPTIMIZERS[optimizer_name](m)) for m in models]


def _fit(optimizer_name, engine="auto", n=300, epochs=2, test=None):
    """The toy MLP trained by ``fit`` from the same start each time; its history."""
    (model, opt), _ = _pair("mlp", optimizer_name)
    return fit(make_step(model, CE, opt, engine),
               _toy(n, 1, generator=torch.Generator().manual_seed(0)),
               epochs=epochs, test=test, progress=False, log=lambda s: None)


def _term_scales(model, X):
    """The magnitudes the terms of a step's sums add to (tests/rounding.py): the largest over
    the outputs, and over each parameter's gradient, for the batch ``X``.

    The network on |X| with |W|, |b| and no ReLU bounds the terms of every hidden value and
    output. The gradient of the mean loss is ``(1/B) sum_b G_b H_b^T`` with
    ``|softmax(o) - onehot(y)| <= 1`` at the output and ``G_{k-1} = (G_k W_k) * mask`` below,
    so the gradient of that network's summed outputs with respect to |W| bounds
    ``sum_b |G_b| |H_b|``: divided by B, the terms of the gradient.
    """
    absolute = [p.detach().abs().requires_grad_() for p in model.parameters()]
    h = X.reshape(len(X), -1).abs().to(absolute[0].dtype)
    for W, b in zip(absolute[::2], absolute[1::2], strict=True):
        h = h @ W.t() + b
    grads = torch.autograd.grad(h.sum(), absolute)
    return h.max().item(), {p: g.max().item() / len(X)
                            for p, g in zip(model.parameters(), grads, strict=True)}


def _update_scale(group, p, buf, grad_terms):
    """The terms of SGD's new buffer ``mu v + g + wd p`` (g itself without momentum)."""
    wd, mu = group["weight_decay"], group["momentum"]
    return grad_terms + wd * p.detach().abs().max().item() + mu * buf.abs().max().item()


def _lockstep(reference, other, share=1.0):
    """Trains the two (model, optimizer, step) on the same batches, and asserts that the
    outputs, losses, parameters and momentum buffers of ``other`` stay within ``share`` of the
    fp32 rounding bound (tests/rounding.py) of the ``reference``'s. Each step's bound is added
    to the last: its rounding is carried into the parameters and every later output."""
    (a, opt_a, by_a), (f, opt_f, by_f) = reference, other
    inner = max(m.in_features for m in a if isinstance(m, nn.Linear))
    out_tol, tol = 0.0, {p: [0.0, 0.0] for p in a.parameters()}  # parameter, buffer
    g = torch.Generator().manual_seed(1)
    for batch_size in (64, 64, 23, 64):  # a short batch, and momentum over several steps
        X = torch.rand(batch_size, 28, 28, generator=g)
        y = torch.randint(0, 10, (batch_size,), generator=g)
        out_scale, grad_terms = _term_scales(a, X)
        out_tol += share * sum_tolerance(inner, out_scale)
        out_a, loss_a = by_a.forward(X.to(a[-1].weight.dtype), y)
        out_f, loss_f = by_f.forward(X, y)
        assert_rounds_close(out_f.double(), out_a.detach().double(), out_tol)
        # l = logsumexp(o) - o_y moves by at most 2 max|do|, and rounds as a sum of 10 terms
        loss_terms = out_a.detach().abs().max() + loss_a.detach().max()
        assert_rounds_close(loss_f.double(), loss_a.detach().double(),
                            2 * out_tol + share * sum_tolerance(10, loss_terms))
        for group in opt_a.param_groups:
            for p in group["params"]:
                buf = opt_a.state[p].get("momentum_buffer", torch.zeros(()))
                update = _update_scale(group, p, buf, grad_terms[p])
                terms = p.detach().abs().max() + group["lr"] * update
                tol[p][0] += share * sum_tolerance(batch_size + 2, terms)
                tol[p][1] += share * sum_tolerance(batch_size + 2, update)
        by_a.update()
        by_f.update()
        for (name, p), q in zip(a.named_parameters(), f.parameters(), strict=True):
            assert_rounds_close(q.double(), p.double(), tol[p][0], msg=name)
            if opt_a.param_groups[0]["momentum"]:
                assert_rounds_close(opt_f.state[q]["momentum_buffer"].double(),
                                    opt_a.state[p]["momentum_buffer"].double(), tol[p][1],
                                    msg=name)


def _steps(pair, engines):
    return [(m, opt, STEPS[engine](m, CE, opt)) for (m, opt), engine in zip(pair, engines,
                                                                            strict=True)]


@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("model_name", MODELS)
def test_steps_match_autograd_and_torch_sgd(model_name, optimizer_name):
    _lockstep(*_steps(_pair(model_name, optimizer_name), ("autograd", "fused")))


@pytest.mark.parametrize("engine", ["autograd", "fused"])
@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("model_name", MODELS)
def test_each_step_is_within_half_the_bound_of_the_exact_one(model_name, optimizer_name,
                                                              engine):
    """Against float64 (exact at this scale) each fp32 step keeps within half the bound, so
    two of them agree within it whatever order a CPU's kernels add in (AVX2, AVX-512, AMX):
    what a fixed tolerance, right for one CPU's order, cannot promise."""
    pair = _pair(model_name, optimizer_name, (torch.float64, torch.float32))
    _lockstep(*_steps(pair, ("autograd", engine)), share=0.5)


def test_the_bound_still_sees_a_learning_rate_off_by_a_thousandth():
    """Not so loose that a real slip passes: the fused step with lr 0.1% too high fails."""
    (a, opt_a), (f, opt_f) = _pair("mlp", "decay")
    for group in opt_f.param_groups:
        group["lr"] *= 1.001
    with pytest.raises(AssertionError):
        _lockstep((a, opt_a, AutogradStep(a, CE, opt_a)), (f, opt_f, FusedStep(f, CE, opt_f)))


def test_a_learning_rate_changed_between_steps_is_used():
    """The step reads lr from the optimizer's groups each time, as schedulers expect."""
    (model, opt), _ = _pair("mlp", "sgd")
    step = FusedStep(model, CE, opt)
    before = [p.detach().clone() for p in model.parameters()]
    for group in opt.param_groups:
        group["lr"] = 0.0
    step.forward(torch.rand(8, 784), torch.arange(8))
    step.update()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))


def test_fit_histories_agree_between_engines():
    histories = {engine: _fit("momentum", engine, n=600, epochs=3,
                              test=_toy(200, 2, shuffle=False))
                 for engine in ("autograd", "fused")}
    assert histories["fused"][-1]["test_acc"] >= 0.95
    for a, f in zip(histories["autograd"], histories["fused"], strict=True):
        for key in ("train_loss", "test_loss"):
            assert f[key] == pytest.approx(a[key], rel=EPOCH_REL), key
        for key, n in (("train_acc", 600), ("test_acc", 200)):
            assert abs(f[key] - a[key]) <= ONE_FLIP / n, key


@pytest.mark.parametrize("free_reads", [True, False], ids=["cpu", "accelerator-path"])
def test_a_diverging_fused_run_stops_with_the_step(monkeypatch, free_reads):
    """lr 1e4 blows the loss up within a few steps; on the accelerator path (reads not free,
    forced here on the CPU) the flag is read every CHECK_EVERY steps or at the epoch's end."""
    monkeypatch.setattr(shallowlab.core.loop, "reads_are_free", lambda device: free_reads)
    model = nets.init_(nets.mlp(784, (32,), 10), "normal", 0.1, torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(model.parameters(), lr=1e4)
    with pytest.raises(DivergedError) as caught:
        fit(make_step(model, CE, opt, "fused"), _toy(600, 1, batch_size=10), epochs=1,
            progress=False, log=lambda s: None)
    error = caught.value
    assert error.epoch == 1 and error.batch <= (10 if free_reads else 60)
    assert not math.isfinite(error.loss) or error.loss > 1e3


def test_the_compiled_engine_trains_as_autograd_does():
    """torch.compile of the model (on the CPU here; CUDA graphs on a GPU): the same history.
    256 examples, 4 whole batches: a short last batch is another shape, which torch compiles
    again (1.5 of the test's 13.7 s with a cold cache, on this machine when quiet), and that
    is torch's to test."""
    histories = {engine: _fit("sgd", engine, n=256) for engine in ("autograd", "compiled")}
    for a, c in zip(histories["autograd"], histories["compiled"], strict=True):
        assert c["train_loss"] == pytest.approx(a["train_loss"], rel=EPOCH_REL)
        assert abs(c["train_acc"] - a["train_acc"]) <= ONE_FLIP / 256


def test_the_accelerator_path_keeps_its_sums_on_the_device_and_agrees(monkeypatch):
    """Where host reads are not free (a GPU; forced here on the CPU) the sums stay tensors and
    are read once per epoch: the history is the CPU path's."""
    histories = []
    for free in (True, False):
        monkeypatch.setattr(shallowlab.core.loop, "reads_are_free", lambda device, free=free: free)
        histories.append(_fit("sgd", test=_toy(100, 2, shuffle=False)))
    # the same steps; only the epoch's sum of 5 batch sums is kept in fp32, not a Python float
    for cpu, accelerator in zip(*histories, strict=True):
        assert accelerator["train_loss"] == pytest.approx(cpu["train_loss"],
                                                          rel=sum_tolerance(5, 1.0))
        for key in ("train_acc", "test_loss", "test_acc"):  # counts, and the same evaluation
            assert accelerator[key] == cpu[key], key


def test_the_fused_step_follows_the_optimizer_after_it_loads_a_state():
    """A resumed run loads the optimizer's state after the step exists: load_state_dict
    replaces the param groups, and the step must read the new ones (lr 0: nothing moves)."""
    (model, opt), _ = _pair("mlp", "momentum")
    step = FusedStep(model, CE, opt)
    opt.load_state_dict(opt.state_dict())
    for group in opt.param_groups:
        group["lr"] = 0.0
    before = [p.detach().clone() for p in model.parameters()]
    step.forward(torch.rand(8, 784), torch.arange(8))
    step.update()
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p, q)
