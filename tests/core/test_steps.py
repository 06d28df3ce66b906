"""Steps: make_step picks the engine once (the fused step where it applies, autograd with the
reason where not), and refuses an engine or a precision it does not know."""

import pytest
import torch
from torch import nn

from shallowlab.core.fused import FusedStep, unsupported
from shallowlab.core.steps import AutogradStep, CompiledStep, make_step, resolve_engine
from shallowlab.models import nets
from tests.core.test_fused import CE, _pair


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


def test_resolve_engine_says_why_auto_falls_back():
    net = nets.mlp(784, (32,), 10, activation="sigmoid")
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    name, reason = resolve_engine(net, CE, opt, "auto")
    assert name == "autograd" and "not Linear, ReLU" in reason
    assert resolve_engine(net, CE, opt, "compiled") == ("compiled", None)


def test_an_unknown_precision_is_refused():
    (model, opt), _ = _pair("mlp2", "momentum")
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        make_step(model, CE, opt, "auto", "fp8")
