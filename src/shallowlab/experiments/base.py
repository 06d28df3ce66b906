"""What an experiment is, how its settings are checked, and how a run of one is carried out."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

import shallowlab
from shallowlab import nets, tensorboard
from shallowlab.errors import ConfigError, DivergedError
from shallowlab.runs import RunDir
from shallowlab.steps import ENGINES

Log = Callable[[str], None]


@dataclass(frozen=True)
class Headline:
    """One number for the report's results table, next to the book's."""

    name: str  # e.g. "test accuracy"
    ours: float | None
    book: float
    tolerance: float  # |ours - book| <= tolerance counts as agreeing with the book

    @property
    def agrees(self) -> bool:
        return self.ours is not None and abs(self.ours - self.book) <= self.tolerance


@dataclass(frozen=True)
class Experiment:
    """A runnable experiment: ``run(config, run_dir, log)`` returns summary figures.

    ``defaults`` lists every setting the experiment accepts, with its default value (the
    book's); the run writes its history, weights and figures into ``run_dir`` as it goes.

    For ``shallowlab run all`` and the report: ``quick`` overrides the defaults so the whole
    set finishes in minutes on a laptop CPU (``--full`` drops it), ``lesson`` says in a line
    what the experiment shows, and ``headlines(summary)`` picks its key numbers with the
    book's values and a tolerance.

    ``presets`` maps a boolean setting to the defaults it brings when true (``--fast``: a
    recipe); a setting given explicitly still wins over them.
    """

    name: str
    title: str
    defaults: dict
    run: Callable[[dict, RunDir, Log], dict]
    check: Callable[[dict], None] | None = None  # raises ConfigError for what defaults can't say
    quick: dict = field(default_factory=dict)
    lesson: str = ""
    headlines: Callable[[dict], list[Headline]] | None = None
    presets: dict[str, dict] = field(default_factory=dict)


# setting -> (check, what a valid value is)
CHECKS: dict[str, tuple[Callable, str]] = {
    "epochs": (lambda v: isinstance(v, int) and v >= 1, "an integer >= 1"),
    "lr": (lambda v: v > 0, "a number > 0"),
    "batch_size": (lambda v: isinstance(v, int) and v >= 1, "an integer >= 1"),
    "hidden": (lambda v: len(v) >= 1 and all(h >= 1 for h in v), "one or more widths >= 1"),
    "dropout": (lambda v: all(0 <= p < 1 for p in v), "probabilities in [0, 1)"),
    "weight_decay": (lambda v: v >= 0, "a number >= 0"),
    "label_smoothing": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "init_std": (lambda v: v > 0, "a number > 0"),
    "seed": (lambda v: isinstance(v, int) and 0 <= v < 2**63, "an integer >= 0"),
    "fast": (lambda v: isinstance(v, bool), "true or false"),
    "tensorboard": (lambda v: isinstance(v, bool), "true or false"),
}
CHOICES = {
    "impl": ("scratch", "concise"),
    "activation": tuple(nets.ACTIVATIONS),
    "init": nets.INITS,
    "engine": ENGINES,
}


def option(setting: str) -> str:
    return "--" + setting.replace("_", "-")


def resolve(experiment: Experiment, overrides: dict) -> dict:
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
    for key, value in config.items():
        if key in CHECKS and not CHECKS[key][0](value):
            raise ConfigError(f"{option(key)} {value} is invalid: it must be {CHECKS[key][1]}")
        if key in CHOICES and value not in CHOICES[key]:
            raise ConfigError(f"{option(key)} {value!r} is invalid: choose from "
                              f"{', '.join(CHOICES[key])}")
    if "dropout" in config and len(config["dropout"]) not in (1, len(config["hidden"])):
        raise ConfigError(f"--dropout has {len(config['dropout'])} values for "
                          f"{len(config['hidden'])} hidden layers; give one, or one per layer")
    if config.get("tensorboard"):
        tensorboard.require()
    if experiment.check is not None:
        experiment.check(config)
    return config


def execute(experiment: Experiment, config: dict, run: RunDir, log: Log = print) -> dict:
    """Run ``experiment`` in ``run``, keeping ``summary.json`` true to what happened.

    The summary says ``running`` while it runs, then ``completed``, ``failed`` (with the error)
    or ``interrupted``. Exceptions propagate after the summary is written.
    """
    meta = {"experiment": experiment.name, "shallowlab": shallowlab.__version__,
            "torch": torch.__version__, "python": platform.python_version()}
    run.write_json("config.json", {**meta, **config})
    start = time.perf_counter()
    run.write_summary("running", [], 0.0)
    try:
        extra = experiment.run(config, run, log)
    except DivergedError as e:
        if "lr" in config:
            e.args = (f"{e}; likely cause: the learning rate {config['lr']:g} is too high for "
                      f"these settings, try --lr {config['lr'] / 10:g} or lower",)
        run.write_summary("failed", _history(run), time.perf_counter() - start, error=str(e))
        raise
    except KeyboardInterrupt:
        run.write_summary("interrupted", _history(run), time.perf_counter() - start)
        raise
    except Exception as e:
        run.write_summary("failed", _history(run), time.perf_counter() - start, error=str(e))
        raise
    return run.write_summary("completed", _history(run), time.perf_counter() - start, **extra)


def _history(run: RunDir) -> list[dict]:
    """The epochs the run has saved so far (experiments write history.json after each)."""
    path = run / "history.json"
    return json.loads(path.read_text()) if path.exists() else []
