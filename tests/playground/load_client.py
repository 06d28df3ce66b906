"""An asyncio client of the playground's WebSocket that behaves as the page does, for the load
test: configure, play, acknowledge every frame on arrival (frames decoded by
``tests.playground.server.decode``); the idle session and the session cap; and the server's
memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.playground.server import decode, process_tree

MAX_FRAME = 8 << 20  # what the client accepts from the server: a frame of 64 units is ~0.2 MiB


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (/proc; shared pages counted in
    each: an over-estimate, on the safe side of a ceiling)."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system, all threads) of ``pid`` and its descendants so far; with no pid,
    of the whole machine (/proc/stat, all CPUs, less idle and iowait)."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is None:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / tick
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / tick


async def open_socket(port: int, origin: str | None = None) -> ClientConnection:
    """A WebSocket to the server's ``/ws`` with the page's own Origin (or ``origin``)."""
    return await connect(f"ws://127.0.0.1:{port}/ws",
                         origin=origin or f"http://127.0.0.1:{port}", proxy=None,
                         compression=None, max_size=MAX_FRAME, open_timeout=10)


async def next_json(ws: ClientConnection, timeout: float = 10.0) -> dict:
    """The next text message as JSON, frames in between skipped."""
    end = time.monotonic() + timeout
    while True:
        msg = await asyncio.wait_for(ws.recv(), max(0.01, end - time.monotonic()))
        if isinstance(msg, str):
            return json.loads(msg)


async def configure(ws: ClientConnection, settings: dict) -> dict:
    """Send ``configure``; the ``ready`` answer (AssertionError on anything else)."""
    await ws.send(json.dumps({"type": "configure", "settings": settings}))
    answer = await next_json(ws, 30.0)
    assert answer.get("type") == "ready", f"configure answered {answer}"
    return answer


@dataclass
class Player:
    """A page: configured with ``settings``, playing, acknowledging each frame on arrival."""

    port: int
    settings: dict
    speed: int = 1  # epochs between frames, as the page's speed control sets it
    frames: list[tuple[float, dict, dict]] = field(default_factory=list)  # (time, header, shapes)
    errors: list[str] = field(default_factory=list)
    ready: dict | None = None
    closed: str | None = None

    async def run(self, started: asyncio.Event, stop: asyncio.Event) -> None:
        """Configure, then (once ``started`` is set) play until ``stop`` is set."""
        try:
            async with await open_socket(self.port) as ws:
                self.ready = await configure(ws, self.settings)
                await self._take(await asyncio.wait_for(ws.recv(), 30.0), ws, ack=False)
                await started.wait()
                await ws.send(json.dumps({"type": "play", "speed": self.speed}))
                while not stop.is_set():
                    try:
                        msg = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    await self._take(msg, ws)
                await ws.send(json.dumps({"type": "pause"}))
        except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError) as e:
            self.closed = f"{type(e).__name__}: {e}"

    async def _take(self, msg: str | bytes, ws: ClientConnection, ack: bool = True) -> None:
        if isinstance(msg, str):
            answer = json.loads(msg)
            if answer.get("type") in ("error", "closing"):
                self.errors.append(msg)
            return
        header, blocks = decode(msg)
        shapes = {name: tuple(b.shape) for name, b in blocks.items()}
        self.frames.append((time.monotonic(), header, shapes))
        if ack:
            await ws.send(json.dumps({"type": "ack", "frame": header["frame"]}))

    def rate(self, start: float, end: float) -> float:
        """Frames a second that arrived between ``start`` and ``end`` (monotonic seconds)."""
        return sum(start <= t < end for t, _, _ in self.frames) / (end - start)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest wait for a frame between ``start`` and ``end``."""
        times = [start] + [t for t, _, _ in self.frames if start <= t < end] + [end]
        return max(b - a for a, b in zip(times, times[1:]))


async def attempt(port: int, settings: dict) -> str:
    """A new page: 'ready' if the server serves it, else 'refused: why'."""
    try:
        async with await open_socket(port) as ws:
            await ws.send(json.dumps({"type": "configure", "settings": settings}))
            answer = await next_json(ws, 30.0)
            if answer.get("type") == "ready":
                return "ready"
            return f"refused: {answer}"
    except (ConnectionClosed, InvalidHandshake, TimeoutError) as e:
        return f"refused: {type(e).__name__}: {e}"


async def idle_and_cap(port: int, settings: dict, idle_timeout: float) -> dict:
    """One session configured then silent, taking the last place; a page beyond the cap; the
    idle one's close (its ``closing`` message, seconds after its last message); then a page in
    its place."""
    ws = await open_socket(port)
    await configure(ws, settings)
    last = time.monotonic()
    out: dict = {"over_cap": await attempt(port, settings), "closing": None,
                 "closed_after": None}
    try:
        while True:
            msg = await asyncio.wait_for(ws.recv(), idle_timeout + 5)
            if isinstance(msg, str):
                out["closing"] = json.loads(msg)
    except ConnectionClosed:
        out["closed_after"] = time.monotonic() - last
    except TimeoutError:
        await ws.close()
    out["replacement"] = await attempt(port, settings)
    return out
