"""What the report says of each run, and of the report as a whole, read from run folders.

Nothing here writes HTML or Markdown: :mod:`html_page` and :mod:`markdown_page` both render
the same :class:`Section` list and :class:`Facts`, so the two pages say the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from shallowlab.experiments import EXPERIMENTS, Headline
from shallowlab.figures import plots
from shallowlab.files import atomic_write
from shallowlab.report import numbers
from shallowlab.runs.table import Run, differing, flags, seconds

CAPTIONS = {
    "curves": "Loss and accuracy per epoch, training against test",
    "predictions": "Test images with the true and the predicted class; wrong ones in red",
    "confusion": "Which class is taken for which: counts, and each row as fractions",
    "activations": "Activation functions and their derivatives, autograd against calculus",
    "data": "The synthetic data and the fitted line",
    "ohm": "Voltage against current, and the fitted resistance",
    "sweep": "The loss per epoch at each setting swept",
    "huber": "Fits under the squared and the Huber loss, outliers marked",
    "cv": "Cross-validation loss per polynomial degree",
    "fits": "The polynomial fits against the data",
    "weights": "The fitted weights against the true ones",
    "dropout": "Training and test curves with and without dropout",
    "gradients": "Gradient norms per layer for each activation and initialisation",
    "products": "Norm of a product of random matrices as it grows",
    "sigmoid": "The sigmoid and its derivative",
    "reliability": "Reliability: accuracy against confidence, hard and smoothed labels",
    "planck": "Measured spectra and the fitted black-body curves",
    "normal": "Normal densities for several means and standard deviations",
    "vectorize": "A Python loop against one vectorised call",
    "descents": "The seed's y = w x loss per SGD step, and Mazur's error per update",
    "wx-step": "The graph of one step of y = w x, with each value and gradient",
    "mazur": "Mazur's network as autograd's graph, after backward(): every weight's value "
             "and gradient",
    "book-mlp": "The book's MLP with an L2 penalty (d2l 4.7), values and gradients on its graph",
}


@dataclass
class Section:
    """What the report says of one run folder."""

    name: str  # the folder, relative to the folder it was found in
    experiment: str
    title: str
    status: str
    error: str | None
    question: str = ""
    answer: str = ""
    settings: str = ""  # every setting, as flags
    differs: str = ""  # the settings that differ from other runs of its experiment
    numbers: list[tuple[str, str]] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    figures: list[tuple[Path, str]] = field(default_factory=list)  # (PNG or SVG, caption)
    headlines: list[Headline] = field(default_factory=list)
    anchor: str = ""


@dataclass
class Facts:
    """The report's opening block: what was run, where, with what, when, for how long."""

    what: str
    runs: str
    machine: str
    versions: str
    when: str
    total: str
    comparisons: list[tuple[Path, str]] = field(default_factory=list)


def _figures(folder: Path) -> list[tuple[Path, str]]:
    found = [f for pattern in ("*.png", "*/*.png", "*.svg")  # SVG: the drawn graphs
             for f in sorted(folder.glob(pattern))]
    out = []
    for png in found:
        words = CAPTIONS.get(png.stem, png.stem.replace("_", " ").replace("-", " ").capitalize())
        if png.parent != folder:
            words += f" ({png.parent.name.replace('_', ' ')})"
        out.append((png, words))
    return out


def section(run: Run, differs: dict, index: int) -> Section:
    """One run folder as a report section."""
    experiment = EXPERIMENTS.get(run.experiment)
    completed = run.status == "completed"
    answer, headlines = "", []
    if experiment and completed and experiment.answer:
        try:
            answer = experiment.answer(run.summary)
        except (KeyError, TypeError, ValueError):  # a summary of another version
            answer = ""
    if experiment and experiment.headlines and run.status != "running":
        try:
            headlines = experiment.headlines(run.summary)
        except (KeyError, TypeError, ValueError):  # a failed run may lack what they read
            headlines = []
    error = run.summary.get("error") if not completed else None
    return Section(
        name=run.name, experiment=run.experiment,
        title=experiment.title.removeprefix(f"{run.experiment}: ") if experiment else "",
        status=run.status, error=str(error) if error is not None else None,
        question=experiment.question if experiment else "", answer=answer,
        settings=flags(run.settings), differs=flags(differs),
        numbers=numbers.table(run.experiment, run.summary), raw=run.summary,
        figures=_figures(run.path), headlines=headlines, anchor=f"run-{index + 1}")


def sections(runs: list[Run]) -> list[Section]:
    return [section(run, d, i) for i, (run, d) in enumerate(zip(runs, differing(runs)))]


def _one_of(values: list, unknown: str = "not recorded") -> str:
    seen = list(dict.fromkeys(str(v) for v in values if v is not None))
    return ", ".join(seen) or unknown


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def facts(runs: list[Run], what: str) -> Facts:
    """The opening block, from the runs' config.json and summary.json."""
    cpus = [f"{c.get('cpu')}, {c.get('cores')} cores" if c.get("cpu") else None
            for c in (r.config for r in runs)]
    devices = _one_of([r.summary.get("device") for r in runs], "")
    machine = _one_of(cpus) + (f"; trained on {devices}" if devices else "")
    versions = "; ".join(f"{label} {_one_of([r.config.get(key) for r in runs])}"
                         for label, key in (("shallowlab", "shallowlab"), ("PyTorch", "torch"),
                                            ("Python", "python")))
    ends = [(r.path / "summary.json").stat().st_mtime for r in runs] or [time.time()]
    starts = [end - float(r.summary.get("seconds") or 0) for end, r in zip(ends, runs)] or ends
    first, last = time.gmtime(min(starts)), time.gmtime(max(ends))
    day = "%H:%M UTC" if first[:3] == last[:3] else "%Y-%m-%d %H:%M UTC"
    when = f"{time.strftime('%Y-%m-%d %H:%M', first)} to {time.strftime(day, last)}"
    done = sum(r.status == "completed" for r in runs)
    other = [f"{sum(r.status == s for r in runs)} {s}" for s in
             dict.fromkeys(r.status for r in runs) if s != "completed"]
    kinds = len({r.experiment for r in runs})
    count = f"{_n(len(runs), 'run')} of {_n(kinds, 'experiment')}: {done} completed" \
            + "".join(f", {o}" for o in other)
    total = seconds(sum(float(r.summary.get("seconds") or 0) for r in runs))
    return Facts(what, count, machine, versions, when, f"{total} of training and measuring",
                 [])


def compare(runs: list[Run], out: Path) -> list[tuple[Path, str]]:
    """For each experiment with two or more runs that kept a history, one figure overlaying
    their test curves (accuracy where they have it, and loss), written into ``out``."""
    groups: dict[str, list[tuple[Run, dict]]] = {}
    for run, d in zip(runs, differing(runs)):
        if any(r.get("test_loss") is not None for r in run.history):
            groups.setdefault(run.experiment, []).append((run, d))
    figures = []
    for name, group in groups.items():
        if len(group) < 2:
            continue
        epochs = max(len(run.history) for run, _ in group)
        panels: dict[str, dict[str, list]] = {"test accuracy": {}, "test loss": {}}
        for run, d in group:
            label = flags(d) or run.name
            panels["test accuracy"][label] = [r.get("test_acc") for r in run.history]
            panels["test loss"][label] = [r.get("test_loss") for r in run.history]
        if all(v is None for series in panels["test accuracy"].values() for v in series):
            del panels["test accuracy"]
        losses = [v for series in panels["test loss"].values() for v in series if v is not None]
        # a loss alone, spanning decades, reads best on a log axis; accuracy beside it, linear
        log = "test accuracy" not in panels and min(losses) > 0 and max(losses) > 100 * min(losses)
        fig = plots.series_panels(range(1, epochs + 1), panels, "epoch",
                                  yscale="log" if log else "linear",
                                  title=f"{name}: {len(group)} runs compared")
        path = out / f"compare-{name}.png"
        atomic_write(path, plots.png_bytes(fig))
        plots.close(fig)
        figures.append((path, f"{name}: the test curves of its {len(group)} runs, labelled by "
                              "the settings that differ"))
    return figures


def results(sections: list[Section]) -> list[tuple[Section, str, str, str, str, str]]:
    """The results table: (section, number, ours, book, tolerance, verdict) per headline;
    the verdict is ``agrees``, ``misses`` or, for a run that did not complete, its status."""
    rows = []
    for s in sections:
        for h in s.headlines:
            done = s.status == "completed" and h.ours is not None
            verdict = ("agrees" if h.agrees else "misses") if done else s.status
            ours = numbers.sig(h.ours) if done else "no result"
            rows.append((s, h.name, ours, numbers.sig(h.book), f"\u00b1 {numbers.sig(h.tolerance)}",
                         verdict))
    return rows
