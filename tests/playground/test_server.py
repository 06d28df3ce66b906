"""The playground's server, over real loopback sockets: `shallowlab playground` in a child
process (one per module), spoken to over HTTP and WebSocket as a page would, and as a hostile
page or client would. Each guard of docs/playground.md is checked here by what it refuses, and
each refusal leaves the server (and the refused socket's session, where it stays open)
serving."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time

import pytest

from tests.playground.server import (
    SHALLOWLAB,
    answer,
    connect,
    frame,
    process_tree,
    receive,
    send,
    start,
    stop,
)

IDLE = 3  # seconds: the server's --idle-timeout here
MAX_SESSIONS = 4
WORKERS = 2  # on any machine, so that two pages occupy them all


@pytest.fixture(scope="module")
def server():
    yield from start("--max-sessions", str(MAX_SESSIONS), "--idle-timeout", str(IDLE),
                     "--workers", str(WORKERS))


def _get(server, path: str, host: str | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", f"127.0.0.1:{server.port}" if host is None else host)
    conn.endheaders()
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def _handshake(server, host: str, origin: str | None) -> int:
    """The HTTP status a WebSocket handshake with these headers gets (101: accepted)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        lines = ["GET /ws HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                 "Sec-WebSocket-Version: 13"] + ([f"Origin: {origin}"] if origin else [])
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return int(s.recv(4096).split(b" ", 2)[1])


def _configured(server, settings=None):
    ws = connect(server)
    send(ws, {"type": "configure", "settings": settings or {"data": "xor", "points": 100}})
    ready = answer(ws, "ready")
    return ws, ready, frame(ws)


def test_the_page_and_its_assets_come_from_the_package_with_a_strict_policy(server):
    page = _get(server, "/")
    assert page.status == 200 and page.getheader("content-type").startswith("text/html")
    policy = page.getheader("content-security-policy")
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    for asset, kind in [("playground.js", "javascript"), ("playground.css", "text/css")]:
        response = _get(server, f"/static/{asset}")
        assert response.status == 200 and kind in response.getheader("content-type")
    assert b"http://" not in page.body and b"https://" not in page.body  # nothing fetched
    for path in ["/static/../server.py", "/static/%2e%2e/server.py", "/static/nothing.js"]:
        assert _get(server, path).status == 404, path


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:{other}",
                                  "localhost", ""])
def test_a_foreign_host_is_refused_over_http_and_websocket(server, host):
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1."""
    host = host.format(port=server.port, other=server.port + 1)
    response = _get(server, "/", host=host)
    assert response.status == 400 and b"this server answers to" in response.body
    assert _handshake(server, host, f"http://{host}") == 403


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:{other}",
                                    "https://127.0.0.1:{port}", "null", None])
def test_a_foreign_origin_cannot_open_a_socket(server, origin):
    origin = origin and origin.format(port=server.port, other=server.port + 1)
    assert _handshake(server, f"127.0.0.1:{server.port}", origin) == 403
    assert _handshake(server, f"localhost:{server.port}", f"http://localhost:{server.port}") \
        == 101  # the same server under its other name


def test_configure_answers_ready_then_a_frame_laid_out_as_the_spec_says(server):
    settings = {"data": "spiral", "classes": 3, "points": 200,
                "layers": [{"width": 5, "activation": "relu", "dropout": 0.0},
                           {"width": 3, "activation": "tanh", "dropout": 0.2}]}
    ws, ready, (header, blocks) = _configured(server, settings)
    with ws:
        assert ready["settings"]["layers"][1]["dropout"] == 0.2
        assert "layers=5relu,3tanh:0.2" in ready["query"]
        assert len(ready["points"]["train"]) + len(ready["points"]["test"]) == 200
        assert header["step"] == 0 and header["playing"] is False and header["grid"] == 64
        names = [b["name"] for b in header["blocks"]]
        assert names == ["output", "units.1", "units.2"] + [
            f"{k}.{i}" for i in (1, 2, 3) for k in ("W", "b", "gW", "gb")]
        assert blocks["output"].shape == (3, 64, 64) and blocks["units.1"].shape == (5, 24, 24)
        assert blocks["W.1"].shape == (5, 2) and blocks["W.3"].shape == (3, 3)
        assert abs(blocks["output"].sum(axis=0) - 1).max() < 1e-5  # probabilities
        send(ws, {"type": "step"})
        header, blocks = frame(ws)
        assert header["step"] == 1 and abs(blocks["gW.1"]).sum() > 0


BAD = [
    ("not json", "{type: step}", "not JSON"),
    ("a list", "[1, 2]", "JSON object"),
    ("no type", {"kind": "step"}, "JSON object"),
    ("unknown type", {"type": "eval", "code": "import os"}, "unknown message type"),
    ("deep", '{"type": "configure", "settings": ' + "[" * 5000 + "]" * 5000 + "}", "deeper"),
    ("deep object", {"type": "configure", "settings": {"a": {"b": {"c": {"d": {"e": {"f": {
        "g": {"h": 1}}}}}}}}}, "deeper"),
    ("huge int", '{"type": "play", "speed": 1' + "0" * 5000 + "}", "not JSON"),
    ("big int", {"type": "play", "speed": 10**18}, "beyond"),
    ("NaN", '{"type": "configure", "settings": {"lr": NaN}}', "not a number"),
    ("infinity", '{"type": "configure", "settings": {"lr": 1e999}}', "beyond"),
    ("wrong type", {"type": "configure", "settings": {"lr": "fast"}}, "setting 'lr'"),
    ("out of range", {"type": "configure", "settings": {"batch": 0}}, "setting 'batch'"),
    ("unknown setting", {"type": "configure", "settings": {"__class__": 1}}, "unknown"),
    ("too wide", {"type": "configure", "settings": {"layers": [
        {"width": 65, "activation": "relu", "dropout": 0.0}]}}, "width"),
    ("bad query", {"type": "configure", "query": "layers=4tanh&layers=2relu"}, "once"),
    ("extra field", {"type": "step", "n": 1000000}, "no field"),
    ("bad speed", {"type": "play", "speed": 11}, "speed"),
    ("bool ack", {"type": "ack", "frame": True}, "frame"),
    ("bad flavour", {"type": "export", "flavour": "bash"}, "flavour"),
    ("too long", {"type": "configure", "query": "x" * 70000}, "too large"),
    ("binary", b"\x00\x01\x02", "not binary"),
    ("big upload", {"type": "upload", "name": "big.csv", "csv": "1,2,0\n" * 100000},
     "512 KiB"),
    ("binary upload", {"type": "upload", "name": "x.csv", "csv": "\x00\x01PNG" * 10}, "binary"),
    ("NaN upload", {"type": "upload", "name": "n.csv", "csv": "1,2,0\n" * 10 + "nan,1,0\n"},
     "row 11"),
]


def test_bad_messages_get_one_line_each_and_the_session_goes_on(server):
    ws, _, (before, _) = _configured(server)
    with ws:
        for name, message, said in BAD:
            send(ws, message)
            reply = receive(ws)
            assert reply["type"] == "error", name
            assert said in reply["message"] and "\n" not in reply["message"], (name, reply)
        send(ws, {"type": "step"})
        header, _ = frame(ws)
        assert header["step"] == 1 and header["frame"] == before["frame"] + 1


def test_a_message_over_one_mib_closes_only_its_own_socket(server):
    from websockets.exceptions import ConnectionClosed

    other, _, _ = _configured(server)
    with connect(server) as ws, other:
        send(ws, "x" * (2 * 2**20))
        with pytest.raises(ConnectionClosed) as closed:
            receive(ws)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
        send(other, {"type": "step"})
        assert frame(other)[0]["step"] == 1


def test_playing_keeps_at_most_two_frames_unacknowledged(server):
    ws, _, (first, _) = _configured(server)
    with ws:
        send(ws, {"type": "ack", "frame": first["frame"]})
        send(ws, {"type": "play"})
        got = [frame(ws)[0], frame(ws)[0]]
        assert [h["epoch"] for h in got] == [1, 2] and all(h["playing"] for h in got)
        with pytest.raises(TimeoutError):
            receive(ws, timeout=0.5)  # no third frame before an ack
        send(ws, {"type": "ack", "frame": got[1]["frame"]})
        assert [frame(ws)[0]["epoch"], frame(ws)[0]["epoch"]] == [3, 4]
        send(ws, {"type": "pause"})
        last = frame(ws)[0]
        while last["playing"]:
            last = frame(ws)[0]
        assert last["epoch"] >= 4


def test_export_gives_both_scripts(server):
    ws, _, _ = _configured(server)
    with ws:
        send(ws, {"type": "export", "flavour": "pytorch"})
        torch_only = answer(ws, "export")
        send(ws, {"type": "export", "flavour": "shallowlab"})
        ours = answer(ws, "export")
    imports = [line for line in torch_only["script"].splitlines()
               if line.startswith(("import ", "from "))]
    assert "import torch" in imports and not any("shallowlab" in line for line in imports)
    assert "shallowlab" in ours["script"] and ours["flavour"] == "shallowlab"


def test_a_good_upload_trains_and_keeps_its_points_for_a_new_network(server):
    rows = "x1,x2,label\n" + "".join(f"{i % 7 - 3},{i % 5 - 2},{int(i % 7 > 3)}\n"
                                     for i in range(60))
    with connect(server) as ws:
        send(ws, {"type": "upload", "name": "mine.csv", "csv": rows})
        ready = answer(ws, "ready")
        assert ready["settings"]["data"] == "upload" and ready["points"]["classes"] == 2
        assert len(ready["points"]["train"]) + len(ready["points"]["test"]) == 60
        send(ws, {"type": "configure", "settings": {**ready["settings"], "layers": []}})
        again = answer(ws, "ready")
        assert again["points"] == ready["points"] and again["settings"]["layers"] == []
        assert frame(ws)[0]["step"] == 0
        send(ws, {"type": "step"})
        assert frame(ws)[0]["step"] == 1


def _turned_away(server) -> str | None:
    """The reason a new socket is sent away with (at once, unasked), or None if it is kept."""
    from websockets.exceptions import ConnectionClosed

    ws = connect(server)
    try:
        reply = receive(ws, timeout=0.3)
    except TimeoutError:
        reply = {"type": "kept"}
    with contextlib.suppress(ConnectionClosed):
        ws.close()
    return reply["reason"] if reply["type"] == "closing" else None


def test_sockets_beyond_max_sessions_are_turned_away_until_one_leaves(server):
    held = [_configured(server)[0] for _ in range(MAX_SESSIONS)]
    try:
        assert "sessions open" in _turned_away(server)
        held.pop().close()
        for _ in range(50):  # the server frees the slot when it sees the close
            if _turned_away(server) is None:
                break
            time.sleep(0.05)
        else:
            pytest.fail("a freed slot was never given to a new socket")
    finally:
        for ws in held:
            ws.close()


def test_more_than_200_messages_a_second_close_the_socket(server):
    from websockets.exceptions import ConnectionClosed

    ws, _, _ = _configured(server)
    with ws:
        for _ in range(250):
            send(ws, {"type": "ack", "frame": 0})
        reply = answer(ws, "closing")
        assert "200 messages a second" in reply["reason"]
        with pytest.raises(ConnectionClosed):
            receive(ws)


def test_an_idle_socket_is_closed_and_freed(server):
    from websockets.exceptions import ConnectionClosed

    ws, _, _ = _configured(server)
    with ws:
        started = time.monotonic()
        reply = answer(ws, "closing", timeout=IDLE + 5)
        assert "no message for 3 s" in reply["reason"]
        assert IDLE - 0.5 < time.monotonic() - started < IDLE + 3
        with pytest.raises(ConnectionClosed):
            receive(ws)


def test_the_cli_warns_for_another_host_and_fails_in_one_line_on_a_taken_port(server):
    process = subprocess.Popen([str(SHALLOWLAB), "playground", "--host", "0.0.0.0", "--port",
                                "0", "--no-browser"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        warning = process.stderr.readline()
        assert "warning: --host 0.0.0.0" in warning and "no password" in warning
        assert process.stdout.readline().startswith("playground: http://127.0.0.1:")
    finally:
        stop(process)
    taken = subprocess.run([str(SHALLOWLAB), "playground", "--port", str(server.port),
                            "--no-browser"], capture_output=True, text=True, timeout=60)
    assert taken.returncode == 1 and taken.stdout == ""
    assert len(taken.stderr.splitlines()) == 1 and "--port" in taken.stderr
    for flags in (["--port", "70000"], ["--max-sessions", "0"], ["--idle-timeout", "0"],
                  ["--workers", "-1"]):
        bad = subprocess.run([str(SHALLOWLAB), "playground", *flags, "--no-browser"],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1, bad.stderr


def _workers(server) -> list[int]:
    """The server's training processes: its children that multiprocessing spawned."""
    pids = []
    for pid in process_tree(server.process.pid)[1:]:
        with contextlib.suppress(OSError):
            if b"spawn_main" in open(f"/proc/{pid}/cmdline", "rb").read():
                pids.append(pid)
    return pids


def _gone(pid: int, timeout: float = 5.0) -> bool:
    """Whether ``pid`` has exited (or is a zombie waiting to be reaped) within ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_a_killed_worker_is_replaced_and_its_pages_told_to_reload(server):
    pages = [_configured(server)[0] for _ in range(2)]  # one on each worker: the least busy
    killed = _workers(server)
    assert len(killed) == WORKERS, killed
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    for ws in pages:
        send(ws, {"type": "step"})
        assert "reload the page" in answer(ws, "error", timeout=20)["message"]
        ws.close()
    ws, ready, _ = _configured(server)  # a new page, on a new worker
    send(ws, {"type": "step"})
    assert frame(ws, timeout=20)[0]["step"] == 1
    ws.close()
    assert len(_workers(server)) == WORKERS and not set(_workers(server)) & set(killed)


def test_sigterm_stops_the_server_and_its_workers_at_once():
    running = start("--idle-timeout", "60", "--workers", str(WORKERS))
    process = next(running)
    try:
        workers = _workers(process)
        assert len(workers) == WORKERS, workers
        started = time.monotonic()
        process.process.send_signal(signal.SIGTERM)
        out, _ = process.process.communicate(timeout=10)
        assert process.process.returncode == 130 and "playground: stopped" in out
        assert time.monotonic() - started < 5
        assert all(_gone(pid, timeout=0.5) for pid in workers), workers  # stopped, not orphaned
    finally:
        running.close()  # stops the server by its pid if a check above failed first
