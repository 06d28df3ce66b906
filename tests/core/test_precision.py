"""``--precision bf16``: products in bfloat16, the rest in fp32, through either engine; used
where bf16 is faster, said plainly where it is not."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import torch

from shallowlab.core import metrics
from shallowlab.core.devices import slow_bf16
from shallowlab.core.fused import layer_dtypes
from shallowlab.core.loop import evaluate, fit
from shallowlab.core.steps import AutogradStep, FusedStep, held_for, make_step
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches
from shallowlab.models import nets
from tests.core.test_fused import CE, _pair
from tests.core.test_loop import _toy

BF16_EPS = 2 ** -8  # bfloat16 keeps 8 significant bits: a relative rounding of up to this


def _synced(source: torch.nn.Module, source_opt, *pairs) -> None:
    """Each (model, optimizer) of ``pairs`` set to ``source``'s weights and optimizer state
    (copied: ``load_state_dict`` would share the momentum buffers)."""
    for model, opt in pairs:
        model.load_state_dict(source.state_dict())
        opt.load_state_dict(copy.deepcopy(source_opt.state_dict()))


@pytest.mark.parametrize("optimizer_name", ["sgd", "decay", "momentum"])
@pytest.mark.parametrize("model_name", ["mlp", "mlp2"])
def test_bf16_fused_and_autocast_autograd_agree_to_bf16_rounding(model_name, optimizer_name):
    """Step after step along the fused run, each engine starting from its weights: the outputs
    agree to bf16 rounding, and each parameter's change is as close to fp32's as autocast's.

    The fused step keeps the products with 10 columns in fp32 (faster there), so it does not
    repeat autocast's roundings step for step; it must round no worse. How far a bf16 change
    is from fp32's depends on the cancellations in its sums (up to tens of percent for a
    first layer fed only positive pixels), so autocast's distance is the yardstick.
    """
    (a, opt_a), (f, opt_f) = _pair(model_name, optimizer_name)
    (r, opt_r), _ = _pair(model_name, optimizer_name)
    by_autograd = AutogradStep(a, CE, opt_a, precision="bf16")
    fused = FusedStep(f, CE, opt_f, precision="bf16")
    reference = AutogradStep(r, CE, opt_r)  # fp32
    g = torch.Generator().manual_seed(1)
    for batch_size in (64, 64, 23, 64):
        _synced(f, opt_f, (a, opt_a), (r, opt_r))
        start = [p.detach().clone() for p in f.parameters()]
        X = torch.rand(batch_size, 28, 28, generator=g)
        y = torch.randint(0, 10, (batch_size,), generator=g)
        out_a, _ = by_autograd.forward(X, y)
        out_f, loss_f = fused.forward(X, y)
        reference.forward(X, y)
        assert out_f.dtype == loss_f.dtype == torch.float32  # the loss in fp32
        torch.testing.assert_close(out_f, out_a.detach(), rtol=4 * BF16_EPS, atol=1e-2)
        for step in (by_autograd, fused, reference):
            step.update()
        for (name, p_a), p_f, p_r, p0 in zip(a.named_parameters(), f.parameters(),
                                             r.parameters(), start, strict=True):
            assert p_f.dtype == torch.float32  # fp32 master weights
            exact = p_r.detach() - p0
            off_a = (p_a.detach() - p0 - exact).norm()
            off_f = (p_f.detach() - p0 - exact).norm()
            assert off_f <= 1.5 * off_a + 4 * BF16_EPS * exact.norm(), (name, batch_size)


def test_bf16_goes_to_the_layers_wide_enough_to_pay():
    """bf16 for a layer whose inputs and outputs are both at least SMALL wide; the output
    layer's 10 columns stay fp32, and the step takes its input in its first layer's dtype."""
    assert layer_dtypes([(256, 784), (10, 256)], "bf16") == [torch.bfloat16, torch.float32]
    assert layer_dtypes([(1024, 784), (256, 1024), (10, 256)], "bf16") == \
        [torch.bfloat16, torch.bfloat16, torch.float32]
    assert layer_dtypes([(10, 784)], "bf16") == [torch.float32]  # softmax regression
    assert layer_dtypes([(256, 784), (10, 256)], "fp32") == [torch.float32] * 2
    (model, opt), _ = _pair("mlp", "sgd")
    assert FusedStep(model, CE, opt, precision="bf16").input_dtype == torch.bfloat16
    assert FusedStep(model, CE, opt).input_dtype == torch.float32


def test_inputs_held_in_bf16_train_as_inputs_converted_each_step():
    """A bf16 run holds its training images in bf16 (``held_for``); the step then skips its
    own conversion of each batch, and every weight comes out bit for bit the same."""
    (a, opt_a), (f, opt_f) = _pair("mlp2", "momentum")
    converting = FusedStep(a, CE, opt_a, precision="bf16")
    holding = FusedStep(f, CE, opt_f, precision="bf16")
    g = torch.Generator().manual_seed(4)
    for batch_size in (64, 23, 64):
        X = torch.rand(batch_size, 28, 28, generator=g)
        y = torch.randint(0, 10, (batch_size,), generator=g)
        held = held_for(holding, X)
        assert held.dtype == torch.bfloat16
        for step, inputs in ((converting, X), (holding, held)):
            step.forward(inputs, y)
            step.update()
    for p, q in zip(a.parameters(), f.parameters(), strict=True):
        assert torch.equal(p, q)
    X = torch.rand(4, 784)
    for step in (FusedStep(a, CE, opt_a), AutogradStep(a, CE, opt_a, precision="bf16")):
        assert held_for(step, X) is X  # fp32 steps, and autocast, take what they are given


def test_weights_changed_between_steps_are_cast_again():
    """The bf16 copy of the weights is cast as the update ends; weights changed after that (a
    loaded state, any in-place change) are seen by the next step all the same."""
    (model, opt), _ = _pair("mlp", "sgd")
    step = FusedStep(model, CE, opt, precision="bf16")
    X = torch.rand(16, 784, generator=torch.Generator().manual_seed(5))
    y = torch.arange(16) % 10
    step.forward(X, y)
    step.update()
    with torch.no_grad():
        model[1].weight.mul_(-2.0)  # in place, as load_state_dict copies
    out, _ = step.forward(X, y)
    with torch.no_grad():
        expected = model(X)  # fp32: a stale bf16 copy would be off by about 3 |out|
    torch.testing.assert_close(out, expected, rtol=4 * BF16_EPS,
                               atol=4 * BF16_EPS * float(expected.abs().max()))


def test_a_bf16_step_evaluates_in_its_own_precision():
    """fit measures the test set with the step's ``predict``: for fp32 the model itself, bit
    for bit; for bf16 the step's own layers, within bf16 rounding of fp32's outputs."""
    (model, opt), _ = _pair("mlp2", "sgd")
    X = torch.rand(300, 784, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        exact = model(X)
    assert torch.equal(FusedStep(model, CE, opt).predict(X), exact)
    with torch.inference_mode():  # as evaluate runs it
        out = FusedStep(model, CE, opt, precision="bf16").predict(X)
    assert out.dtype == torch.float32 and out.shape == exact.shape
    torch.testing.assert_close(out, exact, rtol=4 * BF16_EPS,
                               atol=4 * BF16_EPS * float(exact.abs().max()))


def test_bf16_steps_really_compute_in_bf16():
    """Not fp32 under another name: the first step's weights differ from fp32's by more than
    fp32 rounding, and by no more than bf16's."""
    for engine in ("autograd", "fused"):
        (m32, o32), (m16, o16) = _pair("mlp", "sgd")
        X = torch.rand(64, 28, 28, generator=torch.Generator().manual_seed(2))
        y = torch.randint(0, 10, (64,), generator=torch.Generator().manual_seed(3))
        for model, opt, precision in ((m32, o32, "fp32"), (m16, o16, "bf16")):
            step = make_step(model, CE, opt, engine, precision)
            step.forward(X, y)
            step.update()
        gap = max((p - q).abs().max().item() for p, q in zip(m32.parameters(),
                                                              m16.parameters()))
        assert 1e-6 < gap < 1e-2, (engine, gap)


def test_bf16_trains_the_toy_problem_as_well_as_fp32():
    accs = {}
    for precision in ("fp32", "bf16"):
        (model, opt), _ = _pair("mlp", "sgd")
        test = _toy(300, 2, shuffle=False)
        fit(make_step(model, CE, opt, "auto", precision),
            _toy(600, 1, generator=torch.Generator().manual_seed(0)), epochs=3, test=test,
            progress=False, log=lambda s: None)
        accs[precision] = evaluate(model, CE, test, metrics.correct)[1]
    assert accs["fp32"] > 0.9 and abs(accs["bf16"] - accs["fp32"]) <= 0.02, accs


@pytest.mark.data
def test_bf16_on_fashion_mnist_ends_where_fp32_does(real_data):
    """An epoch of a 784-64-10 MLP (the book's recipe, a narrower layer: bf16 is slow on a CPU
    without it), the fused step in each precision, over two seeds: the test accuracies agree
    within 0.01."""
    data = fashion_mnist.load(real_data)
    X = data.train_images.float() / 255
    X_test = data.test_images.float() / 255
    gap = []
    for seed in (0, 1):
        acc = {}
        for precision in ("fp32", "bf16"):
            model = nets.init_(nets.mlp(784, (64,), 10), "normal", 0.01,
                               torch.Generator().manual_seed(seed))
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            train = Batches(X, data.train_labels, 256,
                            generator=torch.Generator().manual_seed(seed + 1))
            test = Batches(X_test, data.test_labels, 1000, shuffle=False)
            history = fit(make_step(model, CE, opt, "fused", precision), train, epochs=1,
                          test=test, progress=False, log=lambda s: None)
            acc[precision] = history[-1]["test_acc"]
        assert acc["fp32"] > 0.65, acc
        gap.append(abs(acc["bf16"] - acc["fp32"]))
    assert sum(gap) / len(gap) <= 0.01, gap


def test_the_run_records_what_was_asked_and_what_ran(toy_data, tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "shallowlab", "run", "mlp", "--epochs", "1",
                             "--precision", "bf16", "--data-dir", str(toy_data), "--out",
                             str(out), "--threads", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert config["precision"] == "bf16"
    reason = slow_bf16(torch.device("cpu"))
    if reason is None:  # a CPU with AVX-512 BF16 or AMX
        assert summary["precision"] == "bf16" and "products in bf16" in result.stdout
    else:
        assert summary["precision"] == "fp32"
        assert f"--precision bf16: {reason}, so bf16 would be slower here; training in fp32" \
            in result.stdout


def test_an_unknown_precision_is_refused_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "shallowlab", "run", "mlp", "--precision",
                             "fp16", "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("--precision fp16 is invalid: choose from fp32, bf16")
