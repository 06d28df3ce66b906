"""``shallowlab.graph.trace`` and ``record``: the autograd graph as data, every node with its
value and gradient; what it shows without a recording; its bad uses, one line each."""

import pytest
import torch
from torch import nn

from shallowlab.graph import GraphError, record, trace


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
