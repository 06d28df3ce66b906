"""The playground's web server: the page and its assets over HTTP, one session per WebSocket.

A Starlette app on uvicorn. Routes: ``/`` the page, ``/static/...`` its script, styles and
icon (from the package: nothing is fetched from elsewhere), ``/ws`` the page's socket (its
conversation: :mod:`shallowlab.playground.conversation`). The guards, each in one place:

- :class:`Guard` answers 400 to any HTTP request, and closes any WebSocket, whose ``Host`` is
  not the server's own ``host:port`` (or localhost / 127.0.0.1 / [::1] at its port): a page
  on another site that rebinds its DNS name to 127.0.0.1 is refused; every answer carries a
  Content-Security-Policy that lets the page load and connect only to this server;
- :func:`_socket` refuses a WebSocket whose ``Origin`` is not the server's own (403), and
  turns away sockets beyond ``max_sessions`` (a ``closing`` message, then 1013);
- uvicorn refuses WebSocket messages over 1 MiB (``ws_max_size``), closing that socket;
- :mod:`~shallowlab.playground.messages` checks every message; the conversation closes a
  socket idle for ``idle_timeout`` s or sending more than 200 messages a second.

Training runs in worker processes (:mod:`~shallowlab.playground.workers`), so this process
only moves messages and never imports torch.
"""

from __future__ import annotations

import socket as sockets
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from shallowlab.playground.conversation import Conversation
from shallowlab.playground.messages import MAX_FRAME
from shallowlab.playground.workers import Workers

STATIC = Path(__file__).parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", POLICY.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-cache")]


@dataclass
class Options:
    """Where the server listens and how much it takes; ``port`` is the bound one."""

    host: str = "127.0.0.1"
    port: int = 8765
    max_sessions: int = 32
    idle_timeout: float = 300.0
    extra_hosts: tuple[str, ...] = field(default=())  # other names the server answers to

    def hosts(self) -> set[str]:
        """The ``Host`` headers a request may carry: each name at the port."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        names = {*LOOPBACK, host.lower(), *(h.lower() for h in self.extra_hosts)}
        allowed = {f"{name}:{self.port}" for name in names}
        return allowed | (names if self.port == 80 else set())


class Guard:
    """ASGI middleware: the Host check for every request, security headers on every answer."""

    def __init__(self, app, hosts: set[str]) -> None:
        self.app, self.allowed = app, hosts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
        if host not in self.allowed:
            if scope["type"] == "websocket":
                await receive()  # the connect message; closing now refuses the handshake
                await send({"type": "websocket.close", "code": 1008})
                return
            text = f"this server answers to {sorted(self.allowed)[0]}, not {host[:60]!r}"
            return await PlainTextResponse(text, status_code=400)(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(options: Options, pool: Workers) -> Guard:
    """The playground's ASGI app for a server bound at ``options.host:options.port``, its
    sessions trained in ``pool``."""
    live: set[WebSocket] = set()

    async def page(request):
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def socket(ws: WebSocket) -> None:
        origin = ws.headers.get("origin", "")
        if origin.lower() != f"http://{ws.headers.get('host', '').lower()}":
            await ws.close(code=1008)  # before accepting: the handshake gets 403
            return
        await ws.accept()
        talk = Conversation(ws, pool, options.idle_timeout)
        if len(live) >= options.max_sessions:
            await talk.close(f"the server has {options.max_sessions} sessions open, its "
                             "limit; close another page and reload", code=1013)
            return
        live.add(ws)
        try:
            await talk.run()
        finally:
            live.discard(ws)

    app = Starlette(routes=[Route("/", page), Mount("/static", StaticFiles(directory=STATIC)),
                            WebSocketRoute("/ws", socket)])
    app.state.live = live
    return Guard(app, options.hosts())


def bind(host: str, port: int) -> sockets.socket:
    """A listening TCP socket at ``host:port`` (port 0: a free one); OSError if taken."""
    family = sockets.AF_INET6 if ":" in host else sockets.AF_INET
    sock = sockets.socket(family, sockets.SOCK_STREAM)
    sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def wildcard_names(host: str) -> tuple[str, ...]:
    """For a server on every interface (0.0.0.0, ::): this machine's names and addresses."""
    if host not in ("0.0.0.0", "::", ""):
        return ()
    name = sockets.gethostname()
    names = {name, sockets.getfqdn()}
    try:
        names |= {info[4][0] for info in sockets.getaddrinfo(name, None)}
    except OSError:
        pass
    return tuple(f"[{n}]" if ":" in n else n for n in sorted(names))


def serve(sock: sockets.socket, options: Options, pool: Workers) -> None:
    """Serve the playground on ``sock`` (from :func:`bind`), training in ``pool``, until
    interrupted."""
    import uvicorn

    config = uvicorn.Config(create_app(options, pool), ws_max_size=MAX_FRAME, log_level="warning",
                            lifespan="off", ws_ping_interval=20, ws_ping_timeout=20,
                            timeout_graceful_shutdown=2)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        pool.shutdown()
