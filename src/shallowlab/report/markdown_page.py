"""``report.md``: the same report for a terminal or a repository page; figures are linked.

Text from outside (folder names, settings, errors) is escaped for Markdown's tables and for
the HTML a repository page renders inside Markdown.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from urllib.parse import quote

from shallowlab.report.sections import Facts, Section, results

MARKS = {"agrees": "\u2713 agrees", "misses": "\u2717 **misses**"}


def _t(text: str) -> str:
    """Outside text made inert: no HTML, no table breaks, no emphasis or links."""
    text = html.escape(str(text), quote=False).replace("\n", " ")
    for ch in "\\|*_`[]":
        text = text.replace(ch, "\\" + ch)
    return text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(row) + " |" for row in rows]


def _link(path: Path, root: Path) -> str:
    return quote(Path(os.path.relpath(path, root)).as_posix())


def _figures(figures: list[tuple[Path, str]], root: Path) -> list[str]:
    return [f"![{_t(caption)}]({_link(path, root)})  \n*{_t(caption)}*\n"
            for path, caption in figures]


def _section(s: Section, root: Path) -> list[str]:
    lines = ["", f"## {_t(s.name)}" + (f" ({_t(s.differs)})" if s.differs else ""), "",
             *([f"*{_t(s.title)}*", ""] if s.title else [])]
    if s.question:
        lines += [f"**{_t(s.question)}**", ""]
    if s.status == "completed":
        lines += [_t(s.answer), ""] if s.answer else []
    else:
        lines += [f"**{_t(s.status.upper())}**: {_t(s.error or 'no error was recorded')}", ""]
    if s.settings:
        lines += [f"Settings: {_t(s.settings)}", ""]
    if s.numbers:
        lines += _table(["Number", "Value"], [[_t(w), _t(v)] for w, v in s.numbers]) + [""]
    lines += _figures(s.figures, root)
    lines += ["<details><summary>All numbers of this run, as recorded</summary>", "",
              "```json", json.dumps(s.raw, indent=2).replace("```", "'''"), "```", "",
              "</details>"]
    return lines


def page(sections: list[Section], facts: Facts, root: Path) -> str:
    """The report in Markdown; figure links are relative to ``root``, the report's folder."""
    lines = ["# shallowlab report", ""]
    lines += [f"- **{k}**: {_t(v)}" for k, v in (
        ("What was run", facts.what), ("Runs", facts.runs), ("Machine", facts.machine),
        ("Versions", facts.versions), ("When", facts.when), ("Total time", facts.total))]
    lines += ["", "## Results against the book", ""]
    rows = results(sections)
    if rows:
        agree = sum(r[5] == "agrees" for r in rows)
        lines += [f"{agree} of {len(rows)} numbers agree with the book within its tolerance.",
                  ""]
        lines += _table(["Run", "Number", "shallowlab", "Book", "Tolerance", "Verdict"],
                        [[_t(s.name), _t(name), ours, book, tol,
                          MARKS.get(v, f"**{_t(v)}**")]
                         for s, name, ours, book, tol, v in rows])
    else:
        lines.append("None of these runs has a number the book states.")
    lines += ["", "## Contents", ""]
    lines += [f"{i}. {_t(s.name)}" + (f": {_t(s.title)}" if s.title else "")
              + ("" if s.status == "completed" else f" (**{_t(s.status)}**)")
              for i, s in enumerate(sections, 1)]
    if facts.comparisons:
        lines.append(f"{len(sections) + 1}. Runs compared")
    for s in sections:
        lines += _section(s, root)
    if facts.comparisons:
        lines += ["", "## Runs compared", ""] + _figures(facts.comparisons, root)
    return "\n".join(lines) + "\n"
