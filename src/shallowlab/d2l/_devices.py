"""The devices, as both editions name them: ``cpu``, ``gpu``, ``num_gpus`` (d2l 1.0) and
``try_gpu``, ``try_all_gpus`` (both)."""

from __future__ import annotations

import torch


def cpu() -> torch.device:
    return torch.device("cpu")


def gpu(i: int = 0) -> torch.device:
    return torch.device(f"cuda:{i}")


def num_gpus() -> int:
    """The number of CUDA devices this process can use."""
    return torch.cuda.device_count()


def try_gpu(i: int = 0) -> torch.device:
    """GPU ``i`` if there is one, else the CPU."""
    return gpu(i) if num_gpus() >= i + 1 else cpu()


def try_all_gpus() -> list[torch.device]:
    """Every GPU, or ``[cpu()]`` if there is none (as both editions' docstrings say; d2l 1.0's
    code returns ``[]``)."""
    return [gpu(i) for i in range(num_gpus())] or [cpu()]
