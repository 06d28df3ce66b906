"""Where training runs: choosing a device, checking one exists, how much memory it has, and
whether it computes bf16 faster than fp32 (:func:`slow_bf16`).

``resolve_device`` and ``reads_are_free`` serve the training loop; ``check_device`` and
``available_memory`` serve the settings check, which refuses a device this machine lacks and a
model that cannot fit before any work starts (:func:`mlp_bytes` counts what training holds).
"""

from __future__ import annotations

import os
import platform
from itertools import pairwise
from pathlib import Path

import torch

TRAINS_ON = ("cpu", "cuda", "mps")  # the device types shallowlab trains on


def reads_are_free(device: torch.device) -> bool:
    """Whether reading a value on the host costs nothing: on the CPU there is no queue to
    drain, and a Python number adds faster than a tensor. Elsewhere a read waits for the
    device, so ``fit`` keeps its sums and its divergence flag on the device."""
    return device.type == "cpu"


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; any other name is taken as given."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def slow_bf16(device: torch.device) -> str | None:
    """Why bf16 products would not be faster than fp32 on ``device``, or None where they are:
    a GPU that computes in bf16, a CPU with AVX-512 BF16 or AMX instructions. Elsewhere torch
    still computes in bf16, by converting to fp32 and back, slower than fp32 itself."""
    if device.type == "cuda":
        return None if torch.cuda.is_bf16_supported() else \
            f"{torch.cuda.get_device_name(device)} has no bf16 arithmetic"
    if device.type == "cpu":
        if cpu_flags() & {"avx512_bf16", "amx_bf16"}:
            return None
        return "this CPU has neither AVX-512 BF16 nor AMX instructions"
    return f"shallowlab does not use bf16 on {device.type}"


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux's ``/proc/cpuinfo`` names them (``avx2``,
    ``avx512_bf16``, ``amx_bf16``...); empty where there is no such file."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no way to tell, so no claim of fast bf16
        return set()
    line = next((x for x in text.splitlines() if x.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def available_devices() -> list[str]:
    """The device names this machine can train on, e.g. ``['cpu', 'cuda', 'cuda:0']``."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    if _mps_available():
        names.append("mps")
    return names


def check_device(name: str) -> torch.device:
    """The device ``name`` stands for, if this machine has it.

    Raises ``ValueError`` saying what is missing and which names would do: an unknown name
    (``banana``, ``tpu``), a type shallowlab does not train on (``meta``), a CUDA or MPS
    device this machine lacks, or a CUDA index past the last GPU (``cuda:3`` with one GPU).
    """
    choose = f"choose from auto, {', '.join(available_devices())}"
    try:
        device = resolve_device(name)
    except RuntimeError:  # torch's own parse: "Expected one of cpu, cuda, ... device type"
        raise ValueError(f"not a device name torch knows; {choose}") from None
    if device.type not in TRAINS_ON:
        raise ValueError(f"shallowlab trains on {', '.join(TRAINS_ON)} only; {choose}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"this machine has no CUDA GPU that torch {torch.__version__} "
                             f"can use; {choose}")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f"this machine has {count} CUDA GPU{'s' * (count != 1)} "
                             f"(cuda:0 to cuda:{count - 1}); {choose}")
    if device.type == "mps" and not _mps_available():
        raise ValueError(f"this machine has no MPS (Apple GPU) device; {choose}")
    if device.type == "cpu" and device.index not in (None, 0):
        raise ValueError(f"the CPU is one device, cpu; {choose}")
    return device


def available_memory(device: torch.device) -> int | None:
    """Bytes ``device`` can allocate now, or None where that cannot be told.

    CUDA: the GPU's free memory, plus what torch's caching allocator holds unused. CPU and
    MPS (which shares the host's memory): the kernel's ``MemAvailable`` (free plus
    reclaimable), capped by a cgroup's limit where one applies; ``sysconf`` where there is no
    ``/proc/meminfo``.
    """
    if device.type == "cuda":
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return torch.cuda.mem_get_info(device)[0] + cached
    if device.type not in ("cpu", "mps"):
        return None
    free = _meminfo_available()
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # macOS has no SC_AVPHYS_PAGES
            return None
    room = _cgroup_room()
    return free if room is None else min(free, room)


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """The container's memory limit less its use (cgroup v2, then v1), or None if unlimited."""
    for limit, used in (("memory.max", "memory.current"),
                        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            cap = (Path("/sys/fs/cgroup") / limit).read_text().strip()
            if cap == "max" or int(cap) >= 2**62:  # v1 writes "no limit" as a huge number
                return None
            return int(cap) - int((Path("/sys/fs/cgroup") / used).read_text())
        except (OSError, ValueError):
            continue
    return None


def mlp_parameters(widths: tuple[int, ...]) -> int:
    """Weights and biases of fully connected layers ``widths[0] -> ... -> widths[-1]``:
    ``sum_k (n_k * n_{k+1} + n_{k+1})``."""
    return sum(n * m + m for n, m in pairwise(widths))


def mlp_bytes(widths: tuple[int, ...], batch_size: int, *, value_bytes: int = 4,
              momentum: bool = False) -> int:
    """A lower bound on the bytes training an MLP of ``widths`` holds at once.

    ``values = P (weights) + P (gradients) [+ P (momentum)] + B n_1`` with P from
    :func:`mlp_parameters`, B the batch size and n_1 = ``widths[1]``: when the backward pass
    reaches the first layer, every weight, every gradient (the first layer's being written)
    and the gradient of the first layer's outputs for the batch (B x n_1) are alive
    together. The data, the other activations and torch's own working memory come on top.
    """
    parameters = mlp_parameters(widths) * (3 if momentum else 2)
    return (parameters + batch_size * widths[1]) * value_bytes


def cpu_name() -> str:
    """The processor's model name as the OS reports it (Linux's /proc/cpuinfo), else the
    machine type: what the report says a run ran on."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
