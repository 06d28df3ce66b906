"""What a page may send the server, checked before anything acts on it.

A client message is one JSON object of text with a ``type``; :func:`parse` turns it into a
dict or raises :class:`PlaygroundError` with one line for the page. Nothing a client sends is
evaluated: it is parsed as JSON (no NaN or Infinity, no number past 10**15, at most
``MAX_DEPTH`` levels deep), its keys checked against the type's own, its values against their
types and ranges; the settings inside ``configure`` are then checked by ``Settings.from_json``.

Sizes: a message is at most ``MAX_TEXT`` characters, an upload's CSV at most ``MAX_CSV`` bytes
(UTF-8) and its message at most that plus ``MAX_TEXT``; the WebSocket layer refuses anything
over ``MAX_FRAME`` before it is read. ``Rate`` counts messages: at most ``MAX_RATE`` a second.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque

from shallowlab.playground import PlaygroundError

MAX_TEXT = 64 * 1024
MAX_CSV = 512 * 1024
MAX_FRAME = 1024 * 1024
MAX_DEPTH = 8
MAX_RATE = 200
MAX_NUMBER = 10**15
FLAVOURS = ("pytorch", "shallowlab")
# each type's keys besides "type": name -> (required, check)
TYPES = {
    "configure": {"settings": False, "query": False},
    "upload": {"name": True, "csv": True, "query": False},
    "play": {"speed": False},
    "pause": {}, "step": {}, "back": {}, "reset": {},
    "ack": {"frame": True},
    "export": {"flavour": False},
}


def _no_constant(name: str):
    raise PlaygroundError(f"a message holds {name}, which is not a number; send finite numbers")


def _depth(value) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _numbers_ok(value) -> bool:
    """No number in ``value`` is infinite or larger in size than ``MAX_NUMBER``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            if not math.isfinite(item) or abs(item) > MAX_NUMBER:
                return False
    return True


def parse(text: str) -> dict:
    """One client message, checked; raises :class:`PlaygroundError` naming what is wrong."""
    if len(text) > MAX_CSV + MAX_TEXT:
        raise PlaygroundError(f"a message of {len(text)} characters is too large; "
                              f"an upload takes a CSV of {MAX_CSV // 1024} KiB at most")
    try:
        message = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise PlaygroundError(f"a message nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as e:  # JSONDecodeError, or an integer of thousands of digits
        raise PlaygroundError(f"a message is not JSON ({str(e).splitlines()[0]})") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise PlaygroundError('a message must be a JSON object with a "type"')
    kind = message["type"]
    if kind not in TYPES:
        raise PlaygroundError(f"unknown message type {kind[:40]!r}; the types are "
                              + ", ".join(TYPES))
    if kind != "upload" and len(text) > MAX_TEXT:
        raise PlaygroundError(f"a {kind} message of {len(text)} characters is too large "
                              f"({MAX_TEXT // 1024} KiB at most)")
    if _depth(message) > MAX_DEPTH:
        raise PlaygroundError(f"a message nests deeper than {MAX_DEPTH} levels")
    if not _numbers_ok(message):
        raise PlaygroundError(f"a message holds a number beyond {MAX_NUMBER:.0e}")
    keys = TYPES[kind]
    extra = sorted(set(message) - set(keys) - {"type"})
    if extra:
        raise PlaygroundError(f"a {kind} message has no field {extra[0][:40]!r}")
    missing = [k for k, required in keys.items() if required and k not in message]
    if missing:
        raise PlaygroundError(f"a {kind} message needs the field {missing[0]!r}")
    _check_fields(kind, message)
    return message


def _check_fields(kind: str, message: dict) -> None:
    def text(key: str, limit: int) -> None:
        if key in message and (not isinstance(message[key], str) or len(message[key]) > limit):
            raise PlaygroundError(f"{kind}: {key!r} must be text of at most {limit} characters")

    if kind == "configure":
        if ("settings" in message) == ("query" in message):
            raise PlaygroundError('configure: give either "settings" or "query"')
        if "settings" in message and not isinstance(message["settings"], dict):
            raise PlaygroundError('configure: "settings" must be a JSON object')
        text("query", 4096)
    elif kind == "upload":
        text("name", 255)
        text("query", 4096)
        if not isinstance(message["csv"], str):
            raise PlaygroundError('upload: "csv" must be the file\'s text')
        size = len(message["csv"].encode("utf-8", "surrogatepass"))
        if size > MAX_CSV:
            raise PlaygroundError(f"{_name(message)} is {size / 1024:.0f} KiB; the playground "
                                  f"takes a CSV of {MAX_CSV // 1024} KiB at most (5000 rows)")
    elif kind == "play" and "speed" in message:
        _integer(message["speed"], 1, 10, "play: 'speed' (epochs between frames)")
    elif kind == "ack":
        _integer(message["frame"], 0, 2**53, "ack: 'frame'")
    elif kind == "export":
        if message.get("flavour", "pytorch") not in FLAVOURS:
            raise PlaygroundError("export: 'flavour' is pytorch or shallowlab")


def _name(message: dict) -> str:
    name = message.get("name") or "the CSV"
    return name if name.isprintable() else "the CSV"


def _integer(value, low: int, high: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlaygroundError(f"{what} must be a whole number from {low} to {high}")


class Rate:
    """At most ``limit`` messages in any second: ``allow()`` is False for the one too many."""

    def __init__(self, limit: int = MAX_RATE, clock=time.monotonic) -> None:
        self.limit, self.clock, self.times = limit, clock, deque(maxlen=limit)

    def allow(self) -> bool:
        now = self.clock()
        full = len(self.times) == self.limit and now - self.times[0] < 1.0
        self.times.append(now)
        return not full
