"""The real `shallowlab playground` in a child process, and a WebSocket client for it.

Started once per test module on a free loopback port (``--port 0``; the URL is the first
line it prints), stopped by its pid. Skips where the playground extra is not installed.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

SHALLOWLAB = Path(sys.executable).with_name("shallowlab")


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT/
    port: int
    process: subprocess.Popen

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(*flags: str, timeout: float = 60.0):
    """Start the server with ``flags``; yields it, then stops it (a fixture's body)."""
    pytest.importorskip("uvicorn", reason="no playground extra: pip install -e '.[playground]'")
    pytest.importorskip("websockets", reason="no playground extra")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([str(SHALLOWLAB), "playground", "--port", "0", "--no-browser",
                                *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, f"no URL from the server: {line!r} {process.poll()}"
        yield Server(found.group(0), int(found.group(1)), process)
        assert process.poll() is None, "the server died during the tests"
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (/proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    return tree


def connect(server: Server, origin: str | None = "own", **kw):
    from websockets.sync.client import connect as ws_connect

    origin = server.origin if origin == "own" else origin
    connection = ws_connect(server.ws, origin=origin, max_size=64 * 2**20, open_timeout=10,
                            close_timeout=2, **kw)
    return connection.__enter__()  # open now, for websockets 12 to 17 alike (closed by close)


def send(ws, message) -> None:
    ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))


def receive(ws, timeout: float = 10.0):
    """The next message: a dict (JSON text) or a decoded frame ``(header, blocks)``."""
    data = ws.recv(timeout=timeout)
    return json.loads(data) if isinstance(data, str) else decode(data)


def answer(ws, kind: str, timeout: float = 10.0):
    """Skip frames (and other messages) until a text message of type ``kind``."""
    end = time.monotonic() + timeout
    while True:
        message = receive(ws, max(0.01, end - time.monotonic()))
        if isinstance(message, dict) and message["type"] == kind:
            return message


def frame(ws, timeout: float = 10.0):
    """Skip text messages until the next frame."""
    end = time.monotonic() + timeout
    while True:
        message = receive(ws, max(0.01, end - time.monotonic()))
        if isinstance(message, tuple):
            return message


def decode(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """A frame as the spec lays it out (written here, not taken from the engine's decoder):
    uint32 H, H bytes of JSON padded to 4, then float32 blocks that fill the rest exactly."""
    (size,) = struct.unpack_from("<I", data, 0)
    assert (4 + size) % 4 == 0, "the header does not end on a 4-byte boundary"
    header = json.loads(data[4:4 + size].decode("utf-8"))
    values = np.frombuffer(data, dtype="<f4", offset=4 + size)
    blocks, at = {}, 0
    for block in header["blocks"]:
        n = int(np.prod(block["shape"]))
        blocks[block["name"]] = values[at:at + n].reshape(block["shape"])
        at += n
    assert at == len(values), f"{len(values) - at} float32 values beyond the blocks"
    return header, blocks
