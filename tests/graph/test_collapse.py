"""``shallowlab.graph.collapse``: a graph too large to read, drawn with a box per module at
the deepest nesting that fits, and a line saying what was collapsed."""

import pytest
import torch
from torch import nn

from shallowlab.graph import record, trace
from shallowlab.graph.collapse import collapse
from tests.graph.test_trace import by_title


def deep(layers: int, nested: bool = False) -> nn.Sequential:
    blocks = [nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(layers)]
    return nn.Sequential(*blocks) if nested else nn.Sequential(*[m for b in blocks for m in b])


@pytest.mark.parametrize("recorded", [True, False])
def test_a_large_graph_is_collapsed_by_module_and_says_so(recorded):
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
    net, x = deep(20, nested=True), torch.randn(2, 4)
    with record():
        loss = net(x).sum()
    full = trace(loss, net)  # 20 x (linear, relu, weight, bias) + x + Sum: 82 nodes
    blocks = by_title(collapse(full, 60))  # a box per Linear and per ReLU: 42
    assert "Linear '3.0'" in blocks and "ReLU '3.1'" in blocks and len(blocks) == 42
    whole = by_title(collapse(full, 30))  # only one box per block fits: 22
    assert "Sequential '3'" in whole and not any(t.startswith("Linear") for t in whole)
