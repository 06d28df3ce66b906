"""Where tensors live: picking a device, and whether reading a value from it costs a wait."""

from __future__ import annotations

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; any other name is taken as given."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def reads_are_free(device: torch.device) -> bool:
    """Whether reading a value on the host costs nothing: on the CPU there is no queue to
    drain, and a Python number adds faster than a tensor. Elsewhere a read waits for the
    device, so the training loop keeps its sums and its divergence flag on the device."""
    return device.type == "cpu"
