"""``shallowlab playground``: serve the live page of a network learning, and open it.

Binds 127.0.0.1 unless ``--host`` says otherwise (then a warning line: anyone who can reach
that address can use the page and this machine's CPU). ``--port 0`` takes a free port. The
line ``playground: http://HOST:PORT/`` is printed once the socket listens and the worker
processes that train are warm, so a script can read where to go, and go at once, from the
first line of the output.
"""

from __future__ import annotations

import argparse
import os
import sys

from shallowlab.cli.flags import EXIT_INTERRUPTED, EXIT_OK, usable_cpus
from shallowlab.errors import ConfigError, ShallowlabError
from shallowlab.term import colour

LOCAL = ("127.0.0.1", "localhost", "::1")


def add_parser(sub) -> None:
    p = sub.add_parser("playground", help="a network learning live in the browser: data, "
                       "layers and units drawn as they train (needs the playground extra)")
    p.add_argument("--port", type=int, default=8765, metavar="P",
                   help="the port to listen on (default 8765; 0 takes a free one)")
    p.add_argument("--host", default="127.0.0.1", metavar="H",
                   help="the address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--no-browser", action="store_true",
                   help="only print the address; do not open a browser")
    p.add_argument("--max-sessions", type=int, default=32, metavar="N",
                   help="pages served at once (default 32); more are turned away")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="processes that train the sessions (default: one a core, at most 3)")
    p.add_argument("--idle-timeout", type=float, default=300.0, metavar="S",
                   help="free a page's session after S seconds without a message (default 300)")


def command(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: give a port from 1 to 65535, or 0 for a free one")
    if args.workers < 0:
        raise ConfigError(f"--workers {args.workers}: give 1 or more (0: one a core)")
    if args.max_sessions < 1 or not 1 <= args.idle_timeout <= 86400:
        raise ConfigError("--max-sessions takes 1 or more, --idle-timeout 1 to 86400 seconds")
    try:
        from shallowlab.playground import server
    except ImportError as e:
        raise ShallowlabError(f"the playground needs its extra ({e.name} is missing): "
                              "pip install -e '.[playground]'") from None
    try:
        sock = server.bind(args.host, args.port)
    except OSError as e:
        raise ShallowlabError(f"cannot listen on {args.host}:{args.port} ({e.strerror}); "
                              "give another --port (0 takes a free one)") from None
    pool = server.Workers(args.workers or usable_cpus())
    pool.wait()
    port = sock.getsockname()[1]
    options = server.Options(args.host, port, args.max_sessions, args.idle_timeout,
                             server.wildcard_names(args.host))
    if args.host not in LOCAL:
        print(f"shallowlab: {colour('warning:', 'yellow', sys.stderr)} --host {args.host}: "
              "other machines that reach this address can use the playground and this "
              "machine's CPU; there is no password", file=sys.stderr)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    url = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"
    try:  # from the moment the address is out, an interrupt is a stop
        print(f"playground: {url}  (Ctrl-C stops it)", flush=True)
        if not args.no_browser:
            _open(url)
        server.serve(sock, options, pool)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: uvicorn has closed the sockets
        print("playground: stopped", flush=True)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _open(url: str) -> None:
    """The default browser at ``url``, where there is a screen to show it on."""
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        print("playground: no display here; open the address above in a browser", flush=True)
        return
    if not webbrowser.open(url):
        print("playground: no browser found; open the address above in one", flush=True)
