"""The README and every page in docs/ name only what exists: modules and their names, files,
commands and their flags, make targets; and no placeholder word is left in them."""

from __future__ import annotations

import importlib
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from shallowlab.cli import build_parser
from shallowlab.experiments import CATALOG

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDERS = re.compile(r"\b(BENCH_LINE|TODO|TBD|FIXME|XXX+|PLACEHOLDER|lorem ipsum)\b")
DOTTED = re.compile(r"\bshallowlab(?:\.\w+)+")
CODE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"^[\w./-]*\w\.(?:py|md|sh|toml)$")  # a source file (a run writes the rest)
WRITTEN = {"report.md", "sweep.md"}  # what a run writes among those
FENCED = re.compile(r"```.*?```", re.S)


def _files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    return listed.stdout.split() if listed.returncode == 0 else \
        [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]


FILES = _files()


def _resolves(dotted: str) -> bool:
    """``shallowlab.core.loop.fit``: the longest prefix that imports, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def _subparsers(parser) -> dict:
    (action,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return action.choices


PARSERS = _subparsers(build_parser(list(CATALOG)))
TARGETS = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


def _command(words: list[str]) -> list[str]:
    """What is wrong with one ``shallowlab ...`` command line (after the program's name)."""
    if not words or words[0].startswith("-"):
        return []
    sub, *rest = words
    if sub not in PARSERS:
        return [f"`shallowlab {sub}`: no such command"]
    options = {o for a in PARSERS[sub]._actions for o in a.option_strings}
    wrong = [f"`shallowlab {sub} {w}`: no such flag" for w in rest
             if w.startswith("--") and w.split("=")[0] not in options]
    if sub == "run" and rest and not rest[0].startswith("-") \
            and rest[0] not in {*CATALOG, "all", "NAME"}:
        wrong.append(f"`shallowlab run {rest[0]}`: no such experiment")
    return wrong


def _commands(text: str) -> list[str]:
    """Every shell line of the page that runs shallowlab, make or ``python -m``."""
    wrong = []
    blocks = [body for kind, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S)
              if kind in ("", "sh", "bash", "console")]
    lines = [line for block in blocks for line in block.splitlines()]
    lines += CODE.findall(FENCED.sub("", text))
    for line in lines:
        line = line.split("#")[0].strip().removeprefix("$ ")
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        for i, word in enumerate(words):
            if word.endswith("shallowlab") and (i == 0 or words[i - 1] in ("&&", "|", ";")):
                wrong += _command([w for w in words[i + 1:] if w not in ("&&", "|")][:12])
            elif word == "make" and i + 1 < len(words) and i == 0:
                target = words[i + 1]
                if re.fullmatch(r"[\w-]+", target) and target not in TARGETS:
                    wrong.append(f"`make {target}`: no such target in the Makefile")
            elif word == "-m" and i > 0 and words[i - 1].endswith(("python", "python3")):
                module = words[i + 1] if i + 1 < len(words) else ""
                if module.startswith(("shallowlab", "benchmarks")) and not _module(module):
                    wrong.append(f"`python -m {module}`: no such module")
    return wrong


def _module(name: str) -> bool:
    path = name.replace(".", "/")
    return f"{path}.py" in FILES or f"{path}/__init__.py" in FILES or \
        f"src/{path}.py" in FILES or f"src/{path}/__init__.py" in FILES or \
        f"src/{path}/__main__.py" in FILES


def _paths(text: str) -> list[str]:
    """Backticked file names that no file of the repository ends with."""
    wrong = []
    for code in CODE.findall(FENCED.sub("", text)):
        name = code.strip().rstrip(",.:")
        if not PATH.match(name) or name in WRITTEN or name.startswith(("runs/", "/", "~")):
            continue
        if not any(f == name or f.endswith("/" + name) for f in FILES):
            wrong.append(f"`{name}`: no such file in the repository")
    return wrong


def _api_table(text: str) -> list[str]:
    """In a table whose first column names a module: every backticked name in the row."""
    wrong = []
    for row in re.findall(r"^\| `(shallowlab(?:\.\w+)+)` \| (.*) \|$", text, re.M):
        module, names = row
        for name in CODE.findall(names):
            if name.isidentifier() and not _resolves(f"{module}.{name}"):
                wrong.append(f"`{module}.{name}`: no such name")
    return wrong


def problems(text: str) -> list[str]:
    """Everything a page names that does not exist, and its placeholder words."""
    wrong = [f"placeholder word {m.group(0)!r}" for m in PLACEHOLDERS.finditer(text)]
    wrong += [f"`{d}`: no such module or name" for d in sorted(set(DOTTED.findall(text)))
              if not _resolves(d)]
    return wrong + _paths(text) + _commands(text) + _api_table(text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_names_only_what_exists(page):
    assert problems(page.read_text()) == []


def test_the_check_catches_what_does_not_exist():
    """A page naming a moved module, a missing file, an unknown flag, command or make target,
    or holding a placeholder, fails with each named."""
    page = ("See `shallowlab.train.fit` and `shallowlab/runs_table.py`.\n\n"
            "```sh\nshallowlab run mlp --turbo\nshallowlab frobnicate\nmake deploy\n"
            "python -m benchmarks.nowhere\n```\n\n"
            "| `shallowlab.core.loop` | `fit`, `fit_fast` |\n\nNumbers: BENCH_LINE\n")
    found = problems(page)
    assert found == ["placeholder word 'BENCH_LINE'",
                     "`shallowlab.train.fit`: no such module or name",
                     "`shallowlab/runs_table.py`: no such file in the repository",
                     "`shallowlab run --turbo`: no such flag",
                     "`shallowlab frobnicate`: no such command",
                     "`make deploy`: no such target in the Makefile",
                     "`python -m benchmarks.nowhere`: no such module",
                     "`shallowlab.core.loop.fit_fast`: no such name"]


def test_the_layers_of_the_design_cover_every_package():
    """docs/design.md's dependency list names every package and top-level module there is."""
    from tests.test_imports import LAYERS

    named = {n.removeprefix("shallowlab.") for layer in LAYERS for n in layer}
    src = ROOT / "src" / "shallowlab"
    there = {p.stem for p in src.glob("*.py") if not p.name.startswith("__")}
    there |= {p.name for p in src.iterdir() if (p / "__init__.py").exists()}
    assert there <= named, sorted(there - named)
