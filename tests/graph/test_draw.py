"""``shallowlab.graph.draw``: graphs rendered through Graphviz (SVG with every value and
gradient as text, PNG, inline in Jupyter), and Graphviz missing, for real, in subprocesses."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

from shallowlab.errors import ConfigError
from shallowlab.graph import draw_graph, record, save
from tests.conftest import needs_graphviz


@needs_graphviz
def test_saved_as_svg_with_every_value_and_gradient_as_text(tmp_path):
    w = torch.tensor([0.15, -0.2], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([0.05, 0.1], dtype=torch.float64)
    with record():
        loss = torch.sigmoid(w @ x)
    loss.backward()
    graph = draw_graph(loss, {"w": w, "x": x}, digits=9, title="a neuron")
    save(graph, tmp_path / "g.svg")
    text = [t.text for t in ET.parse(tmp_path / "g.svg").iter("{http://www.w3.org/2000/svg}text")]
    s = torch.sigmoid(w @ x).item()
    assert "value [0.15, -0.2]" in text and "value [0.05, 0.1]" in text
    assert f"grad [{s * (1 - s) * 0.05:.9g}, {s * (1 - s) * 0.1:.9g}]" in text
    assert f"value {s:.9g}" in text and "a neuron" in text
    save(graph, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "image/svg+xml" in graph._repr_mimebundle_()  # how Jupyter shows it inline
    with pytest.raises(ConfigError, match=r"g\.gif: a graph is saved as \.svg, \.png or \.pdf"):
        save(graph, tmp_path / "g.gif")


def _without_graphviz_package(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python has every installed package but graphviz: the
    site-packages folder mirrored by links, less graphviz, run with ``-S``."""
    import graphviz

    site = Path(graphviz.__file__).parents[1]
    mirror = tmp_path / "site-packages"
    mirror.mkdir()
    for entry in site.iterdir():
        if not entry.name.startswith("graphviz"):
            (mirror / entry.name).symlink_to(entry)
    src = Path(__file__).parents[2] / "src"
    return {**os.environ, "PYTHONPATH": f"{mirror}{os.pathsep}{src}"}


def _missing(tmp_path: Path, kind: str) -> tuple[list[str], dict[str, str]]:
    if kind == "dot":  # a PATH without Graphviz's programs
        (tmp_path / "bin").mkdir()
        return [sys.executable], {**os.environ, "PATH": str(tmp_path / "bin")}
    pytest.importorskip("graphviz", reason="the graphviz package is not installed here")
    return [sys.executable, "-S"], _without_graphviz_package(tmp_path)


@pytest.mark.parametrize("kind,words", [
    ("dot", "install the graphviz package (Debian and Ubuntu: sudo apt-get install graphviz"),
    ("package", "needs the Python package graphviz, which is not installed: pip install "
                "'shallowlab[graph]'"),
])
def test_graphviz_missing_is_one_line_and_exit_2_and_nothing_else_changes(tmp_path, kind, words):
    python, env = _missing(tmp_path, kind)
    run = lambda *a: subprocess.run([*python, *a], env=env, capture_output=True,  # noqa: E731
                                    text=True, timeout=300)
    bad = run("-m", "shallowlab", "run", "backprop", "--out", tmp_path / "bp")
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.count("\n") == 1 and words in bad.stderr
    assert not (tmp_path / "bp").exists()  # refused before anything ran
    code = ("import torch; from shallowlab import graph, d2l; from shallowlab.cli import main\n"
            "x = torch.ones(2, requires_grad=True)\n"
            "print(bool(d2l.gradcheck(lambda x: (x ** 3).sum(), x)))\n"
            "try:\n    graph.draw_graph((x * 2).sum())\n"
            "except graph.GraphvizMissing as e:\n    print(e)\n"
            f"print(main(['run', 'autograd', '--epochs', '2', '--out', {str(tmp_path / 'a')!r}]))")
    library = run("-c", code)  # the library, and another experiment: as ever
    assert library.returncode == 0, library.stderr
    lines = library.stdout.splitlines()
    assert lines[0] == "True" and words in lines[1] and lines[-1] == "0"
    assert (tmp_path / "a" / "summary.json").is_file()
