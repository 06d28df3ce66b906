"""Devices: which this machine has, the check of a name, free memory, what an MLP holds."""

import os
import re

import pytest
import torch
import torch.nn.functional as F

from shallowlab.core.devices import (
    available_devices,
    available_memory,
    check_device,
    mlp_bytes,
    mlp_parameters,
    reads_are_free,
    resolve_device,
)
from shallowlab.models import nets, scratch


def test_every_device_this_machine_lists_passes_the_check():
    names = available_devices()
    assert names[0] == "cpu"
    assert ("cuda" in names) == torch.cuda.is_available()
    for name in ("auto", *names):
        assert check_device(name) == resolve_device(name)


@pytest.mark.parametrize("name, reason", [
    ("banana", "not a device name torch knows"),
    ("tpu", "not a device name torch knows"),
    ("cuda:-1", "not a device name torch knows"),
    ("meta", "shallowlab trains on cpu, cuda, mps only"),
    ("cpu:1", "the CPU is one device"),
    ("cuda:99", "this machine has"),  # no CUDA GPU, or fewer than 100 of them
])
def test_a_device_this_machine_lacks_is_refused_naming_those_it_has(name, reason):
    with pytest.raises(ValueError) as refused:
        check_device(name)
    assert reason in str(refused.value)
    assert str(refused.value).endswith(f"choose from auto, {', '.join(available_devices())}")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_says_there_is_none(name):
    with pytest.raises(ValueError, match=re.escape(f"no CUDA GPU that torch {torch.__version__}")):
        check_device(name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="this machine has no CUDA GPU")
def test_cuda_past_the_last_gpu_says_how_many_there_are():
    count = torch.cuda.device_count()
    with pytest.raises(ValueError, match=f"has {count} CUDA GPU"):
        check_device(f"cuda:{count}")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_mps_without_an_apple_gpu_says_there_is_none():
    with pytest.raises(ValueError, match="no MPS"):
        check_device("mps")


def test_reads_are_free_on_the_cpu_only():
    assert reads_are_free(torch.device("cpu"))
    assert not reads_are_free(torch.device("meta"))


def test_free_memory_is_some_of_what_the_machine_has():
    free = available_memory(torch.device("cpu"))
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert free is not None and 0 < free <= total
    assert available_memory(torch.device("meta")) is None  # no memory to speak of


@pytest.mark.parametrize("hidden", [(256,), (1024, 256), (3, 5, 7)])
def test_mlp_parameters_counts_the_parameters_of_both_twins(hidden):
    widths = (784, *hidden, 10)
    concise = nets.mlp(784, hidden, 10)
    assert mlp_parameters(widths) == sum(p.numel() for p in concise.parameters())
    mine = scratch.MLP(784, hidden, 10)
    assert mlp_parameters(widths) == sum(p.numel() for p in mine.parameters())


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_mlp_bytes_are_the_tensors_a_real_step_holds_at_the_first_layer(momentum):
    """Weights, gradients and momentum after a real SGD step, and the gradient of the first
    layer's output, as torch allocates them, add up to mlp_bytes."""
    batch, hidden = 32, (64, 16)
    model = nets.mlp(784, hidden, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    first = []  # dL/dZ_1: (batch, 64)

    def keep_gradient(module, inputs, output) -> None:
        output.register_hook(first.append)

    model[1].register_forward_hook(keep_gradient)
    X, y = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    F.cross_entropy(model(X), y).backward()
    optimizer.step()

    def size(t: torch.Tensor) -> int:
        return t.numel() * t.element_size()

    held = sum(size(p) + size(p.grad) for p in model.parameters())
    if momentum:
        held += sum(size(optimizer.state[p]["momentum_buffer"]) for p in model.parameters())
    assert held + size(first[0]) == mlp_bytes((784, *hidden, 10), batch,
                                              momentum=bool(momentum))


def test_mlp_bytes_of_the_issue_s_probe_are_hundreds_of_gigabytes():
    # --hidden 100000000: 784e8 + 1e8 + 1e9 + 10 parameters, twice, and 256e8 outputs' grads
    need = mlp_bytes((784, 100_000_000, 10), 256)
    assert need == ((784 * 10**8 + 10**8 + 10**9 + 10) * 2 + 256 * 10**8) * 4
    assert need > 700e9
    assert mlp_bytes((784, 256, 10), 256) < 2e6  # the book's MLP: under 2 MB
