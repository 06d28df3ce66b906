"""``report.html``: one self-contained page (figures inlined, no network, no scripts).

Light or dark as the reader's system prefers; at a phone's width the page never scrolls
sideways: wide tables scroll inside their own box, figures stack. Every string that came from
outside (folder names, settings, error messages) goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from html import escape as e
from pathlib import Path

from shallowlab.report.sections import Facts, Section, results

CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--card:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#3d444d;--card:#151b23;--ok:#3fb950;--bad:#f85149;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1180px;padding:1rem 1.25rem 3rem;background:var(--bg);
color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
overflow-wrap:anywhere}
a{color:var(--link)}h1{margin:.5rem 0 0}h2{margin-top:2.5rem;border-bottom:1px solid var(--line);
padding-bottom:.3rem}.muted{color:var(--muted)}
dl.facts{display:grid;grid-template-columns:minmax(6rem,max-content) 1fr;gap:.2rem 1rem}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.scroll{overflow-x:auto;max-width:100%;margin:.75rem 0}
table{border-collapse:collapse;overflow-wrap:normal}
th,td{border-bottom:1px solid var(--line);padding:.35rem .7rem;text-align:left;vertical-align:top}
th{background:var(--card)}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.agrees{color:var(--ok);font-weight:600}.misses,.failed,.interrupted{color:var(--bad);
font-weight:600}
.question{font-size:1.05rem;font-weight:600;margin-bottom:.2rem}.answer{margin-top:0}
.failure{border-left:4px solid var(--bad);background:var(--card);padding:.5rem 1rem}
.settings code{display:inline-block;max-width:100%;font-size:.85rem;margin-right:.6rem}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,340px),1fr));
gap:1rem;margin:1rem 0}
figure{margin:0;background:#fff;color:#1f2328;border:1px solid var(--line);border-radius:6px;
padding:.5rem}figure.wide{grid-column:1/-1}
.figures figure:only-child{grid-column:1/-1;max-width:760px}
figure img{display:block;width:100%;height:auto}figure img.graph{width:auto;max-width:100%;
margin:0 auto}figcaption{font-size:.9rem;padding-top:.3rem}
details{margin:.75rem 0}summary{cursor:pointer;color:var(--muted)}
pre{background:var(--card);padding:.75rem;font-size:.8rem;white-space:pre-wrap}
nav ol{padding-left:1.5rem}nav li{margin:.15rem 0}
"""


def _size(image: bytes) -> tuple[float, float]:
    """A PNG's width and height from its header; an SVG's from its viewBox."""
    if image[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", image[16:24])
    box = re.search(rb"viewBox=['\"][-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)[ ,]+([\d.]+)", image)
    return (float(box.group(1)), float(box.group(2))) if box else (0, 0)


def _figure(path: Path, caption: str) -> str:
    data = path.read_bytes()
    width, height = _size(data)
    svg = path.suffix == ".svg"  # a drawn graph: an <img> runs no script an SVG could hold;
    # it has a row of its own, at most at its own size (its text is small already)
    wide = " class='wide'" if svg or height and width / height > 2.2 else ""
    kind = "svg+xml" if svg else "png"
    src = f"data:image/{kind};base64," + base64.b64encode(data).decode()
    return (f"<figure{wide}><img{' class=graph' if svg else ''} alt='{e(caption)}' src='{src}'>"
            f"<figcaption>{e(caption)}</figcaption></figure>")


def figures(items: list[tuple[Path, str]]) -> str:
    """Figures side by side (a grid), each inlined, with its caption."""
    if not items:
        return ""
    return "<div class='figures'>" + "".join(_figure(p, c) for p, c in items) + "</div>"


def table(header: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """A table from already-escaped cells, in a box that scrolls sideways if need be."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


def _results(sections: list[Section]) -> str:
    rows = results(sections)
    if not rows:
        return "<p class='muted'>None of these runs has a number the book states.</p>"
    agree = sum(r[5] == "agrees" for r in rows)
    marks = {"agrees": "\u2713 agrees", "misses": "\u2717 misses"}
    cells = [[f"<a href='#{s.anchor}'>{e(s.name)}</a>", e(name), ours, book, tol,
              f"<span class='{e(v)}'>{e(marks.get(v, v))}</span>"]
             for s, name, ours, book, tol, v in rows]
    return (f"<p>{agree} of {len(rows)} numbers agree with the book within its tolerance.</p>"
            + table(["Run", "Number", "shallowlab", "Book", "Tolerance", "Verdict"], cells,
                     {2, 3, 4}))


def _section(s: Section) -> str:
    title = e(s.name) + (f" <span class='muted'>{e(s.differs)}</span>" if s.differs else "")
    parts = [f"<section id='{s.anchor}'><h2>{title}</h2>"]
    if s.title:
        parts.append(f"<p class='muted'>{e(s.title)}</p>")
    if s.question:
        parts.append(f"<p class='question'>{e(s.question)}</p>")
    if s.status == "completed":
        if s.answer:
            parts.append(f"<p class='answer'>{e(s.answer)}</p>")
    else:
        parts.append(f"<p class='failure'><span class='{e(s.status)}'>{e(s.status.upper())}"
                     f"</span>: {e(s.error or 'no error was recorded')}</p>")
    if s.settings:
        flags = "".join(f"<code>{e(f)}</code> " for f in re.split(r" (?=--)", s.settings))
        parts.append(f"<p class='settings'>Settings: {flags}</p>")
    if s.numbers:
        parts.append(table(["Number", "Value"], [[e(w), e(v)] for w, v in s.numbers], {1}))
    parts.append(figures(s.figures))
    raw = json.dumps(s.raw, indent=2)
    parts.append(f"<details><summary>All numbers of this run, as recorded</summary>"
                 f"<pre>{e(raw)}</pre></details></section>")
    return "\n".join(parts)


def page(sections: list[Section], facts: Facts) -> str:
    """The whole report as one HTML document."""
    rows = [("What was run", facts.what), ("Runs", facts.runs), ("Machine", facts.machine),
            ("Versions", facts.versions), ("When", facts.when), ("Total time", facts.total)]
    toc = [f"<li><a href='#{s.anchor}'>{e(s.name)}</a> <span class='muted'>{e(s.title)}"
           + ("" if s.status == "completed" else f"</span> <span class='{e(s.status)}'>"
              f"{e(s.status)}") + "</span></li>" for s in sections]
    if facts.comparisons:
        toc.append("<li><a href='#compare'>Runs compared</a></li>")
    parts = ["<header><h1>shallowlab report</h1><dl class='facts'>"
             + "".join(f"<dt>{k}</dt><dd>{e(v)}</dd>" for k, v in rows) + "</dl></header>",
             "<section id='results'><h2>Results against the book</h2>"
             + _results(sections) + "</section>",
             "<nav id='contents'><h2>Contents</h2><ol>" + "".join(toc) + "</ol></nav>"]
    parts += [_section(s) for s in sections]
    if facts.comparisons:
        parts.append("<section id='compare'><h2>Runs compared</h2>"
                     + figures(facts.comparisons) + "</section>")
    return document("shallowlab report", "\n".join(parts))


def document(title: str, body: str) -> str:
    """A self-contained HTML document: ``body`` (already escaped) in the report's style."""
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>\n"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
            f"<title>{e(title)}</title><style>{CSS}</style></head><body>\n{body}\n"
            "</body></html>\n")
