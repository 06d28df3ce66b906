"""``shallowlab.graph``: the autograd graph with values and gradients, its bad uses, collapsing
by module, rendering through Graphviz, and Graphviz missing (real subprocesses)."""

import importlib.util
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from torch import nn

from shallowlab.errors import ConfigError
from shallowlab.graph import GraphError, draw_graph, record, save, trace

GRAPHVIZ = shutil.which("dot") is not None and importlib.util.find_spec("graphviz") is not None
needs_graphviz = pytest.mark.skipif(not GRAPHVIZ, reason="no Graphviz: `sudo apt-get install "
                                    "graphviz` and pip install -e '.[graph]'")


def by_title(graph) -> dict:
    return {n.title: n for n in graph.nodes.values()}


def edges(graph) -> set[tuple[str, str]]:
    return {(graph.nodes[a].title, graph.nodes[b].title) for a, b in graph.edges}


def wx(w=1.0, x=2.0, y=4.0):
    w, x, y = torch.tensor(w, requires_grad=True), torch.tensor(x), torch.tensor(y)
    with record():
        y_pred = x * w
        loss = (y_pred - y) ** 2
    loss.backward()
    return trace(loss, {"w": w, "x": x, "y": y, "y_pred": y_pred, "loss": loss})


def test_every_node_has_its_value_and_the_chain_rules_gradient():
    """l = (x w - y)^2 at w = 1, x = 2, y = 4: r = -2, dl/dr = 2r = -4, dl/dy_pred = -4,
    dl/dw = -4 x = -8; x and y need no gradient and have none."""
    g = by_title(wx())
    expected = {"loss: Pow": (4, 1), "Sub": (-2, -4), "y_pred: Mul": (2, -4), "w": (1, -8)}
    for title, (value, grad) in expected.items():
        assert (g[title].value.item(), g[title].grad.item()) == (value, grad), title
    assert g["loss: Pow"].result and g["loss: Pow"].extra == "with 2"
    assert (g["x"].kind, g["x"].value.item(), g["x"].grad) == ("constant", 2.0, None)
    assert g["y"].kind == "constant" and g["w"].kind == "leaf"
    assert edges(wx()) == {("x", "y_pred: Mul"), ("w", "y_pred: Mul"), ("y_pred: Mul", "Sub"),
                           ("y", "Sub"), ("Sub", "loss: Pow")}


def test_a_module_is_named_by_its_parameters_and_its_call_is_one_box():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    x = torch.randn(3)
    with record():
        out = net(x).sum()
    out.backward()
    g = trace(out, [net, {"x": x}])
    # F.linear on a vector is a view, a product, a transpose and a view: one box here
    assert set(by_title(g)) == {"0.weight", "0.bias", "x", "linear (0)", "Sigmoid (1)", "Sum"}
    linear = by_title(g)["linear (0)"]
    torch.testing.assert_close(linear.value, net[0](x).detach())
    h = torch.sigmoid(net[0](x)).detach()
    torch.testing.assert_close(linear.grad, h * (1 - h))
    torch.testing.assert_close(by_title(g)["0.weight"].grad, net[0].weight.grad)


def test_without_record_values_come_from_what_autograd_saved_until_backward_frees_it():
    w, x = torch.tensor([0.5, -1.0], requires_grad=True), torch.tensor([2.0, 3.0])
    h = torch.sigmoid((w * x) ** 2)
    h.retain_grad()
    loss = h.sum()
    graph = trace(loss, {"w": w, "h": h})
    before = by_title(graph)
    torch.testing.assert_close(before["h: Sigmoid"].value, h.detach())
    torch.testing.assert_close(before["Mul"].value, (w * x).detach())  # pow saved its input
    assert before["Pow"].value is None  # sigmoid saves its result, not its input
    assert graph.notes == ["values of unnamed intermediate results: compute the result inside "
                           "`with shallowlab.graph.record():`"]
    loss.backward(retain_graph=True)
    after = by_title(trace(loss, {"w": w, "h": h}))
    torch.testing.assert_close(after["h: Sigmoid"].grad, torch.ones(2))  # kept: retain_grad
    loss.backward()  # frees them
    with pytest.raises(GraphError) as e:
        trace(loss)
    assert "freed by backward()" in str(e.value) and "record()" in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("make,words", [
    (lambda w: (w * 2).detach(), "has no autograd graph"),
    (lambda w: torch.no_grad()(lambda: w * 2)(), "torch.no_grad()"),
    (lambda w: w, "is a leaf"),
    (lambda w: 3.0, "takes a tensor, not float"),
])
def test_a_tensor_without_a_graph_gets_one_line(make, words):
    with pytest.raises(GraphError) as e:
        trace(make(torch.ones(2, requires_grad=True)))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_leaf_changed_after_the_forward_pass_shows_both_values():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with record():
        loss = (w**2).sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.5 * w.grad
    node = by_title(trace(loss, {"w": w}))["w"]
    assert node.value.tolist() == [1.0, 2.0] and node.now.tolist() == [0.0, 0.0]
    assert node.grad.tolist() == [2.0, 4.0]


def deep(layers: int, nested: bool = False) -> nn.Sequential:
    blocks = [nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(layers)]
    return nn.Sequential(*blocks) if nested else nn.Sequential(*[m for b in blocks for m in b])


@pytest.mark.parametrize("recorded", [True, False])
def test_a_large_graph_is_collapsed_by_module_and_says_so(recorded):
    from shallowlab.graph.collapse import collapse

    torch.manual_seed(0)
    net, x = deep(20), torch.randn(5, 4)
    with record() if recorded else torch.enable_grad():
        loss = net(x).pow(2).mean()
    loss.backward(retain_graph=not recorded)  # unrecorded, the values are what it saved
    full = trace(loss, [net, {"x": x}])
    small = collapse(full, 60)
    assert len(full.nodes) > 60 >= len(small.nodes)
    boxes = by_title(small)
    assert "Linear '0'" in boxes and "Linear '38'" in boxes
    assert boxes["Linear '38'"].extra.endswith("weight 4\u00d74, bias 4")
    if recorded:  # a box shows the value and gradient of the module's output
        torch.testing.assert_close(boxes["Linear '38'"].value, net[:39](x).detach())
        assert boxes["Linear '38'"].grad.shape == (5, 4)
    assert small.notes[0].startswith(f"collapsed by module, {len(full.nodes)} nodes drawn as "
                                     f"{len(small.nodes)}: 0 (Linear: ")
    assert "parameters 0.weight, 0.bias" in small.notes[0]


def test_collapsing_keeps_as_much_depth_as_fits():
    from shallowlab.graph.collapse import collapse

    net, x = deep(20, nested=True), torch.randn(2, 4)
    with record():
        loss = net(x).sum()
    full = trace(loss, net)  # 20 x (linear, relu, weight, bias) + x + Sum: 82 nodes
    blocks = by_title(collapse(full, 60))  # a box per Linear and per ReLU: 42
    assert "Linear '3.0'" in blocks and "ReLU '3.1'" in blocks and len(blocks) == 42
    whole = by_title(collapse(full, 30))  # only one box per block fits: 22
    assert "Sequential '3'" in whole and not any(t.startswith("Linear") for t in whole)


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
    src = Path(__file__).parents[1] / "src"
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
