"""What an experiment is: the base every experiment shares.

An experiment's settings are checked by :mod:`shallowlab.runs.settings` and a run of one is
carried out by :func:`shallowlab.runs.lifecycle.execute`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shallowlab.runs.folder import RunDir
from shallowlab.term import Log


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
