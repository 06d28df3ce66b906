"""The load test's second phase: ``tests.playground.hostile``'s messages and connections sent to
a running playground server, and what it answered to each.

Text messages go over ``SOCKETS`` sockets at once, each paced under the server's 200 messages a
second (``PACE``), each answer awaited (at most ``WAIT`` s); the flood goes over one socket
unpaced; fatal messages and foreign connections each on a socket of their own.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.playground import hostile
from tests.playground.load_client import next_json, open_socket

SOCKETS, PACE, WAIT, FATAL_REPEATS = 8, 1 / 150, 5.0, 3


def http_status(port: int, host: str, path: str = "/", headers: dict | None = None) -> int | None:
    """The status of ``GET path`` on the server with this ``Host`` header; None if it closed
    the connection without one."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.putrequest("GET", path, skip_host=True)
        for name, value in {"Host": host, **(headers or {})}.items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    except (ConnectionError, http.client.HTTPException, TimeoutError):
        return None
    finally:
        conn.close()


def _upgrade(host: str) -> dict:
    key = base64.b64encode(os.urandom(16)).decode()
    return {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13", "Origin": f"http://{host}"}


async def foreign(port: int) -> list[str]:
    """Foreign Origins on the WebSocket, foreign Hosts on the page and on the WebSocket (what a
    DNS-rebinding page sends: its own name as Host and Origin): each 'refused ...' or not."""
    outcomes = []
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{port + 1}",
                   f"http://localhost.evil.example:{port}", f"https://127.0.0.1:{port}"):
        try:
            async with await open_socket(port, origin=origin) as ws:
                await ws.send(json.dumps({"type": "configure", "settings": {}}))
                answer = await next_json(ws, WAIT)
                outcomes.append(f"accepted Origin {origin}: {answer.get('type')}")
        except (InvalidHandshake, ConnectionClosed, TimeoutError) as e:
            outcomes.append(f"refused Origin {origin}: {type(e).__name__}")
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.nip.io:{port}"):
        for path, headers in (("/", None), ("/ws", _upgrade(host))):
            status = await asyncio.to_thread(http_status, port, host, path, headers)
            ok = status is None or 400 <= status < 500
            outcomes.append(f"{'refused' if ok else 'accepted'} Host {host} {path}: {status}")
    return outcomes


async def _texts(port: int, messages: list[str], report: dict) -> None:
    ws = await open_socket(port)
    try:
        for m in messages:
            try:
                await ws.send(m)
                answer = await next_json(ws, WAIT)
            except (ConnectionClosed, TimeoutError) as e:
                answer = {"type": f"no answer: {type(e).__name__}"}
                await ws.close()
                ws = await open_socket(port)  # a refusal here fails the test: it should serve
            report["sent"] += 1
            if answer.get("type") != "error":
                report["unanswered"].append((m[:80], answer))
            elif not isinstance(answer.get("message"), str) or "\n" in answer["message"] \
                    or not answer["message"].strip():
                report["not_one_line"].append((m[:80], answer))
            await asyncio.sleep(PACE)
    finally:
        await ws.close()


async def _fatal(port: int, message: str | bytes) -> str | None:
    """What the server did with ``message``: 'error', 'closed CODE', or None (kept, silent)."""
    async with await open_socket(port) as ws:
        try:
            await ws.send(message)
            answer = await next_json(ws, WAIT)
            return "error" if answer.get("type") == "error" else None
        except ConnectionClosed as e:
            return f"closed {e.rcvd.code if e.rcvd else 'without a close frame'}"
        except TimeoutError:
            return None


async def _flood(port: int, n: int) -> str:
    """``n`` bad messages at once on one socket: 'closed ...' if the server cut it off."""
    async with await open_socket(port) as ws:
        try:
            for _ in range(n):
                await ws.send('{"type": "flood"}')
            for _ in range(n + 1):
                answer = await next_json(ws, WAIT)
                if answer.get("type") == "closing":
                    return f"closed: {answer.get('reason')}"
        except ConnectionClosed as e:
            return f"closed {e.rcvd.code if e.rcvd else ''}"
        except TimeoutError:
            return "kept open, silent"
    return f"answered all {n}"


async def attack(port: int, total: int, flood: int) -> dict:
    """``total`` hostile messages and connections, ``flood`` of them as one burst."""
    fatal = hostile.fatal_messages() * FATAL_REPEATS
    report: dict = {"sent": 0, "unanswered": [], "not_one_line": [], "fatal_kept": []}
    report["foreign"] = await foreign(port)
    texts = hostile.text_messages(total - flood - len(fatal) - len(report["foreign"]))
    chunks = [texts[i::SOCKETS] for i in range(SOCKETS)]
    flooded, *_ = await asyncio.gather(_flood(port, flood),
                                       *(_texts(port, c, report) for c in chunks))
    report["flood"] = flooded
    report["fatal"] = []
    for m in fatal:
        report["fatal"].append(outcome := await _fatal(port, m))
        if outcome is None:
            report["fatal_kept"].append(m[:40])
    report["sent"] += flood + len(fatal) + len(report["foreign"])
    return report
