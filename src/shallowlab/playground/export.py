"""A run as a Python script that reproduces it on its own: ``python run.py [--steps N]``.

The ``pytorch`` flavour imports only torch. Its data set, feature, loss, penalty and dropout
functions are the playground's own, copied by source, and its model, initialisation, batch
order and update are written out in the same operations in the same order, so it prints the
session's losses after N steps (to float32 rounding, in practice bit for bit). The
``shallowlab`` flavour rebuilds the session from its settings. Stop rules are left out: the
script trains for --steps minibatches.
"""

from __future__ import annotations

import inspect

from shallowlab.models import scratch
from shallowlab.playground import features, network
from shallowlab.playground import points as sets
from shallowlab.playground.points import Points
from shallowlab.playground.settings import PlaygroundError, Settings

ACTS = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}
SCRATCH_ACTS = {"relu": "relu({})", "tanh": "torch.tanh({})", "sigmoid": "torch.sigmoid({})",
                "linear": "{}"}
INIT = {"xavier": "nn.init.xavier_uniform_(W, generator=g)",
        "he": "nn.init.normal_(W, 0.0, math.sqrt(2.0 / W.shape[1]), generator=g)",
        "normal": "nn.init.normal_(W, 0.0, 0.1, generator=g)", "zeros": "nn.init.zeros_(W)"}


def script(settings: Settings, flavour: str = "pytorch", points: Points | None = None) -> str:
    """The source of a script reproducing ``settings`` (and uploaded ``points``)."""
    if flavour == "shallowlab":
        return _shallowlab(settings, points if settings.data == "upload" else None)
    if flavour != "pytorch":
        raise ValueError(f"unknown flavour {flavour!r}; choose pytorch or shallowlab")
    if settings.data == "upload" and points is None:
        raise PlaygroundError("export: the uploaded points are missing; upload the CSV again")
    s = settings
    task = points.task if points is not None else s.task
    kind = "mse" if task == "regress" else "mse_classify" if s.loss == "mse" else "cross_entropy"
    parts = [_head(s, "pytorch"), "from __future__ import annotations\n\nimport argparse\n"
             "import math\n\nimport torch\n"
             "import torch.nn.functional as F\nfrom torch import nn\n",
             _constants(s, kind), _data(s, points), _source(sets.split),
             _source(features.inputs), _source(scratch.dropout_layer), _source(network.penalty)]
    if s.track == "scratch":
        parts += [_source(f) for f in (scratch.relu, scratch.softmax, scratch.log_softmax,
                                       scratch.cross_entropy, scratch.squared_loss, scratch.sgd)]
        parts.append(_source(network.scratch_loss).replace("scratch.", ""))
        parts += [_scratch_model(s), _SCRATCH_LOOP]
    else:
        parts += [_source(network.data_loss), _concise_model(s), _CONCISE_LOOP]
    parts.append(_MAIN)
    return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def _source(fn) -> str:
    return inspect.getsource(fn)


def _head(s: Settings, flavour: str) -> str:
    return (f'"""A shallowlab playground run, reproduced on its own ({flavour}).\n\n'
            f"Settings: #{s.to_query() or '(the defaults)'}\n"
            'Run: python this_file.py [--steps N]; prints "step N train_loss L test_loss T".\n'
            + ("It leaves out the stop rule: it trains for --steps minibatches.\n"
               if {s.stop_loss, s.stop_acc, s.stop_steps} != {None} else "")
            + '"""\n')


def _constants(s: Settings, kind: str) -> str:
    return "\n".join([
        f"SEED = {s.seed}", f"FEATURES = {s.features!r}", f"KIND = {kind!r}  # the loss",
        f"LR = {s.lr!r}", f"BATCH = {s.batch}", f"TRAIN_PERCENT = {s.train_percent}",
        f"REG, REG_RATE = {s.reg!r}, {s.reg_rate!r}  # the penalty on the weights"])


def _data(s: Settings, pts: Points | None) -> str:
    if pts is None:
        fn = sets.GENERATORS[s.data]
        classes = 2 if s.data == "xor" else s.classes
        y = ".float()" if s.task == "regress" else ".long()"
        return (_source(fn) + "\n\ndef load_points(g):\n"
                f"    X, y = {fn.__name__}({s.points}, {classes}, {s.noise!r}, g)\n"
                f"    return X.float(), y{y}, {s.task == 'classify' and classes or 1}\n")
    rows = ",\n    ".join(f"[{x!r}, {z!r}, {t!r}]" for (x, z), t
                          in zip(pts.X.tolist(), pts.y.tolist()))
    dtype = "torch.float32" if pts.task == "regress" else "torch.int64"
    third = "target" if pts.task == "regress" else "label"
    return (f"POINTS = [  # the uploaded x1, x2, {third}\n    {rows},\n]\n\n\n"
            "def load_points(g):\n"
            "    X = torch.tensor([row[:2] for row in POINTS], dtype=torch.float32)\n"
            f"    y = torch.tensor([row[2] for row in POINTS], dtype={dtype})\n"
            f"    return X, y, {pts.classes}\n")


def _concise_model(s: Settings) -> str:
    lines, width = [], "inputs"
    for x in s.layers:
        lines.append(f"nn.Linear({width}, {x.width}), " + ACTS.get(x.activation, "nn.Identity()")
                     + (f", Dropout({x.dropout!r}, drop_gen)" if x.dropout else ""))
        width = str(x.width)
    lines.append(f"nn.Linear({width}, outputs)")
    layers = ",\n        ".join(lines)
    opt = "torch.optim.Adam, params, lr=LR" if s.optimizer == "adam" else \
        "torch.optim.SGD, params, lr=LR, momentum=" + \
        ("0.9" if s.optimizer == "momentum" else "0.0")
    return f'''class Dropout(nn.Module):
    """nn.Dropout with masks drawn from a generator of its own."""

    def __init__(self, p, generator):
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, X):
        return dropout_layer(X, self.p, self.generator) if self.training else X


def make_model(inputs, outputs, g, drop_gen):
    model = nn.Sequential(
        {layers},
    )
    for m in model:
        if isinstance(m, nn.Linear):
            W = m.weight
            {INIT[s.init]}
            nn.init.zeros_(m.bias)
    return model


def make_optimizer(params):
    return fast_optimizer({opt})


''' + _source(network.fast_optimizer)


def _scratch_model(s: Settings) -> str:
    widths = ", ".join(str(x.width) for x in s.layers)
    body = []
    for i, x in enumerate(s.layers):
        body.append("H = " + SCRATCH_ACTS[x.activation].format(
            f"H @ params[{2 * i}] + params[{2 * i + 1}]"))
        if x.dropout:
            body.append(f"if training:\n        H = dropout_layer(H, {x.dropout!r}, drop_gen)")
    n = 2 * len(s.layers)
    forward = "".join(f"    {line}\n" for line in body)
    return f'''def make_params(inputs, outputs, g):
    """W (in, out) and b per layer, W drawn as nn.Linear draws (out, in), then transposed."""
    widths = [inputs, {widths + ", " if widths else ""}outputs]
    params = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        W = torch.empty(fan_out, fan_in)
        {INIT[s.init]}
        params += [W.T.contiguous().requires_grad_(), torch.zeros(fan_out, requires_grad=True)]
    return params


def net(params, X, training, drop_gen):
    H = X
{forward}    return H @ params[{n}] + params[{n + 1}]'''


_LOOP = '''def train(steps):
    """Train for `steps` minibatches; return the train and test losses (eval mode)."""
    g = torch.Generator().manual_seed(4 * SEED)
    X, y, classes = load_points(g)
    train_idx, test_idx = split(len(X), TRAIN_PERCENT, g)
    X_train, y_train = inputs(X[train_idx], FEATURES), y[train_idx]
    X_test, y_test = inputs(X[test_idx], FEATURES), y[test_idx]
    init_gen, order_gen, drop_gen = (torch.Generator().manual_seed(4 * SEED + k)
                                     for k in (1, 2, 3))
{build}
    n = len(X_train)
    batch, pos = min(BATCH, n), n
    for _ in range(steps):
        if pos >= n:  # a new pass over the training set, in a new order
            order = torch.randperm(n, generator=order_gen)
            X_pass, y_pass, pos = X_train[order], y_train[order], 0
        X, y = X_pass[pos:pos + batch], y_pass[pos:pos + batch]
        pos += batch
{update}
    with torch.no_grad():
        return [{measure}
                for X, y in ((X_train, y_train), (X_test, y_test))]'''

_CONCISE_LOOP = _LOOP.format(build='''\
    model = make_model(X_train.shape[1], classes, init_gen, drop_gen)
    params = [t for m in model if isinstance(m, nn.Linear) for t in (m.weight, m.bias)]
    optimizer = make_optimizer(params)''', update='''\
        pen = penalty(params[0::2], REG, REG_RATE)
        loss = data_loss(model(X), y, KIND)  # the mean over the batch
        loss = loss if pen is None else loss + pen
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()''', measure="data_loss(model(X), y, KIND).item()")

_SCRATCH_LOOP = _LOOP.format(build='''\
    params = make_params(X_train.shape[1], classes, init_gen)''', update='''\
        pen = penalty(params[0::2], REG, REG_RATE)
        loss = scratch_loss(net(params, X, True, drop_gen), y, KIND).sum()
        loss = loss if pen is None else loss + len(y) * pen
        loss.backward()
        sgd(params, LR, len(y))  # p <- p - lr * p.grad / B''',
                             measure="scratch_loss(net(params, X, False, None), y, KIND)"
                                     ".mean().item()")

_MAIN = '''def main():
    parser = argparse.ArgumentParser(description="a shallowlab playground run")
    parser.add_argument("--steps", type=int, default=100, help="minibatches to train")
    steps = parser.parse_args().steps
    train_loss, test_loss = train(steps)
    print(f"step {steps} train_loss {train_loss!r} test_loss {test_loss!r}")


if __name__ == "__main__":
    main()'''


def _shallowlab(s: Settings, pts: Points | None) -> str:
    upload = ""
    if pts is not None:
        rows = "\n".join(f"{x!r},{z!r},{t!r}" for (x, z), t in zip(pts.X.tolist(),
                                                                    pts.y.tolist()))
        third = "target" if pts.task == "regress" else "label"
        upload = f'''CSV = """x1,x2,{third}
{rows}
"""
'''
    points_arg = "from_csv(CSV)" if pts is not None else "None"
    return _head(s, "shallowlab") + f'''
import argparse

from shallowlab.playground import Session, Settings, from_csv

{upload}
def main():
    parser = argparse.ArgumentParser(description="a shallowlab playground run")
    parser.add_argument("--steps", type=int, default=100, help="minibatches to train")
    steps = parser.parse_args().steps
    session = Session(Settings.from_query({s.to_query()!r}), {points_arg})
    session.step(steps)
    step, train_loss, test_loss = session.losses[-1]
    print(f"step {{step}} train_loss {{train_loss!r}} test_loss {{test_loss!r}}")


if __name__ == "__main__":
    main()
'''
