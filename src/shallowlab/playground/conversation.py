"""One page's conversation with the server over its WebSocket: messages in, frames out.

The socket's messages are read one at a time (:meth:`Conversation.run`); each is checked by
:func:`~shallowlab.playground.messages.parse` and answered (a frame, ``ready``, ``export``, or
``error`` with one line, after which the session goes on as before). While playing, a second
task trains (:func:`~shallowlab.playground.workers.play`: ``speed`` epochs, or a time slice),
sends the frame, and waits whenever two frames are not yet acknowledged: the page's drawing
paces the training, so a slow page is never buried in frames.

The page's session lives in one of the server's worker processes
(:mod:`~shallowlab.playground.workers`); a lock keeps its calls in order. The socket is closed
(after a ``closing`` message saying why) when no message came for ``idle_timeout`` seconds or
more than 200 came in a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import traceback

from shallowlab.playground import workers
from shallowlab.playground.messages import MAX_RATE, Rate, parse
from shallowlab.playground.settings import PlaygroundError, Settings

IN_FLIGHT = 2  # frames sent but not yet drawn, while playing


class Closed(Exception):
    """The conversation is over: the client left, or the server closed the socket."""


class Conversation:
    """The session of one socket; ``socket`` is Starlette's WebSocket (accepted)."""

    def __init__(self, socket, pool: workers.Workers, idle_timeout: float) -> None:
        self.socket, self.pool, self.idle_timeout = socket, pool, idle_timeout
        self.worker = self.sid = 0  # given by the pool when the conversation runs
        self.settings: Settings | None = None  # the session's, once there is one
        self._playing, self.speed = False, 1
        self.sent = self.acked = 0
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.rate = Rate()

    async def run(self) -> None:
        """Read and answer messages until the client leaves or is sent away."""
        self.worker, self.sid = self.pool.assign()
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
            self.pool.release(self.worker, self.sid)

    @property
    def playing(self) -> bool:
        return self._playing

    @playing.setter
    def playing(self, on: bool) -> None:  # the worker's count of playing pages follows
        if on != self._playing:
            self.pool.playing[self.worker] += 1 if on else -1
        self._playing = on

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
        await self._start(settings)

    async def _on_upload(self, request: dict) -> None:
        task = await self._work(workers.read_upload, self.sid, request["csv"])
        base = Settings.from_query(request["query"]) if "query" in request else \
            self.settings or Settings()
        loss = "mse" if task == "regress" else base.loss
        await self._start(dataclasses.replace(base, data="upload", loss=loss))

    async def _start(self, settings: Settings) -> None:
        self.playing = False
        async with self.lock:
            ready = await self._work(workers.open_session, self.sid, settings,
                                     settings.data == "upload")
            self.settings = settings
            await self._send(ready)
            await self._frame()

    async def _on_play(self, request: dict) -> None:
        self._need_session()
        self.speed = request.get("speed", self.speed)
        self.acked = self.sent  # the page acknowledges only frames drawn while playing
        self.playing = True
        self.wake.set()

    async def _on_pause(self, request: dict) -> None:
        await self._control("frame")

    async def _on_step(self, request: dict) -> None:
        await self._control("step")

    async def _on_reset(self, request: dict) -> None:
        await self._control("reset")

    async def _on_back(self, request: dict) -> None:
        went = await self._control("back")
        if went is False:
            await self._send({"type": "error", "message": "no earlier step is kept to go back "
                              "to (the history holds about 4 MiB of the latest steps)"})

    async def _control(self, action: str):
        """Pause, do ``action`` to the session in its worker, and send the frame after it."""
        self._need_session()
        self.playing = False
        async with self.lock:
            return await self._frame(action)

    async def _on_ack(self, request: dict) -> None:
        self.acked = max(self.acked, min(request["frame"], self.sent))
        self.wake.set()

    async def _on_export(self, request: dict) -> None:
        self._need_session()
        flavour = request.get("flavour", "pytorch")
        text = await self._work(workers.export, self.sid, flavour)
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
                self.sent += 1
                stopped, frame = await self._work(workers.play, self.sid, self.speed, self.sent,
                                                  self.pool.budget(self.worker))
                if stopped:
                    self.playing = False
                await self._send(frame)
            if stopped:
                await self._send({"type": "stopped", "reason": stopped})

    # --- plumbing -------------------------------------------------------------------------

    def _need_session(self) -> None:
        if self.settings is None:
            raise PlaygroundError("no network yet: send a configure message first")

    async def _work(self, function, *args):
        """``function(*args)`` in this page's worker process."""
        return await self.pool.call(self.worker, function, *args)

    async def _frame(self, action: str = "frame"):
        """Do ``action`` (:func:`~shallowlab.playground.workers.control`) to the session and
        send the frame after it; what the action returned."""
        self.sent += 1
        result, frame = await self._work(workers.control, self.sid, action, self.sent)
        await self._send(frame)
        return result

    async def _send(self, message: dict | bytes) -> None:
        try:
            if isinstance(message, bytes):
                await self.socket.send_bytes(message)
            else:
                await self.socket.send_text(json.dumps(message, separators=(",", ":")))
        except Exception as e:  # the client went away in the middle
            raise Closed() from e

