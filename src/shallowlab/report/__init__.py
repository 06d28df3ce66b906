"""``report.md`` and a self-contained ``report.html`` from run folders.

The report opens with what was run (settings, machine, versions, when, how long) and the
results against the book, each headline number next to the book's with its tolerance and a
verdict; then a table of contents and one section per run: the question its experiment asks,
the answer with its numbers, a table of the numbers that matter in words and units, its
figures side by side, and every recorded number folded away. Two or more runs of one
experiment also get a figure overlaying their test curves.

:func:`write` reports on a ``run all`` folder; :func:`build` on any run folders
(``shallowlab report``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shallowlab.experiments import EXPERIMENTS
from shallowlab.files import atomic_write
from shallowlab.report import html_page, markdown_page
from shallowlab.report.sections import Facts, Section, compare, facts, sections
from shallowlab.runs.table import Run, find, load

__all__ = ["Facts", "Section", "build", "write"]


def _render(runs: list[Run], out: Path, what: str) -> list[Section]:
    found = sections(runs)
    about = facts(runs, what)
    about.comparisons = compare(runs, out)
    atomic_write(out / "report.md", markdown_page.page(found, about, out))
    atomic_write(out / "report.html", html_page.page(found, about))
    return found


def write(folder: Path, names: list[str], settings: str) -> list[Section]:
    """Write ``report.md`` and ``report.html`` into ``folder`` for its run folders ``names``
    (those with a summary), described by ``settings``."""
    runs = [load(folder / name, name) for name in names
            if (folder / name / "summary.json").is_file()]
    return _render(runs, folder, settings)


def build(folders: Sequence[str | Path], out: str | Path) -> list[Section]:
    """The report on the run folders in ``folders`` (see :func:`shallowlab.runs.table.find`),
    written into ``out``; the runs in the order of ``shallowlab list``, then by folder."""
    order = {name: i for i, name in enumerate(EXPERIMENTS)}
    runs = sorted(find(folders), key=lambda r: (order.get(r.experiment, len(order)), r.name))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    what = "Run folders from " + ", ".join(str(f) for f in folders)
    return _render(runs, out, what)
