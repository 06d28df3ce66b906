"""Every math exercise's worked answer is checked numerically, and the check agrees."""

from __future__ import annotations

import pytest

from shallowlab.exercises import catalog, checks

MATH = sorted({e.check for e in catalog.exercises() if e.kind == "math"})


def test_every_math_exercise_names_a_check_that_exists():
    assert all(e.check for e in catalog.exercises() if e.kind == "math")
    assert set(MATH) == checks.names()


@pytest.mark.parametrize("name", MATH)
def test_the_worked_answer_agrees_with_its_numerical_check(name):
    checked = checks.run(name)
    assert checked.ok, f"{checked.claim}: {checked.detail}"
    assert checked.claim and checked.detail
