"""The exercise catalog is whole and consistent: every section's exercises, as the book's
sources number them (the shapes scripts/exercise_counts.py read off them), each with a kind
and what answers it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from shallowlab.exercises import catalog

ROOT = Path(__file__).resolve().parents[2]


def test_the_catalog_is_consistent():
    assert catalog.problems() == []


def test_the_counts_per_edition():
    """157 exercises in the English edition's 21 sections, 90 in the Chinese edition's 17, 79
    of them the same exercise in both: 168 entries."""
    ids = catalog.by_id()
    assert sum(i.startswith("en-") for i in ids) == 157
    assert sum(i.startswith("zh-") for i in ids) == 90
    assert len(catalog.exercises()) == 168
    assert sum(s.edition == "en" for s in catalog.sections().values()) == 21
    assert {k for k in catalog.sections() if k.startswith("zh-")} == \
        {"zh-2.5", *(f"zh-3.{n}" for n in range(1, 8)), *(f"zh-4.{n}" for n in range(1, 10))}


def test_the_check_finds_what_is_wrong():
    entries = list(catalog.exercises())
    first = entries[0]
    entries[0] = replace(first, kind="essay")
    entries.append(replace(entries[1], ids=("en-2.5.9", "en-2.5.2")))
    entries.append(replace(entries[2], ids=("zh-9.9.1",)))
    wrong = catalog.problems(tuple(entries), catalog.sections())
    assert any(w.startswith(f"{first.id}: kind 'essay'") for w in wrong)
    assert any(w.startswith("en-2.5.2: in two entries") for w in wrong)
    assert any("two IDs of one edition" in w for w in wrong)
    assert any("zh-9.9.1: its section zh-9.9 is not in sections.json" in w for w in wrong)
    assert any(w.startswith("en-2.5: the catalog has 9 exercises, its shape") for w in wrong)


def test_an_unknown_id_names_the_near_ones():
    assert catalog.find("EN-4.4.1C").id == "en-4.4.1c"
    assert catalog.find("zh-3.6.3") is catalog.find("en-4.4.1c")
    try:
        catalog.find("en-4.6.9")
    except catalog.UnknownExercise as e:
        assert e.near and all(i.startswith("en-4.6.") for i in e.near[:4])
        assert "near it: en-4.6." in str(e)
    else:
        raise AssertionError("en-4.6.9 was found")
    assert "en-4.4.1c" in catalog.near("4.4.1c")


def test_the_package_data_holds_every_catalog_file():
    """A wheel carries what pyproject's package-data names: every file of book/."""
    pattern = re.search(r'"shallowlab.exercises" = \["([^"]+)"\]',
                        (ROOT / "pyproject.toml").read_text()).group(1)
    book = ROOT / "src" / "shallowlab" / "exercises"
    assert sorted(book.glob(pattern)) == sorted((book / "book").iterdir())
