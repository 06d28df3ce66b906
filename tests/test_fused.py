"""The fused step computes what autograd and torch.optim.SGD compute, in fewer operations."""

import math

import pytest
import torch
from torch import nn

import shallowlab.train
from shallowlab import nets
from shallowlab.errors import DivergedError
from shallowlab.fused import FusedStep, unsupported
from shallowlab.steps import AutogradStep, CompiledStep, make_step
from shallowlab.train import fit
from tests.test_train import _toy

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


def _pair(model_name, optimizer_name):
    """Two identical models, each with its own optimizer of the same settings."""
    models = [nets.init_(MODELS[model_name](), "normal", 0.1, torch.Generator().manual_seed(0))
              for _ in range(2)]
    return [(m, OPTIMIZERS[optimizer_name](m)) for m in models]


def _fit(optimizer_name, engine="auto", n=300, epochs=2, test=None):
    """The toy MLP trained by ``fit`` from the same start each time; its history."""
    (model, opt), _ = _pair("mlp", optimizer_name)
    return fit(make_step(model, CE, opt, engine),
               _toy(n, 1, generator=torch.Generator().manual_seed(0)),
               epochs=epochs, test=test, progress=False, log=lambda s: None)


@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("model_name", MODELS)
def test_steps_match_autograd_and_torch_sgd(model_name, optimizer_name):
    (a, opt_a), (f, opt_f) = _pair(model_name, optimizer_name)
    by_autograd, fused = AutogradStep(a, CE, opt_a), FusedStep(f, CE, opt_f)
    g = torch.Generator().manual_seed(1)
    for batch_size in (64, 64, 23, 64):  # a short batch, and momentum over several steps
        X = torch.rand(batch_size, 28, 28, generator=g)
        y = torch.randint(0, 10, (batch_size,), generator=g)
        out_a, loss_a = by_autograd.forward(X, y)
        out_f, loss_f = fused.forward(X, y)
        # after an update the outputs carry the parameters' rounding (below) through sums of
        # 784 terms: the same relative tolerance
        torch.testing.assert_close(out_f, out_a.detach(), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(loss_f, loss_a.detach(), rtol=1e-5, atol=1e-5)
        by_autograd.update()
        fused.update()
        for (name, p), q in zip(a.named_parameters(), f.parameters(), strict=True):
            torch.testing.assert_close(q, p, rtol=1e-5, atol=1e-6, msg=name)
    if optimizer_name == "momentum":
        for p, q in zip(a.parameters(), f.parameters(), strict=True):
            torch.testing.assert_close(opt_f.state[q]["momentum_buffer"],
                                       opt_a.state[p]["momentum_buffer"], rtol=1e-5, atol=1e-6)


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


@pytest.mark.parametrize(("model", "loss", "optimizer", "reason"), [
    (lambda: nets.mlp(784, (32,), 10, dropout=0.5), CE, "sgd", "not Linear, ReLU"),
    (lambda: nets.mlp(784, (32,), 10, activation="sigmoid"), CE, "sgd", "not Linear, ReLU"),
    (lambda: nets.softmax_regression(), nn.CrossEntropyLoss(), "sgd", "reduction='none'"),
    (lambda: nets.softmax_regression(), nn.CrossEntropyLoss(reduction="none",
                                                            label_smoothing=0.1), "sgd",
     "label smoothing"),
    (lambda: nets.softmax_regression(), CE, "adam", "not torch.optim.SGD"),
    (lambda: nets.softmax_regression(), CE, "nesterov", "nesterov"),
])
def test_what_it_cannot_train_is_named_and_left_to_autograd(model, loss, optimizer, reason):
    net = model()
    opt = {"sgd": lambda: torch.optim.SGD(net.parameters(), lr=0.1),
           "adam": lambda: torch.optim.Adam(net.parameters()),
           "nesterov": lambda: torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9,
                                               nesterov=True)}[optimizer]()
    assert reason in unsupported(net, loss, opt)
    assert isinstance(make_step(net, loss, opt, "auto"), AutogradStep)
    with pytest.raises(ValueError, match=reason):
        make_step(net, loss, opt, "fused")


def test_auto_takes_the_fused_step_where_it_applies():
    (model, opt), _ = _pair("mlp2", "momentum")
    assert unsupported(model, CE, opt) is None
    assert make_step(model, CE, opt, "auto").engine == "fused"
    assert isinstance(make_step(model, CE, opt, "auto"), FusedStep)
    assert type(make_step(model, CE, opt, "autograd")) is AutogradStep
    assert isinstance(make_step(model, CE, opt, "compiled"), CompiledStep)
    with pytest.raises(ValueError, match="unknown engine"):
        make_step(model, CE, opt, "turbo")


def test_fit_histories_agree_between_engines():
    histories = {engine: _fit("momentum", engine, n=600, epochs=3,
                              test=_toy(200, 2, shuffle=False))
                 for engine in ("autograd", "fused")}
    assert histories["fused"][-1]["test_acc"] >= 0.95
    for a, f in zip(histories["autograd"], histories["fused"], strict=True):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert f[key] == pytest.approx(a[key], rel=1e-4, abs=1e-4), key


@pytest.mark.parametrize("free_reads", [True, False], ids=["cpu", "accelerator-path"])
def test_a_diverging_fused_run_stops_with_the_step(monkeypatch, free_reads):
    """lr 1e4 blows the loss up within a few steps; on the accelerator path (reads not free,
    forced here on the CPU) the flag is read every CHECK_EVERY steps or at the epoch's end."""
    monkeypatch.setattr(shallowlab.train, "reads_are_free", lambda device: free_reads)
    model = nets.init_(nets.mlp(784, (32,), 10), "normal", 0.1, torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(model.parameters(), lr=1e4)
    with pytest.raises(DivergedError) as caught:
        fit(make_step(model, CE, opt, "fused"), _toy(600, 1, batch_size=10), epochs=1,
            progress=False, log=lambda s: None)
    error = caught.value
    assert error.epoch == 1 and error.step <= (10 if free_reads else 60)
    assert not math.isfinite(error.loss) or error.loss > 1e3


def test_the_compiled_engine_trains_as_autograd_does():
    """torch.compile of the model (on the CPU here; CUDA graphs on a GPU): the same history."""
    histories = {engine: _fit("sgd", engine) for engine in ("autograd", "compiled")}
    for a, c in zip(histories["autograd"], histories["compiled"], strict=True):
        assert c["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4)
        assert c["train_acc"] == pytest.approx(a["train_acc"], abs=1e-3)


def test_the_accelerator_path_keeps_its_sums_on_the_device_and_agrees(monkeypatch):
    """Where host reads are not free (a GPU; forced here on the CPU) the sums stay tensors and
    are read once per epoch: the history is the CPU path's."""
    histories = []
    for free in (True, False):
        monkeypatch.setattr(shallowlab.train, "reads_are_free", lambda device, free=free: free)
        histories.append(_fit("sgd", test=_toy(100, 2, shuffle=False)))
    for cpu, accelerator in zip(*histories, strict=True):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert accelerator[key] == pytest.approx(cpu[key], rel=1e-5), key


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
