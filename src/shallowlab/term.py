"""What a terminal gets that a log or a pipe does not: colour, the quiet log, and knowing
when the reader of a pipe has gone (``shallowlab runs | head -1``).

Colour follows no-color.org: only on a terminal, and never while ``NO_COLOR`` is set to
anything but the empty string, so a log file or a pipe always gets plain text. The progress
bar's own choice (a bar on a terminal, a line per epoch elsewhere) is made in
:func:`shallowlab.core.loop.fit`; :func:`silent`, the log of ``--quiet``, turns the bar off too.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable
from typing import TextIO

Log = Callable[[str], None]  # where a run says what it does: print, a file, silent
CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def is_tty(stream: TextIO | None) -> bool:
    """Whether ``stream`` is a terminal (a closed or replaced stream is not)."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def colour_on(stream: TextIO | None = None) -> bool:
    """Whether text for ``stream`` (stdout by default) may carry colour."""
    return not os.environ.get("NO_COLOR") and is_tty(stream or sys.stdout)


def colour(text: str, name: str, stream: TextIO | None = None) -> str:
    """``text`` in the colour ``name`` (a key of :data:`CODES`) where ``stream`` takes colour,
    else ``text`` unchanged."""
    return f"\x1b[{CODES[name]}m{text}\x1b[0m" if colour_on(stream) else text


def silent(line: str) -> None:
    """The log of ``--quiet``: says nothing, and a run given it shows no progress bar."""


def indented(log: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    """``log`` with ``prefix`` before each line; :func:`silent` stays itself (still quiet)."""
    return log if log is silent else lambda line: log(prefix + line)


def reader_gone(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (stdout by default) is a pipe whose reading end has closed, as
    ``head`` closes it once it has its lines: a write to it raises BrokenPipeError. Linux and
    macOS report that as POLLERR on the writing end; anything else (a pipe to a process that
    died, a socket) is not this case."""
    try:
        poll = select.poll()
        poll.register((stream or sys.stdout).fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):
        return False
