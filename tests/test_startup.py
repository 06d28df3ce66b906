"""What a command loads before it answers: no torch for the listing and the help, and no
``torch._dynamo`` for a run that compiles nothing (lazy_dynamo: tests/core/test_lazy_dynamo.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shallowlab.experiments import CATALOG, EXPERIMENTS


def imported(*args: str) -> set[str]:
    """The modules ``python -m shallowlab ARGS`` imports, from ``-X importtime``."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "shallowlab", *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


@pytest.mark.parametrize("args", [("list",), ("--help",), ("run", "--help"),
                                  ("sweep", "--help"), ("--version",)])
def test_the_listing_and_the_help_answer_without_torch_or_numpy(args):
    modules = imported(*args)
    assert "shallowlab.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in ("torch", "numpy", "matplotlib")}


def test_the_listing_names_every_experiment_with_its_title():
    result = subprocess.run([sys.executable, "-m", "shallowlab", "list"], capture_output=True,
                            text=True, timeout=60)
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(CATALOG)
    assert "MLP on Fashion-MNIST (d2l 4.2-4.3)  (also --fast)" in result.stdout


def test_the_catalog_says_what_each_experiment_module_says():
    for name, entry in CATALOG.items():
        experiment = EXPERIMENTS[name]
        assert (experiment.name, experiment.title, tuple(experiment.presets)) == \
            (name, entry.title, entry.presets)


def test_runs_that_compile_nothing_never_import_dynamo(toy_data, tmp_path):
    for args in (("linreg",), ("mlp", "--epochs", "1", "--data-dir", str(toy_data))):
        modules = imported("run", *args, "--out", str(tmp_path / args[0]))
        assert "torch" in modules and "torch._dynamo" not in modules, args
