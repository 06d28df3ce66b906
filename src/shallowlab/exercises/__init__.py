"""The book's exercises: every one of the sections shallowlab covers, answered, run or checked.

- ``catalog``: the exercises as data (``book/*.json``), found by ID; ``text`` and ``page``
  put them in words for a terminal and as a page (no torch in any of the three);
- ``checks``: the numerical check of each math exercise's worked answer;
- ``checkers``: for each code exercise, the properties a solution must have;
- ``sandbox``: a learner's code checked in a process of its own, with a time limit and a
  memory cap;
- ``runs``: what each run exercise runs (an experiment, a sweep, or a small run of its own);
  ``answers`` carries it out into a run folder and ``verdicts`` says what it found.

In a notebook, ``shallowlab.exercises.check("en-4.4.1c", softmax)`` checks your function
(in a forked process) and says which property fails, on which input.
"""

from __future__ import annotations

from collections.abc import Callable


def check(exercise_id: str, fn: Callable, *, seconds: float = 60.0, memory_mb: int = 2048,
          quiet: bool = False):
    """Check ``fn`` against the checker of exercise ``exercise_id`` (``en-4.4.1c``), in a
    forked child with a time limit of ``seconds`` and ``memory_mb`` MB of memory beyond what
    the notebook holds. Prints the verdict (one or two lines) unless ``quiet``; returns a
    :class:`~shallowlab.exercises.sandbox.Result` (``ok``, ``lines``).

    Raises ``LookupError`` for an unknown ID, ``ValueError`` for an exercise without a
    checker.
    """
    from shallowlab.exercises import catalog, sandbox

    exercise = catalog.find(exercise_id)
    if exercise.checker is None:
        raise ValueError(f"{exercise_id} is a {exercise.kind} exercise with no checker; "
                         f"`shallowlab exercise {exercise.id}` answers it")
    result = sandbox.check_function(exercise.checker, fn, seconds, memory_mb)
    if not quiet:
        print(f"{exercise.id}: {'passed' if result.ok else 'failed'}: "
              + "\n".join(result.lines))
    return result
