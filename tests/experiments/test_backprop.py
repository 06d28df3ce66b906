"""The backprop experiment through its real entry point: the seed's own code run beside it,
Mazur's published figures, the book's formulas, and the graphs' text."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

from shallowlab.experiments import backprop
from shallowlab.models import mazur
from tests.conftest import needs_graphviz, run_experiment

SHARED = Path(__file__).resolve().parents[2].parent / "shared"  # beside the checkout
SEED = SHARED / "seeds" / "002_1c7d80e2fbda3291.txt"
SVG = "{http://www.w3.org/2000/svg}"
PRINTED = ("predict", "\tgrad:", "progress:")  # the lines the seed's code prints

pytestmark = needs_graphviz


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backprop")
    summary, lines = run_experiment(backprop.EXPERIMENT, folder)
    return summary, lines, folder


def test_mazurs_network_by_three_routes_agrees_and_matches_the_post(result):
    m = result[0]["mazur"]
    assert m["routes_max_difference"] <= 1e-12
    ours = {"out_h1": m["out_h1"], "out_o1": m["out_o1"], "error": m["error"],
            "w5_after_one": m["after_one"]["w5"], "w1_after_one": m["after_one"]["w1"]}
    for key, value in ours.items():  # to the post's printed digits
        figure = mazur.PUBLISHED[key]
        assert abs(value - float(figure)) <= mazur.printed_tolerance(figure), key
    assert m["grads"]["w5"] == pytest.approx(0.082167041, abs=5e-10)  # the post's dE/dw5
    assert m["grads"]["w1"] == pytest.approx(0.000438568, abs=5e-10)  # and dE/dw1
    # the post's later figures, and where they come from
    assert m["error_after_one"] == pytest.approx(0.291027774, abs=5e-10)
    assert m["error_after_one_new_W2"] == pytest.approx(0.291027924, abs=5e-10)
    assert m["error_after_10000"] == pytest.approx(3.5102e-05, abs=5e-10)
    assert m["error_after_9999"] == pytest.approx(3.51085e-05, abs=5e-11)
    assert all(h.agrees for h in backprop.EXPERIMENT.headlines(result[0]))


def test_each_route_gives_every_number_itself():
    """Not only the largest difference: each route's own numbers, entry by entry."""
    found = mazur.routes(50)
    hand = mazur.numbers(found["by hand"])
    assert len(hand) == 2 + 2 + 1 + 4 + 4 + 4 + 4 + 2
    for route in ("autograd", "nn"):
        torch.testing.assert_close(torch.tensor(mazur.numbers(found[route]), dtype=torch.float64),
                                   torch.tensor(hand, dtype=torch.float64), rtol=0, atol=1e-12)


def _seed_code() -> str:
    """The seed's ``y = w x`` block, as its notes give it: from its ``import torch`` to its
    last ``print``."""
    if not SEED.is_file():
        pytest.skip(f"the seed notes are not at {SEED} (shared/ beside the checkout)")
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = lines.index("x_data = [1.0, 2.0, 3.0]")
    start = max(i for i in range(start) if lines[i].strip() == "import torch")
    end = next(i for i in range(start, len(lines))
               if lines[i].startswith('print("predict (after training)"'))
    return "\n".join(lines[start:end + 1]) + "\n"


# after the seed's code, in its process: the graph of its own first step, from w = 1
SEED_GRAPH = """
from shallowlab.graph import record, trace
w.data = torch.Tensor([1.0])
w.grad = None
with record():
    l = loss(1.0, 2.0)
l.backward()
for n in trace(l, {"w": w}).nodes.values():
    print("graph:", n.title, n.value.item(), None if n.grad is None else n.grad.item())
"""


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory) -> tuple[list[str], list[str]]:
    """The seed's code run as written: what it prints, and its first step's graph."""
    script = tmp_path_factory.mktemp("seed") / "seed.py"
    script.write_text(_seed_code() + SEED_GRAPH, encoding="utf-8")
    run = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line.rstrip() for line in run.stdout.splitlines() if line.strip()]
    return ([line for line in lines if not line.startswith("graph:")],
            [line for line in lines if line.startswith("graph:")])


def test_y_wx_matches_the_seeds_own_code_run_beside_it(result, seed_run):
    theirs, _ = seed_run
    ours = (result[2] / "wx.txt").read_text().splitlines()
    assert len(theirs) == 1 + 100 * 4 + 1  # before, 3 steps and a progress line per epoch
    assert [line for line in ours if line.startswith(PRINTED)] == theirs
    # w after each update: the seed's own rule applied to the seed's own gradients
    w, weights = torch.tensor([1.0]), []
    for line in theirs:
        if line.startswith("\tgrad:"):
            w = w - 0.01 * torch.tensor([float(line.split()[-1])])
            weights.append(str(w.item()))
    updated = [line.rsplit("updated w = ", 1)[1] for line in ours if "updated w = " in line]
    assert updated == weights and len(updated) == 300
    assert theirs[-1] == f"predict (after training) 4 {4 * float(weights[-1])}"


def _node_texts(svg: Path) -> dict[str, str]:
    """Each node's text in a Graphviz SVG: its first line -> all its lines, joined."""
    nodes = {}
    for g in ET.parse(svg).iter(f"{SVG}g"):
        if g.get("class") == "node":
            lines = [t.text or "" for t in g.iter(f"{SVG}text")]
            nodes[lines[0]] = "\n".join(lines)
    return nodes


def _numbers(text: str, word: str) -> list[float]:
    """The numbers after ``word`` up to the next line that starts another word."""
    part = text.split(f"\n{word} ", 1)[1]
    part = re.split(r"\n(?=[a-z])", part, maxsplit=1)[0]
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", part)]


def test_the_graph_of_mazurs_network_shows_every_weight_with_its_value_and_gradient(result):
    m = result[0]["mazur"]
    nodes = _node_texts(result[2] / "mazur.svg")
    weights = {"W1 = [[w1, w2], [w3, w4]]": [0.15, 0.20, 0.25, 0.30],
               "W2 = [[w5, w6], [w7, w8]]": [0.40, 0.45, 0.50, 0.55]}
    for k, (title, values) in enumerate(weights.items()):
        grads = [m["grads"][f"w{i}"] for i in range(4 * k + 1, 4 * k + 5)]
        assert _numbers(nodes[title], "value") == values
        assert _numbers(nodes[title], "grad") == pytest.approx(grads, rel=1e-8)
    assert "value [0.593269992, 0.596884378]" in nodes["out_h: Sigmoid"]
    assert "grad [0.74136507, -0.217071535]" in nodes["out_o: Sigmoid"]  # dE/dout_o
    assert "value 0.298371109" in nodes["E: Sum"]


def test_the_graph_of_one_step_of_y_wx_is_the_seeds(result, seed_run):
    """x = 1, y = 2, w = 1: y_pred = 1, r = -1, l = 1; dl/dr = 2r = -2 = dl/dy_pred,
    dl/dw = -2 x = -2: the seed's first printed gradient. The seed's own code, recorded in
    its own process, makes the same operations with the same values and gradients (its x and
    y are Python numbers, so they sit in the operations rather than in boxes of their own)."""
    nodes = _node_texts(result[2] / "wx-step.svg")
    expected = {"w": "w\nvalue 1\ngrad -2", "x": "x\nvalue 1", "y": "y\nvalue 2",
                "y_pred: Mul": "y_pred: Mul\nvalue 1\ngrad -2", "Sub": "Sub\nvalue -1\ngrad -2",
                "loss: Pow with 2": "loss: Pow with 2\nvalue 1\ngrad 1"}
    assert nodes == expected
    _, graph = seed_run
    assert graph == ["graph: Pow 1.0 1.0", "graph: Sub -1.0 -2.0", "graph: Mul 1.0 -2.0",
                     "graph: w 1.0 -2.0"]


def test_the_books_formulas_equal_autograd(result):
    book = result[0]["book"]
    assert book["max_difference"] <= 1e-10 and book["examples"] == 12
    g = torch.Generator().manual_seed(5)
    for lambd in (0.0, 0.3):  # the penalty's share, and without it
        x = torch.randn(7, generator=g, dtype=torch.float64)
        W1 = torch.randn(6, 7, generator=g, dtype=torch.float64).requires_grad_()
        W2 = torch.randn(3, 6, generator=g, dtype=torch.float64).requires_grad_()
        y = torch.tensor(2)
        backprop.book_objective(x, y, W1, W2, lambd)["J"].backward()
        hand = backprop.book_gradients(x, y, W1.detach(), W2.detach(), lambd)
        torch.testing.assert_close(hand, (W1.grad, W2.grad), rtol=0, atol=1e-10)
    nodes = _node_texts(result[2] / "book-mlp.svg")
    assert {"W(1)", "W(2)", "x", "y", "J: Add"} <= set(nodes)


def test_it_says_so_in_its_log_and_answer(result):
    summary, lines, folder = result
    answer = backprop.EXPERIMENT.answer(summary)
    assert "0.291027924" in answer and "9,999" in answer and "0.291027774" in answer
    assert any(line.startswith("Mazur: by hand, autograd and nn differ by at most")
               for line in lines)
    assert {p.name for p in folder.iterdir()} >= {"wx.txt", "wx-step.svg", "mazur.svg",
                                                  "book-mlp.svg", "descents.png"}
