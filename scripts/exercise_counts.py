"""Count the book's exercises in its sources and compare with shallowlab's catalog.

Usage: python scripts/exercise_counts.py EN_GIT_DIR ZH_GIT_DIR

EN_GIT_DIR and ZH_GIT_DIR are git directories of d2l-ai/d2l-en and d2l-ai/d2l-zh (a bare
clone will do: the files are read with ``git show HEAD:PATH``). For every section the catalog
lists (``src/shallowlab/exercises/book/sections.json``), it finds the section's exercise list
(the ``## Exercises`` or ``## 练习`` heading, up to the discussion link) and writes its shape:
each top-level item's number, followed by one letter per nested item (``1ab 2 3abc``). A
section is ``ok`` when that shape is the one the catalog records and the catalog's entries
carry exactly the IDs the shape implies. Exit status 0 when every section is ok, else 1.
Only the standard library is used; nothing of the book is printed but numbers and titles.
"""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1] / "src" / "shallowlab" / "exercises" / "book"
HEADING = re.compile(r"^## (Exercises|练习)\s*$")
END = re.compile(r"^(\[Discussions|\[讨论|:begin_tab|## )")
ITEM = re.compile(r"^( *)\d+\.\s")


def exercises_block(git_dir: str, path: str) -> list[str]:
    """The lines of the section's exercise list."""
    text = subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:{path}"],
                          capture_output=True, text=True, check=True).stdout
    lines, inside = [], False
    for line in text.splitlines():
        if HEADING.match(line):
            inside = True
        elif inside and END.match(line):
            break
        elif inside:
            lines.append(line)
    return lines


def shape(lines: list[str]) -> str:
    """``1ab 2 3abc``: the top-level items, each with a letter per nested item."""
    items: list[str] = []
    for line in lines:
        match = ITEM.match(line)
        if not match:
            continue  # a continuation line, an equation, a blank
        if len(match.group(1)) < 2:
            items.append(str(len(items) + 1))
        else:
            items[-1] += string.ascii_lowercase[len(items[-1]) - len(str(len(items)))]
    return " ".join(items)


def ids(section: str, shape_text: str) -> set[str]:
    """The entry IDs a section's shape implies: ``en-3.1`` and ``1ab 2`` give en-3.1.1a,
    en-3.1.1b and en-3.1.2."""
    found = set()
    for item in shape_text.split():
        number = item.rstrip(string.ascii_lowercase)
        letters = item[len(number):]
        found |= {f"{section}.{number}{x}" for x in letters} if letters \
            else {f"{section}.{number}"}
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    git_dirs = {"en": argv[0], "zh": argv[1]}
    sections = json.loads((BOOK / "sections.json").read_text())
    catalogued = {i for f in sorted(BOOK.glob("[0-9]*.json"))
                  for entry in json.loads(f.read_text()) for i in entry["ids"]}
    bad = 0
    print(f"{'section':8} {'items':>5}  {'source shape':30} verdict")
    for name, section in sections.items():
        found = shape(exercises_block(git_dirs[name[:2]], section["source"]))
        have = {i for i in catalogued if i.rsplit(".", 1)[0] == name}
        verdict = "ok"
        if found != section["shape"]:
            verdict = f"catalog records {section['shape']!r}"
        elif have != ids(name, found):
            verdict = f"catalog IDs differ: {sorted(have ^ ids(name, found))}"
        bad += verdict != "ok"
        print(f"{name:8} {len(ids(name, found)):>5}  {found:30} {verdict}")
    print(f"{len(sections) - bad} of {len(sections)} sections agree with the sources")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
