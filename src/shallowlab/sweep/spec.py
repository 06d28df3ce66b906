"""What a sweep runs: its trials, from a grid or a random sample of run settings, times seeds.

A grid is every combination of the listed values, the first setting varying slowest:
``{"lr": [0.05, 0.2], "hidden": [(64,), (256,)]}`` gives four configurations. With ``sample``,
``sample`` configurations are drawn instead, from a ``random.Random(sample_seed)``: a list's
value uniformly, a range ``("log", low, high)`` log-uniformly,

    v = exp(u),  u ~ U(log low, log high),

rounded to three significant digits (to an integer for an integer setting), a range
``("uniform", low, high)`` uniformly. Each configuration runs once per seed, ``seed``,
``seed + 1``, ... Everything is decided when the sweep starts and written to ``sweep.json``,
so a resumed sweep runs exactly the trials it planned.

A trial is named by its settings, as flags write them: ``lr=0.05,hidden=64,seed=0`` (a list
joins its items with ``+``: ``hidden=256+128``); the name is its folder in the sweep folder.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import asdict, dataclass

from shallowlab.errors import ConfigError
from shallowlab.experiments.base import Experiment
from shallowlab.runs.settings import as_flags, option, resolve

RANGES = ("log", "uniform")
NOT_SWEPT = {"seed": "--seeds K", "data_dir": "--data-dir"}  # settings a grid may not vary


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: the swept settings it takes and its seed."""

    name: str
    settings: dict
    seed: int


@dataclass
class Spec:
    """A sweep, as ``sweep.json`` keeps it.

    ``fixed``: settings every trial takes (the experiment's flags given to ``sweep``);
    ``grid``: setting -> list of values; ``ranges``: setting -> (kind, low, high), drawn only
    with ``sample``; ``threads``: torch threads of every trial (part of what a trial computes:
    another count may round differently).
    """

    experiment: str
    fixed: dict
    grid: dict
    ranges: dict
    sample: int | None
    sample_seed: int
    seeds: list[int | None]  # [None]: the experiment has no --seed
    threads: int

    def configurations(self) -> list[dict]:
        if self.sample is None:
            keys = list(self.grid)
            return [dict(zip(keys, values))
                    for values in itertools.product(*(self.grid[k] for k in keys))]
        rng, drawn, seen = random.Random(self.sample_seed), [], set()
        for _ in range(100 * self.sample):
            config = {k: _draw(rng, self.grid.get(k), self.ranges.get(k))
                      for k in [*self.grid, *self.ranges]}
            if _label(config) not in seen:
                seen.add(_label(config))
                drawn.append(config)
            if len(drawn) == self.sample:
                break
        return drawn

    def trials(self) -> list[Trial]:
        return [Trial(_label({**config, **({} if seed is None else {"seed": seed})}), config,
                      seed) for config in self.configurations() for seed in self.seeds]

    def to_json(self) -> dict:
        return asdict(self)


def _draw(rng: random.Random, values: list | None, span: tuple | None):
    if values is not None:
        return rng.choice(values)
    kind, low, high = span
    wrapped = isinstance(low, (list, tuple))  # --hidden takes a list: hidden=log:64:1024
    low, high = (low[0], high[0]) if wrapped else (low, high)
    if kind == "log":
        v = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        v = rng.uniform(low, high)
    v = round(v) if isinstance(low, int) else float(f"{v:.3g}")
    return (v,) if wrapped else v


def text(value) -> str:
    """A setting's value as a trial's name writes it: ``0.05``, ``100``, ``256+128``, ``relu``
    (a float exactly, in the fewest digits that read back as it)."""
    if isinstance(value, (list, tuple)):
        return "+".join(map(text, value))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        shown = repr(value)
        return shown.removesuffix(".0")
    return str(value)


def _label(settings: dict) -> str:
    return ",".join(f"{option(k)[2:]}={text(v)}" for k, v in settings.items())


def check(spec: Spec, experiment: Experiment) -> list[Trial]:
    """The spec's trials, every one's settings valid for ``experiment``; else ConfigError."""
    swept = [*spec.grid, *spec.ranges]
    for key in swept:
        if key in NOT_SWEPT:
            raise ConfigError(f"--grid {option(key)[2:]}: not swept by --grid; use "
                              f"{NOT_SWEPT[key]}")
        if key in spec.fixed:
            raise ConfigError(f"{option(key)} is given both as a flag and in --grid; "
                              "give it once")
    for key, values in spec.grid.items():
        if not values:
            raise ConfigError(f"--grid {option(key)[2:]}= lists no values; give one or more: "
                              f"--grid {option(key)[2:]}=V1,V2")
    if spec.ranges and spec.sample is None:
        key = next(iter(spec.ranges))
        raise ConfigError(f"--grid {option(key)[2:]}={spec.ranges[key][0]}:... is a range, "
                          "drawn from only in random search; add --sample N")
    if spec.sample is not None and spec.sample < 1:
        raise ConfigError(f"--sample {spec.sample} is invalid: it must be an integer >= 1")
    if not swept and len(spec.seeds) < 2:
        raise ConfigError("nothing to sweep: give --grid NAME=V1,V2,... (any run flag), "
                          "or --seeds K with K >= 2")
    trials = spec.trials()
    for trial in trials:
        resolve(experiment, {**spec.fixed, **trial.settings, "seed": trial.seed})  # None: unset
    return trials


def run_flags(settings: dict) -> list[str]:
    """The ``shallowlab run`` flags that give ``settings``: ``["--lr", "0.05", "--fast"]``."""
    return as_flags(settings, text)
