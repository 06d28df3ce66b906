"""The playground's engine: 2-D data, a network on real PyTorch trained step by step, frames
for the page, runnable scripts and the teaching presets (``shallowlab playground`` serves it).

The names are loaded on first use, so ``import shallowlab.playground`` costs no torch.
"""

from __future__ import annotations

import importlib

_NAMES = {"Settings": "settings", "Layer": "settings", "PlaygroundError": "settings",
          "LIMITS": "settings", "CHOICES": "settings", "ACTIVATIONS": "settings",
          "FEATURES": "features", "LABELS": "features", "Session": "session",
          "Points": "points", "from_csv": "points", "script": "export", "PRESETS": "presets",
          "Preset": "presets", "decode": "frames"}
__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name not in _NAMES:
        raise AttributeError(f"module 'shallowlab.playground' has no attribute {name!r}")
    return getattr(importlib.import_module(f"shallowlab.playground.{_NAMES[name]}"), name)
