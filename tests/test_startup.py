"""What a command loads before it answers: no torch for the listing and the help, no
``torch._dynamo`` for a run that compiles nothing, and the same optimizer either way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shallowlab.experiments import CATALOG, EXPERIMENTS

PROBE_OPTIMIZER = """
import sys, torch
if sys.argv[1] == "lazy":
    from shallowlab.core import lazy_dynamo
    lazy_dynamo.defer()
torch.manual_seed(0)
w = torch.randn(20, 10, requires_grad=True)
b = torch.zeros(10, requires_grad=True)
opt = torch.optim.SGD([{"params": [w], "weight_decay": 1e-3}, {"params": [b]}], lr=0.1,
                      momentum=0.9, nesterov=True)
for _ in range(5):
    opt.zero_grad()
    ((w.sum(0) + b) ** 2).mean().backward()
    opt.step()
state = opt.state_dict()
opt.load_state_dict(state)
print("dynamo" if "torch._dynamo" in sys.modules else "no dynamo", torch.is_grad_enabled())
print(repr(w.detach().double().sum().item()), repr(b.detach().double().sum().item()))
print(repr(state["state"][0]["momentum_buffer"].double().sum().item()))
"""


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


def test_the_optimizer_without_dynamo_computes_what_torchs_own_does():
    out = {}
    for mode in ("lazy", "torch"):
        result = subprocess.run([sys.executable, "-c", PROBE_OPTIMIZER, mode],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        out[mode] = result.stdout.splitlines()
    assert out["lazy"][0] == "no dynamo True" and out["torch"][0] == "dynamo True"
    assert out["lazy"][1:] == out["torch"][1:]  # bit for bit: parameters and momentum


def test_once_dynamo_is_imported_torchs_own_wrappers_run(monkeypatch):
    import torch
    import torch._dynamo  # what torch.compile does first

    from shallowlab.core import lazy_dynamo

    lazy_dynamo.defer()
    breaks = []
    monkeypatch.setattr(torch._dynamo, "graph_break", lambda: breaks.append(1))
    w = torch.ones(3, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.5)
    (w ** 2).sum().backward()
    opt.step()
    assert len(breaks) == 2  # torch's step wrapper: a graph break on each side of the step
    assert torch.equal(w.detach(), torch.zeros(3))  # w - 0.5 * 2w
