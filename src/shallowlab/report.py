"""``report.md`` and a self-contained ``report.html`` from a folder of run folders.

The folder holds one run folder per experiment (as ``shallowlab run all`` leaves it). The
report has a results table, each headline number next to the book's with the tolerance and a
mark for any miss, then one section per experiment: what it shows, its key numbers, its
figures. The HTML inlines the figures, so it can be mailed or opened anywhere.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from shallowlab.experiments import EXPERIMENTS, Headline
from shallowlab.runs import atomic_write


@dataclass
class Section:
    """What the report says of one experiment's run folder."""

    name: str
    title: str
    lesson: str
    status: str
    error: str | None
    numbers: dict
    figures: list[Path]
    headlines: list[Headline] = field(default_factory=list)


def _key_numbers(summary: dict) -> dict:
    """The summary's scalars and short lists of numbers: what fits in a line each."""
    skip = {"status", "error"}
    keep = {}
    for key, value in summary.items():
        if key in skip:
            continue
        if isinstance(value, (int, float, str)) or value is None:
            keep[key] = value
        elif isinstance(value, list) and len(value) <= 6 and \
                all(isinstance(v, (int, float)) for v in value):
            keep[key] = value
    return keep


def section(folder: Path) -> Section:
    """Read one run folder (its summary, config and figures) into a report section."""
    summary = json.loads((folder / "summary.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    experiment = EXPERIMENTS.get(config.get("experiment", folder.name))
    figures = sorted(folder.glob("*.png")) + sorted(folder.glob("*/*.png"))
    headlines = []
    if experiment and experiment.headlines and summary.get("status") == "completed":
        headlines = experiment.headlines(summary)
    return Section(
        name=folder.name,
        title=experiment.title if experiment else folder.name,
        lesson=experiment.lesson if experiment else "",
        status=summary.get("status", "unknown"),
        error=summary.get("error"),
        numbers=_key_numbers(summary),
        figures=figures,
        headlines=headlines,
    )


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _headline_rows(sections: list[Section]) -> list[list[str]]:
    rows = []
    for s in sections:
        for h in s.headlines:
            mark = "agrees" if h.agrees else "**MISS**"
            rows.append([s.name, h.name, _fmt(h.ours), _fmt(h.book), f"± {_fmt(h.tolerance)}",
                         mark])
    return rows


HEADER = ["experiment", "number", "shallowlab", "book", "tolerance", ""]


def markdown(sections: list[Section], settings: str, root: Path) -> str:
    """The report in Markdown; figures are linked relative to ``root``, the report's folder."""
    lines = ["# shallowlab report", "", settings, "", "## Results against the book", ""]
    rows = _headline_rows(sections)
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    failed = [s.name for s in sections if s.status != "completed"]
    lines += ["", f"{len(sections) - len(failed)} of {len(sections)} experiments completed"
              + (f"; failed: {', '.join(failed)}" if failed else "") + "."]
    for s in sections:
        lines += ["", f"## {s.name}", "", f"*{s.title}*", ""]
        if s.lesson:
            lines += [s.lesson, ""]
        if s.status != "completed":
            lines += [f"**{s.status.upper()}**: {s.error or 'no error recorded'}", ""]
        lines += [f"- {k}: {_fmt(v)}" for k, v in s.numbers.items()]
        lines += [""] + [f"![{f.stem}]({f.relative_to(root).as_posix()})" for f in s.figures]
    return "\n".join(lines) + "\n"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def html_page(sections: list[Section], settings: str) -> str:
    """The report as one HTML file with every figure inlined."""
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>shallowlab report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
             ".miss{color:#b00;font-weight:bold}.failed{color:#b00}img{max-width:100%}"
             "</style></head><body>",
             "<h1>shallowlab report</h1>", f"<p>{e(settings)}</p>",
             "<h2>Results against the book</h2><table><tr>"
             + "".join(f"<th>{e(h)}</th>" for h in HEADER) + "</tr>"]
    for row in _headline_rows(sections):
        cells = "".join(f"<td>{e(c)}</td>" for c in row[:-1])
        miss = "MISS" in row[-1]
        parts.append(f"<tr>{cells}<td class='{'miss' if miss else ''}'>"
                     f"{'miss' if miss else 'agrees'}</td></tr>")
    parts.append("</table>")
    for s in sections:
        parts.append(f"<h2 id='{e(s.name)}'>{e(s.name)}</h2><p><i>{e(s.title)}</i></p>")
        if s.lesson:
            parts.append(f"<p>{e(s.lesson)}</p>")
        if s.status != "completed":
            parts.append(f"<p class='failed'>{e(s.status.upper())}: "
                         f"{e(s.error or 'no error recorded')}</p>")
        parts.append("<ul>" + "".join(f"<li>{e(k)}: {e(_fmt(v))}</li>"
                                      for k, v in s.numbers.items()) + "</ul>")
        parts += [_img(f) for f in s.figures]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write(folder: Path, names: list[str], settings: str) -> list[Section]:
    """Write ``report.md`` and ``report.html`` into ``folder`` for its run folders ``names``."""
    sections = [section(folder / name) for name in names if (folder / name / "summary.json")
                .exists()]
    atomic_write(folder / "report.md", markdown(sections, settings, folder))
    atomic_write(folder / "report.html", html_page(sections, settings))
    return sections
