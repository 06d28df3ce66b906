"""Where sessions train: worker processes, each holding the sessions of some pages.

Why processes and not threads: a playground network is small, so a training step is many
small PyTorch calls, each taking and dropping the GIL. Two training threads in one process
spent their time waiting for it (measured on 2 cores: 30 pages got 2.6 to 5.2 frames a second
each; one thread gave 5.6, with no room for a larger network beside them). A worker process
per core (:data:`MAX_WORKERS` at most, about 300 MB each with PyTorch) trains without that
contention, and the server's own process only moves messages and never imports torch.

A page's session lives in one worker, chosen when the page connects (the one with the fewest
sessions), and stays there: its weights never cross a process boundary, only settings in and
frames (bytes) and small dicts out. Each worker answers one call at a time, in order, and a
page has at most one call waiting, so the pages of a worker take turns. One call of
:func:`play` trains for at most ``budget`` seconds (whole epochs when they fit; otherwise a
slice of minibatches): ``1 / (UPDATES n)`` for the ``n`` pages playing on that worker. Alone, a
page trains whole epochs between frames (the page asks for 30 or more a second); when a class
of 30 plays at once on 2 cores, each still sees its network move about ``UPDATES`` times a
second, with less training between frames, and a large network cannot hold the others up.

A worker that dies (killed, out of memory) is replaced by a new one; the pages whose sessions
it held are told to reload.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from shallowlab.playground.settings import PlaygroundError, Settings

MAX_WORKERS = 3  # about 310 MB each (PyTorch): 3 and 30 pages stay well under 1.5 GB
UPDATES = 10  # frames a second each playing page should get, however many share its worker

# --- in a worker process ----------------------------------------------------------------------

_sessions: dict = {}  # id -> Session
_uploads: dict = {}  # id -> the Points of that page's last upload
_pace: dict[int, float] = {}  # id -> seconds one minibatch took, lately


def _start_worker(parent: int) -> None:
    """A worker's set-up: one thread for PyTorch (the workers are the parallelism), the first
    optimizer steps done (they import ``torch._dynamo``, about 2 s), and an exit when the
    server process is gone (killed, so that it could not stop its workers)."""
    import torch

    torch.set_num_threads(1)
    warm()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def warm() -> None:
    """Build and step a tiny session of each optimizer once."""
    from shallowlab.playground import Session

    for optimizer in ("sgd", "adam"):
        Session(Settings(points=50, layers=(), optimizer=optimizer)).step(1)


def _session(sid: int):
    try:
        return _sessions[sid]
    except KeyError:
        raise PlaygroundError("no network yet: send a configure message first") from None


def open_session(sid: int, settings: Settings, upload: bool) -> dict:
    """A new session for page ``sid`` (on its last upload when ``upload``); the ``ready``
    message for the page."""
    from shallowlab.playground import PRESETS, Session

    if upload and sid not in _uploads:
        raise PlaygroundError("data 'upload': choose a CSV file to upload first")
    session = Session(settings, _uploads[sid] if upload else None)
    _sessions[sid] = session
    _pace.pop(sid, None)
    return {"type": "ready", "settings": session.settings.to_json(),
            "query": session.settings.to_query(), "points": session.points_json(),
            "presets": [{"name": p.name, "title": p.title, "query": p.query, "why": p.why}
                        for p in PRESETS]}


def read_upload(sid: int, text: str) -> str:
    """Check and keep page ``sid``'s CSV; the task it holds (``classify`` or ``regress``)."""
    from shallowlab.playground import from_csv

    points = from_csv(text)
    _uploads[sid] = points
    return points.task


def close_session(sid: int) -> None:
    for kept in (_sessions, _uploads, _pace):
        kept.pop(sid, None)


def control(sid: int, action: str, number: int) -> tuple[object, bytes]:
    """``step`` (one minibatch), ``reset``, ``back`` or ``frame`` (nothing) on page ``sid``'s
    session: what the action returned, and the frame ``number`` after it (not playing)."""
    session = _session(sid)
    result = {"step": lambda: session.step(1), "reset": session.reset, "back": session.back,
              "frame": lambda: None}[action]()
    return result, session.frame(number, False)


def play(sid: int, speed: int, number: int, budget: float) -> tuple[str | None, bytes]:
    """Train page ``sid``'s session ``speed`` epochs, or for ``budget`` seconds when that is
    less (to the minibatch: a slice of an epoch if one epoch takes longer; at least one
    minibatch); why it stopped (a stop rule, or None) and the frame ``number`` after it.

    The minibatches that fit are ``left seconds / seconds a minibatch took`` in the previous
    call (one, to measure, in the session's first)."""
    session = _session(sid)
    end, goal = time.perf_counter() + budget, session.epoch_count + speed
    while True:
        per_step = _pace.get(sid)
        fit = 1 if per_step is None else int((end - time.perf_counter()) / per_step)
        steps = max(1, min(session.steps_left, fit))
        t0, before = time.perf_counter(), session.step_count
        session.step(steps)
        if session.step_count > before:
            _pace[sid] = (time.perf_counter() - t0) / (session.step_count - before)
        if session.stopped() or session.epoch_count >= goal or time.perf_counter() >= end:
            break
    stopped = session.stopped()
    return stopped, session.frame(number, stopped is None)


def export(sid: int, flavour: str) -> str:
    """The script that reproduces page ``sid``'s session on its own."""
    from shallowlab.playground import script

    session = _session(sid)
    points = session.points if session.settings.data == "upload" else None
    return script(session.settings, flavour, points)


# --- in the server process --------------------------------------------------------------------


class Workers:
    """The server's worker processes, and which pages each one holds."""

    def __init__(self, count: int) -> None:
        self.count = max(1, min(MAX_WORKERS, count))
        self.pools = [self._new() for _ in range(self.count)]
        self.pages = [0] * self.count
        self.playing = [0] * self.count  # pages playing, kept by their conversations
        self.ids = itertools.count(1)
        # started now, in parallel: the first page should not wait for torch's import
        self.started = [pool.submit(int) for pool in self.pools]

    def wait(self, timeout: float = 120.0) -> None:
        """Until every worker has imported torch and warmed up."""
        for started in self.started:
            started.result(timeout)

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(os.getpid(),))

    def assign(self) -> tuple[int, int]:
        """A new page's worker (the least busy) and its session id."""
        worker = min(range(self.count), key=self.pages.__getitem__)
        self.pages[worker] += 1
        return worker, next(self.ids)

    def budget(self, worker: int) -> float:
        """Seconds of training one play call on ``worker`` may take now."""
        return 1.0 / (UPDATES * max(1, self.playing[worker]))

    def release(self, worker: int, sid: int) -> None:
        """The page has gone: its session is dropped and its place freed."""
        self.pages[worker] -= 1
        try:
            self.pools[worker].submit(close_session, sid)
        except (BrokenProcessPool, RuntimeError):
            pass

    async def call(self, worker: int, function, *args):
        """``function(*args)`` in ``worker``, awaited; a dead worker is replaced and the page
        told to reload (its session died with it)."""
        pool = self.pools[worker]
        try:
            return await asyncio.wrap_future(pool.submit(function, *args))
        except BrokenProcessPool:
            if self.pools[worker] is pool:
                self.pools[worker] = self._new()
                pool.shutdown(wait=False)
            raise PlaygroundError("the process training this page stopped (out of memory, or "
                                  "killed); reload the page to start again") from None

    def shutdown(self) -> None:
        """Stop the workers: each ends the call under way (a tenth of a second at most while
        playing) and exits."""
        for pool in self.pools:
            pool.shutdown(wait=False, cancel_futures=True)
        for pool in self.pools:
            pool.shutdown(wait=True)
