"""``shallowlab exercises``, ``exercise ID`` and ``check ID FILE.py`` through the real program,
each a process of its own: the listing, the answers, the checker's one-line verdicts and exit
statuses, and what each command imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shallowlab.exercises import catalog
from tests.test_cli import cli

SOLUTIONS = Path(__file__).parent / "solutions"
LINE = re.compile(r"^((?:(?:en|zh)-\d+\.\d+\.\d+[a-z]? )+) *(run|code|math|think) ")


def _entries(stdout: str) -> list[tuple[list[str], str]]:
    rows = [LINE.match(line) for line in stdout.splitlines()
            if not line.startswith("==") and " exercises: " not in line]
    assert all(rows), stdout[:2000]
    return [(row.group(1).split(), row.group(2)) for row in rows]


def test_the_listing_has_a_line_per_exercise_with_every_id_and_its_kind():
    result = cli("exercises")
    assert result.returncode == 0, result.stderr
    listed = _entries(result.stdout)
    assert sorted(tuple(ids) for ids, _ in listed) == sorted(e.ids for e in catalog.exercises())
    kinds = {ids[0]: kind for ids, kind in listed}
    assert all(kinds[e.id] == e.kind for e in catalog.exercises())
    assert result.stdout.splitlines()[-1] == "168 exercises: 46 run, 8 code, 65 math, 49 think"
    assert "shallowlab check en-4.4.1c FILE.py" in result.stdout


def test_a_section_of_the_chinese_edition_and_a_kind():
    listed = _entries(cli("exercises", "zh-3.6").stdout)
    assert [ids for ids, _ in listed][:1] == [["en-4.4.1a", "zh-3.6.1"]]
    assert len(listed) == 5 and all(any(i.startswith("zh-3.6.") for i in ids)
                                    for ids, _ in listed)
    code = _entries(cli("exercises", "en", "--kind", "code").stdout)
    assert {kind for _, kind in code} == {"code"} and len(code) == 8


def test_a_section_without_its_edition_is_bad_usage_naming_both():
    result = cli("exercises", "4.4")
    assert result.returncode == 2
    assert "did you mean en-4.4 or zh-4.4?" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_unknown_exercise_names_the_near_ones():
    result = cli("exercise", "en-4.6.9")
    assert result.returncode == 2 and result.stdout == ""
    assert "no exercise 'en-4.6.9'; near it: en-4.6.4, en-4.6.3" in result.stderr


def test_a_think_exercise_is_discussed_and_a_math_one_worked_and_checked():
    think = cli("exercise", "zh-4.6.4")
    assert think.returncode == 0
    assert think.stdout.startswith("en-5.6.4 = zh-4.6.4  (think)")
    assert "Discussion (shallowlab's answer" in think.stdout
    math = cli("exercise", "en-4.1.6d")
    assert math.returncode == 0, math.stderr
    assert "Worked answer:" in math.stdout
    assert re.search(r"Checked numerically \u2713 m \+ log sum", math.stdout)


def test_a_code_exercise_says_what_to_write_and_how_it_is_checked():
    result = cli("exercise", "en-5.6.6")
    assert result.returncode == 0
    assert "drop_weights(W, p, generator) -> Tensor" in result.stdout
    assert "  3. p = 1 gives zeros" in result.stdout
    assert "shallowlab check en-5.6.6 FILE.py" in result.stdout


def test_a_correct_solution_passes_and_the_reference_shows_only_when_asked():
    result = cli("check", "en-4.4.1c", SOLUTIONS / "softmax.py", "--solution")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("en-4.4.1c: passed: all 5 properties hold")
    assert "shallowlab's solution:\n\ndef softmax(X" in result.stdout
    assert "max(dim=1, keepdim=True)" in result.stdout


def test_a_wrong_solution_fails_in_one_or_two_lines_without_the_reference(tmp_path):
    wrong = tmp_path / "mine.py"
    wrong.write_text("import torch\n\ndef softmax(X):\n    e = torch.exp(X)\n"
                     "    return e / e.sum(dim=1, keepdim=True)\n")
    result = cli("check", "zh-3.6.3", wrong)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("en-4.4.1c: failed: finite for logits of +-1000: softmax(")
    assert lines[1].startswith("hint: exp(1000) overflows") and len(lines) == 2
    assert "def softmax" not in result.stdout


BROKEN = {
    "does not parse": ("def softmax(X)\n    return X\n",
                       "does not import: SyntaxError at line 1: expected ':'"),
    "raises on import": ("x = 1\nraise ValueError('no data')\n",
                         "does not import: ValueError (line 2): no data"),
    "lacks the function": ("def soft_max(X):\n    return X\n",
                           "defines no softmax; the checker calls softmax(X) -> Tensor"),
    "hangs": ("import time\ntime.sleep(600)\n",
              "the check did not finish within 2 s (the time limit)"),
    "allocates without end": ("hoard = [bytearray(2**24) for _ in range(10**5)]\n",
                              "does not import: MemoryError"),
    "exits": ("raise SystemExit(3)\n", "does not import: SystemExit (line 1): 3"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_one_line_and_exit_status_1(tmp_path, case):
    source, words = BROKEN[case]
    path = tmp_path / "mine.py"
    path.write_text(source)
    result = cli("check", "en-4.4.1c", path, "--timeout", 2, "--memory", 256)
    assert result.returncode == 1, result.stderr
    assert len(result.stdout.splitlines()) == 1 and words in result.stdout, result.stdout


def test_checking_a_math_exercise_or_a_missing_file_is_bad_usage(tmp_path):
    math = cli("check", "en-4.1.1a", SOLUTIONS / "softmax.py")
    assert math.returncode == 2 and "math exercise, without a checker" in math.stderr
    missing = cli("check", "en-4.4.1c", tmp_path / "nowhere.py")
    assert missing.returncode == 2 and "nowhere.py: no such file" in missing.stderr


def _imports(*args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "shallowlab", *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


@pytest.mark.parametrize("args", [("exercises",), ("exercises", "--help"), ("exercise", "--help"),
                                  ("check", "--help"), ("exercise", "en-2.5.1"),
                                  ("exercise", "en-3.3.3")])
def test_the_listing_help_and_words_answer_without_torch(args):
    modules = _imports(*args)
    assert "shallowlab.cli.exercises" in modules
    assert not {m for m in modules if m.split(".")[0] in ("torch", "numpy", "matplotlib")}
