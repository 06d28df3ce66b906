"""The exercises as a document: ``exercises.html`` (one self-contained page, no network, no
scripts; light or dark as the reader's system is) and the same in Markdown
(``docs/exercises.md``). Every exercise with its IDs, kind and summary; its answer, worked
answer or hints folded in a ``<details>`` so that a learner sees them only when asked; how to
run it or check one's own code. Every string goes through :func:`html.escape`. No torch.
"""

from __future__ import annotations

from collections import Counter
from html import escape as e
from pathlib import Path

from shallowlab.exercises import catalog
from shallowlab.exercises.catalog import Exercise, section_of
from shallowlab.exercises.checkers import CHECKERS
from shallowlab.exercises.runs import RUNS
from shallowlab.files import atomic_write

INTRO = (
    "Every exercise of the sections shallowlab covers, in both editions of *Dive into Deep "
    "Learning*: the English edition at d2l.ai (d2l 1.0) and the Chinese edition at zh.d2l.ai "
    "(d2l 0.17). An exercise that is in both carries both IDs. Its kind says how shallowlab "
    "answers it: **run** exercises run an experiment, a sweep or a small run of their own "
    "(`shallowlab exercise ID`, quick settings; `--full` for the book's) and answer with their "
    "numbers; **code** exercises come with a checker of your own solution (`shallowlab check ID "
    "FILE.py`); **math** exercises have a worked answer that a numerical check confirms; "
    "**think** exercises have a short discussion. The summaries and answers are shallowlab's "
    "own words; the questions themselves are on the book's pages, linked. Answers are folded: "
    "open one when you have tried.")
SOURCES = (
    "The catalog lives in `src/shallowlab/exercises/book/` as data: `sections.json` records "
    "each section's exercise list as its source file numbers it (a number per item, a letter per "
    "sub-item: `1ab 2 3` is 1a, 1b, 2, 3), and the other files one entry per exercise. "
    "`scripts/exercise_counts.py` reads every section's list off the book's sources (git "
    "clones of d2l-ai/d2l-en and d2l-ai/d2l-zh) and compares it with the catalog: all 38 "
    "sections agree. The tests check the data against itself: every ID unique and well-formed, "
    "every section's IDs exactly those its recorded list implies, every kind valid and each "
    "run, code and math exercise with its run, checker or numerical check.")


def counts(pairs: list[tuple[str, Exercise]]) -> list[list[str]]:
    """A row per section the exercises are in: its ID, title, number of exercises (all of
    them), per kind, and how many are in both editions."""
    rows, shown = [], {section_of(i) for _, x in pairs for i in x.ids}
    for key, section in catalog.sections().items():
        here = [ex for i, ex in catalog.select(key)]
        if key not in shown:
            continue
        kinds = Counter(x.kind for x in here)
        shared = sum(len(x.ids) == 2 for x in here)
        rows.append([key, section.title, str(len(here)), *(str(kinds[k]) for k in catalog.KINDS),
                     str(shared)])
    return rows


def _how(x: Exercise) -> str:
    if x.kind == "run":
        run = RUNS[x.run]
        using = {"experiment": f"the {run.target} experiment",
                 "sweep": f"a sweep of the {run.target} experiment over "
                          + ", ".join(f"--{k.replace('_', '-')}" for k in run.grid),
                 "own": "a small run of its own"}[run.how]
        full = "; `--full` for the book's settings" if run.full != run.quick else ""
        return f"Run it: `shallowlab exercise {x.id}` ({using}{full})."
    if x.kind == "code":
        return f"Check yours: `shallowlab check {x.id} FILE.py`."
    if x.kind == "math":
        return f"`shallowlab exercise {x.id}` prints the worked answer and runs its check."
    return ""


def _folded(x: Exercise) -> str:
    return {"run": "What it shows", "code": "Hints", "math": "Worked answer",
            "think": "Discussion"}[x.kind]


def _checker(x: Exercise) -> list[str]:
    if not x.checker:
        return []
    checker = CHECKERS[x.checker]
    return [f"Your function: `{checker.signature.split(' -> ')[0].split(': ')[0]}`; the checker "
            "tests, in order: " + "; ".join(checker.properties) + "."]


def markdown(pairs: list[tuple[str, Exercise]]) -> str:
    lines = ["# Exercises", "", INTRO, "", "## Counts", "",
             "| section | title | exercises | run | code | math | think | in both editions |",
             "|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in counts(pairs)]
    total = Counter(x.kind for _, x in pairs)
    lines += ["", f"{len(pairs)} exercises: " + ", ".join(f"{total[k]} {k}" for k in
                                                         catalog.KINDS) +
              f"; {sum(i.startswith('en-') for i in catalog.by_id())} IDs in the English "
              f"edition, {sum(i.startswith('zh-') for i in catalog.by_id())} in the Chinese one.",
              "", "## How the catalog was checked against the book", "", SOURCES, ""]
    current = None
    for key, x in pairs:
        if section_of(key) != current:
            current = section_of(key)
            s = catalog.sections()[current]
            lines += [f"## {current} {s.title}", "", f"[{s.url}]({s.url})", ""]
        also = [f"[{i}]({catalog.sections()[section_of(i)].url})" for i in x.ids if i != key]
        lines += [f"### {key}" + (f" = {' = '.join(i for i in x.ids if i != key)}" if also
                                  else ""), "",
                  f"*{x.kind}*: {x.summary}" + (f" (also {', '.join(also)})" if also else ""), ""]
        lines += [text for text in (_how(x), *_checker(x)) if text]
        lines += ["", f"<details><summary>{_folded(x)}</summary>", "", x.answer, "",
                  "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--card:#f6f8fa;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#3d444d;--card:#151b23;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:980px;padding:1rem 1.25rem 3rem;background:var(--bg);
color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
overflow-wrap:anywhere}
a{color:var(--link)}h2{margin-top:2.5rem;border-bottom:1px solid var(--line)}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;overflow-wrap:normal}
th,td{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left}
th{background:var(--card)}
article{border-left:3px solid var(--line);padding:.1rem 0 .1rem 1rem;margin:1.2rem 0}
.ids{font-weight:600}.kind{display:inline-block;border-radius:1rem;padding:0 .6rem;
background:var(--card);border:1px solid var(--line);font-size:.85rem;margin-left:.4rem}
details{margin:.4rem 0}summary{cursor:pointer;color:var(--muted)}
code{background:var(--card);padding:0 .25rem;border-radius:4px}
"""


def _inline(text: str) -> str:
    """Escaped text with `code` spans and *emphasis* as the Markdown has them."""
    parts = e(text).split("`")
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return out.replace("**", "")


def html(pairs: list[tuple[str, Exercise]]) -> str:
    rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                   for row in counts(pairs))
    head = "".join(f"<th>{h}</th>" for h in ("section", "title", "exercises", *catalog.KINDS,
                                              "in both editions"))
    body = [f"<h1>Exercises</h1><p>{_inline(INTRO.replace('*Dive', 'Dive'))}</p>",
            f"<h2>Counts</h2><div class='scroll'><table><tr>{head}</tr>{rows}</table></div>",
            f"<h2>How the catalog was checked against the book</h2><p>{_inline(SOURCES)}</p>"]
    current = None
    for key, x in pairs:
        if section_of(key) != current:
            current = section_of(key)
            s = catalog.sections()[current]
            body.append(f"<h2 id='{e(current)}'>{e(current)} {e(s.title)}</h2>"
                        f"<p><a href='{e(s.url)}'>{e(s.url)}</a></p>")
        extra = "".join(f"<p>{_inline(t)}</p>" for t in (_how(x), *_checker(x)) if t)
        body.append(f"<article id='{e(key)}'><p><span class='ids'>{e(' = '.join(x.ids))}</span>"
                    f"<span class='kind'>{e(x.kind)}</span></p><p>{e(x.summary)}</p>{extra}"
                    f"<details><summary>{_folded(x)}</summary><p>{e(x.answer)}</p></details>"
                    "</article>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>shallowlab: the book's exercises</title><style>{CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def write(pairs: list[tuple[str, Exercise]], html_dir: str | None = None,
          markdown_file: str | None = None) -> list[Path]:
    """Write ``html_dir/exercises.html`` and/or ``markdown_file``; the paths written."""
    written = []
    if html_dir:
        path = Path(html_dir) / "exercises.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, html(pairs))
        written.append(path)
    if markdown_file:
        path = Path(markdown_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, markdown(pairs))
        written.append(path)
    return written
