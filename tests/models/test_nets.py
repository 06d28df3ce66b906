import math

import pytest
import torch
from torch import nn

from shallowlab.models import nets


def test_softmax_regression_is_flatten_then_affine():
    model = nets.softmax_regression()
    X = torch.rand(5, 28, 28)
    W, b = model[1].weight, model[1].bias
    torch.testing.assert_close(model(X), X.reshape(5, 784) @ W.T + b)


def test_mlp_layers_follow_the_settings():
    model = nets.mlp(784, (256, 128), 10, "tanh", (0.2, 0.5))
    kinds = [type(m) for m in model]
    assert kinds == [nn.Flatten, nn.Linear, nn.Tanh, nn.Dropout, nn.Linear, nn.Tanh, nn.Dropout,
                     nn.Linear]
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.2, 0.5]
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_mlp_single_dropout_applies_to_every_layer_and_zero_means_none():
    assert sum(isinstance(m, nn.Dropout) for m in nets.mlp(hidden=(8, 8, 8), dropout=0.3)) == 3
    assert not any(isinstance(m, nn.Dropout) for m in nets.mlp(hidden=(8, 8)))


@pytest.mark.parametrize("bad", [{"activation": "gelu"}, {"dropout": (0.1, 0.2)}])
def test_mlp_rejects_bad_settings(bad):
    with pytest.raises(ValueError):
        nets.mlp(hidden=(8,), **bad)


def _linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def test_init_normal_has_the_requested_std_and_zero_biases():
    model = nets.init_(nets.mlp(784, (512,), 10), "normal", 0.01, torch.Generator().manual_seed(0))
    w = _linears(model)[0].weight
    assert abs(w.std().item() - 0.01) < 0.0005 and abs(w.mean().item()) < 0.0005
    assert all(torch.all(m.bias == 0) for m in _linears(model))


def test_init_xavier_and_he_scale_with_fan():
    g = torch.Generator().manual_seed(0)
    xavier = _linears(nets.init_(nets.mlp(784, (512,), 10), "xavier", generator=g))[0].weight
    bound = math.sqrt(6 / (784 + 512))
    assert xavier.abs().max() <= bound and xavier.abs().max() > 0.99 * bound
    he = _linears(nets.init_(nets.mlp(784, (512,), 10), "he", generator=g))[0].weight
    assert abs(he.std().item() - math.sqrt(2 / 784)) < 0.002


def test_init_zeros_and_unknown_scheme():
    model = nets.init_(nets.mlp(hidden=(16,)), "zeros")
    assert all(torch.all(p == 0) for p in model.parameters())
    with pytest.raises(ValueError, match="unknown init"):
        nets.init_(model, "orthogonal")


def test_init_is_reproducible_from_the_generator():
    a = nets.init_(nets.mlp(), generator=torch.Generator().manual_seed(7))
    b = nets.init_(nets.mlp(), generator=torch.Generator().manual_seed(7))
    c = nets.init_(nets.mlp(), generator=torch.Generator().manual_seed(8))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(_linears(a)[0].weight, _linears(c)[0].weight)


def test_decay_groups_shrink_weights_but_not_biases():
    """SGD with weight decay wd: w <- w - lr * (grad + wd * w); biases are left out."""
    model = nets.init_(nets.mlp(4, (3,), 2), "normal", 1.0, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for m in _linears(model):
            m.bias.fill_(1.0)
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(nets.decay_groups(model, 0.5), lr=0.1)
    (0 * sum(p.sum() for p in model.parameters())).backward()  # zero gradients everywhere
    opt.step()
    for (name, p), old in zip(model.named_parameters(), before, strict=True):
        expected = old if name.endswith("bias") else old * (1 - 0.1 * 0.5)
        torch.testing.assert_close(p.detach(), expected)


def test_mlp_takes_one_activation_per_layer_and_linear():
    model = nets.mlp(2, (4, 3, 5), 2, ["tanh", "linear", "relu"], (0.0, 0.5, 0.0))
    kinds = [type(m) for m in model if not isinstance(m, (nn.Flatten, nn.Linear))]
    assert kinds == [nn.Tanh, nn.Identity, nn.Dropout, nn.ReLU]
    X = torch.randn(7, 2)
    linear = nets.mlp(2, (4, 4), 3, "linear")
    first, second, out = _linears(linear)
    composed = out(second(first(X)))  # a linear map of a linear map is one linear map
    W = out.weight @ second.weight @ first.weight
    torch.testing.assert_close(linear(X), composed)
    torch.testing.assert_close(linear(X), X @ W.T + linear(torch.zeros(1, 2)))
    for bad in (["tanh", "gelu", "relu"], ["tanh"]):
        with pytest.raises(ValueError):
            nets.mlp(2, (4, 3, 5), 2, bad)
