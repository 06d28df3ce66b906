"""The book's exercises as data: every exercise of the sections shallowlab covers, in both
editions, read from ``book/*.json`` (package data; no torch).

``book/sections.json`` lists the sections: ``en-4.4`` (English edition, d2l.ai, d2l 1.0) or
``zh-3.6`` (Chinese edition, zh.d2l.ai, d2l 0.17), each with its title, its source file in the
book's repository, its page and its *shape*: the exercise list as the source has it, a number
per top-level item and a letter per nested one (``1abc 2 3``: en-3.1.1a, en-3.1.1b, en-3.1.1c,
en-3.1.2, en-3.1.3). ``scripts/exercise_counts.py`` reads the shapes off the book's sources.

The other files hold the entries, one per exercise: the IDs it has (both editions' where the
same exercise is in both), its kind (``run``, ``code``, ``math``, ``think``), a one-line summary
and an answer in shallowlab's words, and how it is answered: ``run`` (the name of a run in
:mod:`shallowlab.exercises.runs`), ``checker`` (a checker of a learner's code) and ``check``
(a numerical check of a worked answer). :func:`problems` says what is inconsistent in them.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

KINDS = ("run", "code", "math", "think")
EDITIONS = {"en": "English edition, d2l.ai (d2l 1.0)",
            "zh": "Chinese edition, zh.d2l.ai (d2l 0.17)"}
ID = re.compile(r"^(en|zh)-(\d+)\.(\d+)\.(\d+)([a-z]?)$")
SECTION = re.compile(r"^(en|zh)-(\d+)\.(\d+)$")


class UnknownExercise(LookupError):
    """An ID that names no exercise; ``near`` holds the IDs closest to it."""

    def __init__(self, wanted: str, near: list[str]) -> None:
        self.wanted, self.near = wanted, near
        hint = f"; near it: {', '.join(near)}" if near else ""
        super().__init__(f"no exercise {wanted!r}{hint} (see `shallowlab exercises`)")


@dataclass(frozen=True)
class Section:
    id: str  # en-4.4
    title: str
    source: str  # the section's file in the book's repository
    url: str
    shape: str  # "1abc 2 3"

    @property
    def edition(self) -> str:
        return self.id[:2]

    def ids(self) -> list[str]:
        """The exercise IDs the shape implies, in the book's order."""
        found = []
        for item in self.shape.split():
            number = item.rstrip("abcdefghijklmnopqrstuvwxyz")
            letters = item[len(number):]
            found += [f"{self.id}.{number}{x}" for x in letters] or [f"{self.id}.{number}"]
        return found


@dataclass(frozen=True)
class Exercise:
    ids: tuple[str, ...]
    kind: str
    summary: str
    answer: str
    run: str | None = None
    checker: str | None = None
    check: str | None = None

    @property
    def id(self) -> str:
        """The first ID: the English edition's where the exercise is in it."""
        return self.ids[0]

    def sections(self) -> list[Section]:
        return [sections()[section_of(i)] for i in self.ids]

    def status(self) -> str:
        """What shallowlab does for it, in a few words."""
        if self.kind == "run":
            from shallowlab.exercises.runs import RUNS

            return RUNS[self.run].what()
        if self.kind == "code":
            return "checker"
        if self.kind == "math":
            return "worked, checked" + (" + checker" if self.checker else "")
        return "discussion"

    def command(self) -> str:
        """The command that answers it (checks one's own solution, for code)."""
        if self.checker and self.kind == "code":
            return f"shallowlab check {self.id} FILE.py"
        return f"shallowlab exercise {self.id}"


def section_of(exercise_id: str) -> str:
    """``en-4.4.1c`` -> ``en-4.4``."""
    return exercise_id.rsplit(".", 1)[0]


def sort_key(exercise_id: str) -> tuple:
    """Book order: edition, chapter, section, item, sub-item."""
    edition, chapter, section, item, letter = ID.match(exercise_id).groups()
    return edition, int(chapter), int(section), int(item), letter


def _book_files() -> list:
    folder = resources.files("shallowlab.exercises") / "book"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".json")),
                  key=lambda f: f.name)


@functools.cache
def sections() -> dict[str, Section]:
    """Section ID -> :class:`Section`, from ``book/sections.json``."""
    raw = json.loads((resources.files("shallowlab.exercises") / "book" /
                      "sections.json").read_text(encoding="utf-8"))
    return {key: Section(key, **value) for key, value in raw.items()}


@functools.cache
def exercises() -> tuple[Exercise, ...]:
    """Every exercise, in the order of the files (the English edition's chapters)."""
    found = []
    for path in _book_files():
        if path.name == "sections.json":
            continue
        for raw in json.loads(path.read_text(encoding="utf-8")):
            found.append(Exercise(**{**raw, "ids": tuple(raw["ids"])}))
    return tuple(found)


@functools.cache
def by_id() -> dict[str, Exercise]:
    return {i: e for e in exercises() for i in e.ids}


def near(wanted: str, n: int = 5) -> list[str]:
    """The IDs closest to ``wanted`` (difflib's ratio), closest first."""
    wanted = wanted.strip().lower()
    known = sorted(by_id(), key=sort_key)
    close = difflib.get_close_matches(wanted, known, n=n, cutoff=0.6)
    if not close and not wanted.startswith(("en-", "zh-")):  # "4.4.1c": try both editions
        close = [i for i in known if i.endswith("-" + wanted)]
        close += difflib.get_close_matches("en-" + wanted, known, n=n, cutoff=0.75)
        close += difflib.get_close_matches("zh-" + wanted, known, n=n, cutoff=0.75)
    return list(dict.fromkeys(close))[:n]


def find(wanted: str) -> Exercise:
    """The exercise with ID ``wanted`` (any case); :class:`UnknownExercise` if none."""
    found = by_id().get(wanted.strip().lower())
    if found is None:
        raise UnknownExercise(wanted, near(wanted))
    return found


def select(where: str | None = None, kind: str | None = None) -> list[tuple[str, Exercise]]:
    """``(id, exercise)`` pairs in book order: every exercise of the edition (``en``), the
    section (``en-4.4``) or, with None, the English edition's then the Chinese-only ones. The
    id is the one the listing is ordered by."""
    if where is None:
        pairs = [(e.id, e) for e in exercises()]
        pairs.sort(key=lambda p: sort_key(p[0]))
    else:
        pairs = sorted(((i, e) for i, e in by_id().items()
                        if i.startswith(where + ("-" if len(where) == 2 else "."))),
                       key=lambda p: sort_key(p[0]))
    return [(i, e) for i, e in pairs if kind is None or e.kind == kind]


def problems(entries: tuple[Exercise, ...] | None = None,
             known: dict[str, Section] | None = None) -> list[str]:
    """What is inconsistent in the catalog (or in ``entries`` and ``known`` sections):
    malformed or repeated IDs, an ID in no section, a section whose IDs are not exactly those
    its shape implies, two IDs of one edition in one entry, an unknown kind, a kind without
    what answers it."""
    entries = exercises() if entries is None else entries
    known = sections() if known is None else known
    wrong, seen = [], {}
    for e in entries:
        for i in e.ids:
            if not ID.match(i):
                wrong.append(f"{i}: not an ID like en-4.4.1c")
                continue
            if i in seen:
                wrong.append(f"{i}: in two entries")
            seen[i] = e
            if section_of(i) not in known:
                wrong.append(f"{i}: its section {section_of(i)} is not in sections.json")
        if len({i[:2] for i in e.ids}) != len(e.ids):
            wrong.append(f"{e.ids}: two IDs of one edition in one entry")
        wrong += _answered(e)
    for key, section in known.items():
        if not SECTION.match(key) or not re.fullmatch(r"(\d+[a-z]*)( \d+[a-z]*)*", section.shape):
            wrong.append(f"{key}: a malformed section ID or shape {section.shape!r}")
            continue
        have = sorted((i for i in seen if section_of(i) == key), key=sort_key)
        if have != section.ids():
            wrong.append(f"{key}: the catalog has {len(have)} exercises, its shape "
                         f"{section.shape!r} says {len(section.ids())}: "
                         f"{sorted(set(have) ^ set(section.ids()))}")
    return wrong


def _answered(e: Exercise) -> list[str]:
    if e.kind not in KINDS:
        return [f"{e.id}: kind {e.kind!r} is not one of {', '.join(KINDS)}"]
    from shallowlab.exercises.checkers import CHECKERS
    from shallowlab.exercises.runs import RUNS

    needs = {"run": "run", "code": "checker", "math": "check"}.get(e.kind)
    wrong = [f"{e.id}: a {e.kind} exercise without a {needs}"] \
        if needs and not getattr(e, needs) else []
    if e.run and e.run not in RUNS or e.checker and e.checker not in CHECKERS:
        wrong.append(f"{e.id}: its run {e.run!r} or checker {e.checker!r} does not exist")
    if not e.summary.strip() or not e.answer.strip() or "\n" in e.summary:
        wrong.append(f"{e.id}: a summary of one line and an answer are needed")
    return wrong
