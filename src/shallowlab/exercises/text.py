"""The exercises in words for a terminal: the listing, one line an exercise, and one exercise
described (no torch).

A listing line holds every ID the exercise has, its kind, its status (what shallowlab does for
it) and the command that answers it, then its summary (cut to the terminal's width on a
terminal, whole in a pipe).
"""

from __future__ import annotations

import textwrap
from collections import Counter

from shallowlab.exercises.catalog import Exercise, section_of, sections
from shallowlab.exercises.checkers import CHECKERS

WIDTH = 92


def wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def line(exercise: Exercise, width: int | None = None) -> str:
    """``en-4.4.1c zh-3.6.3  code   checker  shallowlab check en-4.4.1c FILE.py  Fix ...``."""
    head = (f"{' '.join(exercise.ids):19} {exercise.kind:6} {exercise.status():18} "
            f"{exercise.command():38} ")
    text = head + exercise.summary
    if width is not None and len(text) > width:
        text = text[: max(width - 1, len(head))] + "\u2026"
    return text


def section_line(key: str, count: int) -> str:
    section = sections()[key]
    return f"== {key} {section.title} ({count} exercises)  {section.url}"


def listing(pairs: list[tuple[str, Exercise]], width: int | None = None) -> list[str]:
    """The exercises under a header line per section, then the counts of each kind."""
    lines, current = [], None
    per_section = Counter(section_of(i) for i, _ in pairs)
    for key_id, exercise in pairs:
        if section_of(key_id) != current:
            current = section_of(key_id)
            lines.append(section_line(current, per_section[current]))
        lines.append(line(exercise, width))
    kinds = Counter(e.kind for _, e in pairs)
    lines.append(f"{len(pairs)} exercises: " + ", ".join(f"{kinds[k]} {k}" for k in
                                                        ("run", "code", "math", "think")))
    return lines


def header(exercise: Exercise) -> list[str]:
    """The IDs and kind, each edition's section and page, and the summary."""
    lines = [f"{' = '.join(exercise.ids)}  ({exercise.kind})"]
    for section in exercise.sections():
        lines.append(f"  {section.id} {section.title}  {section.url}")
    return lines + wrap(exercise.summary, "")


def body(exercise: Exercise) -> list[str]:
    """What ``shallowlab exercise ID`` says besides running or checking anything."""
    if exercise.kind == "think":
        return ["", "Discussion (shallowlab's answer: one reasoned view, not the book's):",
                *wrap(exercise.answer)]
    if exercise.kind == "math":
        lines = ["", "Worked answer:", *wrap(exercise.answer)]
        return lines + (how_to_check(exercise) if exercise.checker else [])
    if exercise.kind == "code":
        return ["", "What to write:", *wrap(exercise.answer), *how_to_check(exercise)]
    return ["", "Why:", *wrap(exercise.answer)]


def how_to_check(exercise: Exercise) -> list[str]:
    checker = CHECKERS[exercise.checker]
    return ["", "Your function:", *wrap(checker.signature),
            "The checker tests, in this order:",
            *[f"  {n}. {p}" for n, p in enumerate(checker.properties, 1)],
            f"Check yours: shallowlab check {exercise.id} FILE.py   (add --solution to see "
            "shallowlab's own after the check)"]
