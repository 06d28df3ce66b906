"""The load test's malformed and hostile messages: what a careless or hostile client sends the
playground, each with what the server must do about it.

Three kinds, by what the server is to answer:

* ``TEXT``: one text message on an open socket: answered by ``{"type": "error"}`` with one line,
  the socket kept (wrong types, huge numbers, NaN and infinities, unknown message types and
  setting names, bad uploads, JSON too deep or broken);
* ``fatal_messages()``: a message the WebSocket layer or the server may refuse by closing the
  socket (a frame above 1 MiB, text above the 64 KiB or 512 KiB limits below it, binary bytes
  where text is expected): an error answer or a close, and the server keeps serving everyone
  else;
* connection attempts (``attack.foreign``): a WebSocket from a foreign Origin, and HTTP and
  WebSocket requests with a foreign ``Host`` (DNS rebinding): refused.
"""

from __future__ import annotations

import json
import random

LAYER = {"width": 4, "activation": "tanh"}


def _settings(**bad: object) -> str:
    return json.dumps({"type": "configure", "settings": bad})


WRONG_TYPES = [
    "[]", "null", "5", '"play"', "true", '{"type": 5}', '{"type": null}', '{"type": ["play"]}',
    '{"no_type": "play"}', _settings(lr="0.1"), _settings(seed="zero"), _settings(layers="8tanh"),
    _settings(layers=[{"width": "8", "activation": "tanh"}]), _settings(layers=[8, 8]),
    _settings(features="x1"), _settings(features=[1, 2]), _settings(noise=[0.1]),
    _settings(batch=True), _settings(data=3), _settings(stop_steps="100"),
    '{"type": "configure", "settings": "data=xor"}', '{"type": "configure", "settings": []}',
    '{"type": "configure", "query": 5}', '{"type": "play", "speed": "fast"}',
    '{"type": "ack", "frame": "1"}', '{"type": "export", "flavour": 1}',
]
HUGE = [
    _settings(points=10**30), _settings(batch=2**63), _settings(seed=-1), _settings(seed=2**64),
    _settings(lr=1e308), _settings(lr=-0.1), _settings(reg_rate=1e300), _settings(classes=10**9),
    _settings(layers=[{"width": 10**6, "activation": "relu"}]),
    _settings(layers=[LAYER] * 1000), _settings(noise=1e9), _settings(train_percent=10**12),
    '{"type": "configure", "settings": {"lr": 1e999}}',
    '{"type": "configure", "settings": {"points": 1' + "0" * 5000 + '}}',
    '{"type": "play", "speed": 1e308}', '{"type": "play", "speed": -5}',
]
NOT_A_NUMBER = [
    '{"type": "configure", "settings": {"lr": NaN}}',
    '{"type": "configure", "settings": {"noise": Infinity}}',
    '{"type": "configure", "settings": {"reg_rate": -Infinity}}',
    '{"type": "configure", "settings": {"stop_loss": NaN}}',
    '{"type": "play", "speed": NaN}',
]
UNKNOWN = [
    '{"type": "eval", "code": "__import__(\'os\').system(\'id\')"}', '{"type": "exec"}',
    '{"type": "__proto__"}', '{"type": "constructor"}', '{"type": ""}', '{"type": "PLAY"}',
    '{"type": "shutdown"}', _settings(__class__={"x": 1}), _settings(optimizer="lbfgs"),
    _settings(data="/etc/passwd"), _settings(loss="hinge"), _settings(features=["x3"]),
    _settings(layers=[{"width": 4, "activation": "gelu"}]), _settings(track="gpu"),
    '{"type": "configure", "query": "data=xor&lr=abc"}',
    '{"type": "configure", "query": "layers=' + "64relu," * 40 + '"}',
    '{"type": "configure", "query": "%00%ff&data=__import__"}',
    '{"type": "export", "flavour": "javascript"}',
]
CSV_BAD = ["x1,x2\n1,2\n3,4\n", "x1,x2,label\n1,abc,0\n", "x1,x2,label\n1,NaN,0\n2,3,1\n",
           "x1,x2,label\n1,2,7\n", "x1,x2,label\n1,2,0.5\n", "\x00\x01\x02\x7f\xff" * 50,
           "", "x1,x2,label\n" + "1,2\n" * 10, "x1,x2,label\n1e999,2,0\n"]
UPLOADS = [json.dumps({"type": "upload", "name": "data.csv", "csv": c}) for c in CSV_BAD] + [
    json.dumps({"type": "upload", "name": "../../etc/passwd", "csv": 5}),
    '{"type": "upload", "name": "x.csv"}',
]
DEEP = ["[" * 10_000 + "]" * 10_000, '{"type": ' * 5000 + '"play"' + "}" * 5000,
        "{not json", '{"type": "play"', '{"type": "\\ud800"}', '{"type": "play"} trailing',
        '{"type": "play", "type": "eval"}']
TEXT = WRONG_TYPES + HUGE + NOT_A_NUMBER + UNKNOWN + UPLOADS + DEEP


def fatal_messages() -> list[str | bytes]:
    """Messages the server may answer by closing the socket."""
    return ["x" * ((1 << 20) + 1000),  # a text frame above 1 MiB
            json.dumps({"type": "upload", "name": "big.csv", "csv": "1,2,0\n" * 100_000}),
            json.dumps({"type": "configure", "settings": {"data": "xor", "pad": "x" * 100_000}}),
            b"\x00" * 64, b'{"type": "play"}', bytes(range(256)) * 8]


def text_messages(n: int, seed: int = 0) -> list[str]:
    """``n`` text messages: every one of ``TEXT`` at least once, then a seeded draw of them."""
    rng = random.Random(seed)
    return TEXT + [rng.choice(TEXT) for _ in range(n - len(TEXT))]
