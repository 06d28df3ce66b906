"""lazy_dynamo: torch.optim without torch._dynamo until something compiles, computing what
torch's own optimizer does, bit for bit; and torch's wrappers back once dynamo is imported."""

import subprocess
import sys

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
