"""What an experiment is, how its settings are checked, and how a run of one is carried out."""

from __future__ import annotations

import json
import math
import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

import shallowlab
from shallowlab import nets, painter, tensorboard
from shallowlab.devices import available_memory, check_device
from shallowlab.errors import ConfigError, DivergedError, ShallowlabError
from shallowlab.runs import RunDir
from shallowlab.steps import ENGINES, PRECISIONS
from shallowlab.term import reader_gone

Log = Callable[[str], None]
OOM = r"out of memory|allocate memory"  # torch's words when CUDA, MPS or its CPU allocator fail


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
    book's values and a tolerance. ``question`` is what the experiment asks, in a sentence, and
    ``answer(summary)`` what a completed run found, in a sentence or two with its numbers.

    ``presets`` maps a boolean setting to the defaults it brings when true (``--fast``: a
    recipe); a setting given explicitly still wins over them. ``footprint(config)`` counts
    the bytes training would hold, so that a model too big for the machine is refused before
    it starts.
    """

    name: str
    title: str
    defaults: dict
    run: Callable[[dict, RunDir, Log], dict]
    check: Callable[[dict], None] | None = None  # raises ConfigError for what defaults can't say
    quick: dict = field(default_factory=dict)
    lesson: str = ""
    headlines: Callable[[dict], list[Headline]] | None = None
    question: str = ""
    answer: Callable[[dict], str] | None = None
    presets: dict[str, dict] = field(default_factory=dict)
    # bytes training holds at least at these settings (a model with "hidden" and "batch_size"
    # settings), checked against the device's free memory before the run starts
    footprint: Callable[[dict], int] | None = None


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
    return "--" + setting.replace("_", "-")


def _flag(key: str, *value) -> str:
    """How a message names a setting given as a flag: ``--hidden``, ``--hidden 256,128``."""
    shown = [",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v) for v in value]
    return " ".join([option(key), *shown])


def _entry(key: str, *value) -> str:
    """How a message names a setting read from config.json: ``"hidden"``,
    ``"hidden": [256, 128]``, as the file writes it."""
    return ": ".join([json.dumps(key), *map(json.dumps, value)])


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
    validate(experiment, config)
    return config


def resolve_saved(experiment: Experiment, saved: dict, path: Path) -> dict:
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


def validate(experiment: Experiment, config: dict, name: Callable[..., str] = _flag) -> None:
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


def _gb(size: int) -> str:
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
                      f"{_gb(need)} of memory to train, more than the {_gb(have)} of "
                      f"{device} memory free now; choose smaller {name('hidden')} widths or a "
                      f"smaller {name('batch_size')}")


def execute(experiment: Experiment, config: dict, run: RunDir, log: Log = print) -> dict:
    """Run ``experiment`` in ``run``, keeping ``summary.json`` true to what happened.

    The summary says ``running`` while it runs, then ``completed``, ``failed`` (with the error)
    or ``interrupted``. Exceptions propagate after the summary is written.
    """
    meta = {"experiment": experiment.name, "shallowlab": shallowlab.__version__,
            "torch": torch.__version__, "python": platform.python_version(),
            "cpu": cpu_name(), "cores": os.cpu_count()}
    run.write_json("config.json", {**meta, **config})
    start = time.perf_counter()
    run.write_summary("running", [], 0.0)
    try:
        extra = experiment.run(config, run, log)
        painter.wait()  # its figures are part of the run: on disk before it is completed
    except DivergedError as e:
        _settle()
        if "lr" in config:
            e.args = (f"{e}; likely cause: the learning rate {config['lr']:g} is too high for "
                      f"these settings, try --lr {config['lr'] / 10:g} or lower",)
        run.write_summary("failed", _history(run), time.perf_counter() - start, error=str(e))
        raise
    except KeyboardInterrupt:  # the process ends: the figures drawn so far are on disk
        run.write_summary("interrupted", _history(run), time.perf_counter() - start)
        raise
    except Exception as e:
        _settle()
        if isinstance(e, BrokenPipeError) and reader_gone():  # `| head` has its lines
            run.write_summary("interrupted", _history(run), time.perf_counter() - start)
            raise
        failure = _out_of_memory(e, config) or e
        run.write_summary("failed", _history(run), time.perf_counter() - start,
                          error=str(failure))
        if failure is not e:
            raise failure from e
        raise
    return run.write_summary("completed", _history(run), time.perf_counter() - start, **extra)


def _settle() -> None:
    """Let the figures already asked for finish, whatever became of them, so that a run after
    this one (``run all``) starts with none outstanding."""
    try:
        painter.wait()
    except Exception:
        pass


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


def _history(run: RunDir) -> list[dict]:
    """The epochs the run has saved so far (experiments write history.json after each)."""
    path = run / "history.json"
    return json.loads(path.read_text()) if path.exists() else []


def _out_of_memory(error: Exception, config: dict) -> ShallowlabError | None:
    """The one line for an allocation that failed at run time (torch's CPU allocator, CUDA or
    MPS out of memory, Python's MemoryError), or None for any other error."""
    text = str(error)
    failed = isinstance(error, RuntimeError) and re.search(OOM, text, re.IGNORECASE)
    if not (failed or isinstance(error, MemoryError)):
        return None
    size = re.search(r"tried to allocate ([\d.]+) ?(\w+)", text, re.IGNORECASE)
    if size is None:
        what = "an allocation failed"
    elif size.group(2) == "bytes":  # the CPU allocator counts bytes, CUDA says "2.00 GiB"
        what = f"an allocation of {_gb(float(size.group(1)))} failed"
    else:
        what = f"an allocation of {size.group(1)} {size.group(2)} failed"
    smaller = [f"a smaller {option(k)}" for k in ("batch_size", "hidden") if k in config]
    advice = f"try {' or '.join(smaller)}, or" if smaller else "try again after you"
    return ShallowlabError(f"out of memory while training: {what} ({type(error).__name__}); "
                           f"{advice} free memory on the device")
