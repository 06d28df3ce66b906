"""A run's settings: what each may be, checked in one line that names it, and how each is
spelled as a ``shallowlab run`` flag.

``option``, ``as_flags`` and ``setting_of`` are the one spelling of a setting as a flag that the
CLI, the run table, sweeps and the report share. ``resolve`` merges an experiment's defaults, a
preset and the given settings and validates them; ``resolve_saved`` does the same for a run's
``config.json``. An experiment here is anything with ``name``, ``defaults``, ``presets``,
``check`` and ``footprint`` (:class:`shallowlab.experiments.base.Experiment`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import torch

from shallowlab.core.devices import available_memory, check_device
from shallowlab.core.steps import ENGINES, PRECISIONS
from shallowlab.errors import ConfigError
from shallowlab.models import nets
from shallowlab.runs import tensorboard


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v) -> bool:
    """A finite int or float: ``inf`` and ``nan`` are no setting's value."""
    return _integer(v) or isinstance(v, float) and math.isfinite(v)


def _several(v, each: Callable[[object], bool]) -> bool:
    return isinstance(v, (list, tuple)) and len(v) >= 1 and all(each(x) for x in v)


# setting -> (check, what a valid value is); each check takes any value (a hand-edited
# config.json can hold a string or null anywhere) and says whether it is valid
CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "epochs": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "lr": (lambda v: _number(v) and v > 0, "a finite number > 0"),
    "batch_size": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "hidden": (lambda v: _several(v, lambda h: _integer(h) and h >= 1),
               "one or more integer widths >= 1"),
    "dropout": (lambda v: _several(v, lambda p: _number(p) and 0 <= p < 1),
                "one or more probabilities in [0, 1)"),
    "weight_decay": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    "label_smoothing": (lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "init_std": (lambda v: _number(v) and v > 0, "a finite number > 0"),
    "seed": (lambda v: _integer(v) and 0 <= v < 2**63, "an integer in [0, 2^63)"),
    "fast": (lambda v: isinstance(v, bool), "true or false"),
    "tensorboard": (lambda v: isinstance(v, bool), "true or false"),
    "device": (lambda v: isinstance(v, str), "a device name: auto, cpu, cuda, cuda:N or mps"),
    "data_dir": (lambda v: v is None or isinstance(v, (str, os.PathLike)), "a folder's path"),
}
CHOICES = {
    "impl": ("scratch", "concise"),
    "activation": tuple(nets.ACTIVATIONS),
    "init": nets.INITS,
    "engine": ENGINES,
    "precision": PRECISIONS,
}


def option(setting: str) -> str:
    """The flag that gives ``setting``: ``batch_size`` -> ``--batch-size``."""
    return "--" + setting.replace("_", "-")


def setting_of(flag: str) -> str:
    """The setting a flag gives: ``--batch-size`` (or ``batch-size``) -> ``batch_size``."""
    return flag.removeprefix("--").replace("-", "_")


def as_flags(settings: dict, text: Callable[[object], str] = str) -> list[str]:
    """The ``shallowlab run`` words that give ``settings``: ``{"lr": 0.05, "hidden": [256,
    128], "fast": True}`` -> ``["--lr", "0.05", "--hidden", "256,128", "--fast"]``. None and
    False are not given (the default); ``text`` writes each value."""
    words = []
    for key, value in settings.items():
        if value is None or value is False:
            continue
        words.append(option(key))
        if isinstance(value, (list, tuple)):
            words.append(",".join(map(text, value)))
        elif value is not True:
            words.append(text(value))
    return words


def flag(key: str, *value) -> str:
    """How a message names a setting given as a flag: ``--hidden``, ``--hidden 256,128``."""
    shown = [",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v) for v in value]
    return " ".join([option(key), *shown])


def _entry(key: str, *value) -> str:
    """How a message names a setting read from config.json: ``"hidden"``,
    ``"hidden": [256, 128]``, as the file writes it."""
    return ": ".join([json.dumps(key), *map(json.dumps, value)])


def resolve(experiment, overrides: dict) -> dict:
    """The experiment's defaults updated by ``overrides`` (None means "not given"), validated.

    A preset switched on in ``overrides`` replaces the defaults it names before the overrides
    apply: ``{**defaults, **preset, **given}``.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(experiment.defaults))
    if unknown:
        raise ConfigError(f"{option(unknown[0])} does not apply to {experiment.name}; "
                          f"it takes {', '.join(option(k) for k in experiment.defaults)}")
    defaults = dict(experiment.defaults)
    for flag, preset in experiment.presets.items():
        if given.get(flag):
            defaults.update(preset)
    config = {**defaults, **given}
    validate(experiment, config)
    return config


def resolve_saved(experiment, saved: dict, path: Path) -> dict:
    """The settings of a run as its ``config.json`` (at ``path``) holds them, validated.

    Every setting of the experiment must be there, of the right type and valid, as a flag
    must be: the message names the file and the entry.
    """
    missing = [k for k in experiment.defaults if k not in saved]
    if missing:
        raise ConfigError(f"{path} has no {_entry(missing[0])} setting; put it back (the "
                          f"default is {json.dumps(experiment.defaults[missing[0]])}), or "
                          "start a new run")
    config = {k: saved[k] for k in experiment.defaults}
    try:
        validate(experiment, config, _entry)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}; correct it there, or start a new run") from None
    return config


def validate(experiment, config: dict, name: Callable[..., str] = flag) -> None:
    """Raise ConfigError, in one line naming the setting (``name(key, value)``), for the first
    thing wrong in ``config``: a type or value, a device this machine lacks, a model too big
    for the device's memory, or what the experiment's own ``check`` refuses."""
    for key, value in config.items():
        if key in CHECKS and not CHECKS[key][0](value):
            raise ConfigError(f"{name(key, value)} is invalid: it must be {CHECKS[key][1]}")
        if key in CHOICES and value not in CHOICES[key]:
            raise ConfigError(f"{name(key, value)} is invalid: choose from "
                              f"{', '.join(CHOICES[key])}")
    if "dropout" in config and len(config["dropout"]) not in (1, len(config["hidden"])):
        raise ConfigError(f"{name('dropout')} has {len(config['dropout'])} values for "
                          f"{len(config['hidden'])} hidden layers; give one, or one per layer")
    if config.get("tensorboard"):
        tensorboard.require()
    if experiment.check is not None:
        experiment.check(config)
    device = torch.device("cpu")
    if "device" in config:
        try:
            device = check_device(config["device"])
        except ValueError as e:
            raise ConfigError(f"{name('device', config['device'])}: {e}") from None
    if experiment.footprint is not None:
        _check_memory(experiment.footprint(config), device, config, name)


def gb(size: int) -> str:
    """Bytes in GB, to three digits or so: ``0.25 GB``, ``21.1 GB``, ``9,430 GB``."""
    gb = size / 1e9
    return f"{gb:.3g} GB" if gb < 100 else f"{gb:,.0f} GB"


def _check_memory(need: int, device: torch.device, config: dict,
                  name: Callable[..., str]) -> None:
    """Refuse a model that cannot fit: ``need`` bytes against what ``device`` has free."""
    have = available_memory(device)
    if have is None or need <= have:
        return
    raise ConfigError(f"{name('hidden', config['hidden'])} with "
                      f"{name('batch_size', config['batch_size'])} needs at least "
                      f"{gb(need)} of memory to train, more than the {gb(have)} of "
                      f"{device} memory free now; choose smaller {name('hidden')} widths or a "
                      f"smaller {name('batch_size')}")
