"""One page's conversation with the server over its WebSocket: messages in, frames out.

The socket's messages are read one at a time (:meth:`Conversation.run`); each is checked by
:func:`~shallowlab.playground.messages.parse` and answered (a frame, ``ready``, ``export``, or
``error`` with one line, after which the session goes on as before). While playing, a second
task trains ``speed`` epochs, sends a frame, and waits whenever two frames are not yet
acknowledged: the page's drawing paces the training, so a slow page is never buried in frames.

Training and frames run on the server's thread pool, never on the event loop; a lock keeps one
session's work in order. The socket is closed (after a ``closing`` message saying why) when
no message came for ``idle_timeout`` seconds or more than 200 came in a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import traceback
from concurrent.futures import Executor

from shallowlab.playground import PlaygroundError, Settings, from_csv
from shallowlab.playground.messages import MAX_RATE, Rate, parse
from shallowlab.playground.session import Session

IN_FLIGHT = 2  # frames sent but not yet drawn, while playing


class Closed(Exception):
    """The conversation is over: the client left, or the server closed the socket."""


class Conversation:
    """The session of one socket; ``socket`` is Starlette's WebSocket (accepted)."""

    def __init__(self, socket, pool: Executor, idle_timeout: float) -> None:
        self.socket, self.pool, self.idle_timeout = socket, pool, idle_timeout
        self.session: Session | None = None
        self.points = None  # the last upload's points, kept for a new network on them
        self.playing, self.speed = False, 1
        self.sent = self.acked = 0
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.rate = Rate()

    async def run(self) -> None:
        """Read and answer messages until the client leaves or is sent away."""
        player = asyncio.create_task(self._play())
        try:
            while True:
                try:
                    message = await asyncio.wait_for(self.socket.receive(), self.idle_timeout)
                except asyncio.TimeoutError:
                    await self.close(f"no message for {self.idle_timeout:g} s: this session is "
                                     "freed; reload the page to start again")
                    return
                if message["type"] == "websocket.disconnect":
                    return
                if not self.rate.allow():
                    await self.close(f"more than {MAX_RATE} messages a second")
                    return
                await self._answer(message)
        except Closed:
            return
        finally:
            player.cancel()
            self.playing = False

    async def close(self, reason: str, code: int = 1008) -> None:
        """Say why in a ``closing`` message, then close the socket."""
        try:
            await self._send({"type": "closing", "reason": reason})
            await self.socket.close(code=code, reason=reason[:120])
        except Closed:
            pass

    # --- answering ------------------------------------------------------------------------

    async def _answer(self, message: dict) -> None:
        text = message.get("text")
        try:
            if text is None:
                raise PlaygroundError("a message must be JSON text, not binary")
            request = parse(text)
            await getattr(self, f"_on_{request['type']}")(request)
        except PlaygroundError as e:
            await self._send({"type": "error", "message": str(e)})
        except Closed:
            raise
        except Exception as e:  # a bug of ours: said in one line, logged in full
            traceback.print_exc(file=sys.stderr)
            await self._send({"type": "error", "message": f"the server failed on this "
                              f"message ({type(e).__name__}); reset or reload the page"})

    async def _on_configure(self, request: dict) -> None:
        settings = Settings.from_json(request["settings"]) if "settings" in request \
            else Settings.from_query(request["query"])
        if settings.data == "upload" and self.points is None:
            raise PlaygroundError("data 'upload': choose a CSV file to upload first")
        await self._start(settings, self.points if settings.data == "upload" else None)

    async def _on_upload(self, request: dict) -> None:
        points = await self._work(from_csv, request["csv"])
        base = Settings.from_query(request["query"]) if "query" in request else \
            self.session.settings if self.session else Settings()
        loss = "mse" if points.task == "regress" else base.loss
        settings = dataclasses.replace(base, data="upload", loss=loss)
        await self._start(settings, points)
        self.points = points

    async def _start(self, settings: Settings, points) -> None:
        self.playing = False
        async with self.lock:
            session = await self._work(Session, settings, points)
            ready = await self._work(_ready, session)
            self.session = session
            await self._send(ready)
            await self._frame()

    async def _on_play(self, request: dict) -> None:
        self._need_session()
        self.speed = request.get("speed", self.speed)
        self.acked = self.sent  # the page acknowledges only frames drawn while playing
        self.playing = True
        self.wake.set()

    async def _on_pause(self, request: dict) -> None:
        await self._control(None)

    async def _on_step(self, request: dict) -> None:
        await self._control(lambda s: s.step(1))

    async def _on_reset(self, request: dict) -> None:
        await self._control(lambda s: s.reset())

    async def _on_back(self, request: dict) -> None:
        went = await self._control(lambda s: s.back())
        if went is False:
            await self._send({"type": "error", "message": "no earlier step is kept to go back "
                              "to (the history holds about 4 MiB of the latest steps)"})

    async def _control(self, action):
        """Pause, apply ``action`` to the session in the pool, and send the frame after it."""
        self._need_session()
        self.playing = False
        async with self.lock:
            result = None if action is None else await self._work(action, self.session)
            await self._frame()
        return result

    async def _on_ack(self, request: dict) -> None:
        self.acked = max(self.acked, min(request["frame"], self.sent))
        self.wake.set()

    async def _on_export(self, request: dict) -> None:
        from shallowlab.playground import script

        session = self._need_session()
        flavour = request.get("flavour", "pytorch")
        points = session.points if session.settings.data == "upload" else None
        text = await self._work(script, session.settings, flavour, points)
        await self._send({"type": "export", "flavour": flavour, "script": text})

    # --- playing --------------------------------------------------------------------------

    async def _play(self) -> None:
        """While playing: train, send a frame, and wait for the page to keep up."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                await self._play_while_acked()
            except Closed:
                return
            except Exception as e:  # a bug of ours: said, logged, and play stops
                traceback.print_exc(file=sys.stderr)
                self.playing = False
                await self._send({"type": "error", "message": f"training failed "
                                  f"({type(e).__name__}); reset or reload the page"})

    async def _play_while_acked(self) -> None:
        while self.playing and self.sent - self.acked < IN_FLIGHT:
            async with self.lock:
                if not self.playing:
                    return
                stopped = await self._work(_epochs, self.session, self.speed)
                if stopped:
                    self.playing = False
                await self._frame(playing=not stopped)
            if stopped:
                await self._send({"type": "stopped", "reason": stopped})

    # --- plumbing -------------------------------------------------------------------------

    def _need_session(self) -> Session:
        if self.session is None:
            raise PlaygroundError("no network yet: send a configure message first")
        return self.session

    async def _work(self, function, *args):
        """``function(*args)`` on the pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)

    async def _frame(self, playing: bool | None = None) -> None:
        self.sent += 1
        playing = self.playing if playing is None else playing
        frame = await self._work(self.session.frame, self.sent, playing)
        await self._send(frame)

    async def _send(self, message: dict | bytes) -> None:
        try:
            if isinstance(message, bytes):
                await self.socket.send_bytes(message)
            else:
                await self.socket.send_text(json.dumps(message, separators=(",", ":")))
        except Exception as e:  # the client went away in the middle
            raise Closed() from e


def _epochs(session: Session, speed: int) -> str | None:
    """``speed`` epochs, fewer if the stop rule is met first; its reason, or None."""
    for _ in range(speed):
        session.epoch()
        if session.stopped():
            return session.stopped()
    return None


def _ready(session: Session) -> dict:
    from shallowlab.playground import PRESETS

    return {"type": "ready", "settings": session.settings.to_json(),
            "query": session.settings.to_query(), "points": session.points_json(),
            "presets": [{"name": p.name, "title": p.title, "query": p.query, "why": p.why}
                        for p in PRESETS]}
