"""The run's figures drawn by a second process, while the run itself goes on.

Importing matplotlib takes about 0.7 s and drawing a figure 0.1 to 0.3 s: for a small
experiment, more than its training. :func:`start` forks, before the run imports torch, a
process that imports matplotlib, draws one throwaway figure (fonts, the Agg canvas) and waits;
:func:`draw` hands it a figure to draw, as a function and its arguments, and returns at once;
:func:`wait` returns when every PNG asked for is written, and raises the first drawing's error.
Matplotlib's import then overlaps torch's, and the drawing the rest of the run. On one core it
costs nothing more: the same import and drawing, done by another process.

A figure function takes plain data (numbers, lists, numpy arrays: :func:`plain` turns tensors
into arrays before they travel) and lives in a module that does not import torch
(:mod:`shallowlab.figures.plots`, :mod:`shallowlab.figures.lessons`), so the painter never imports
torch. Without a painter (a notebook, a library call) :func:`draw` draws in the calling
process: the same function on the same data, so the same PNG. If the painter dies, what it had
not drawn is drawn here.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable

from shallowlab.files import atomic_write

PR_SET_PDEATHSIG = 1  # Linux: a signal for the child when its parent dies
_HEADER = struct.Struct("<Q")


class _Channel:
    """Pickled objects over a pipe, each preceded by its length."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.reader, self.writer = os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb")

    def send(self, obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(_HEADER.pack(len(data)) + data)
        self.writer.flush()

    def recv(self):
        header = self.reader.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise EOFError("the other end closed the pipe")
        return pickle.loads(self.reader.read(_HEADER.unpack(header)[0]))

    def close(self) -> None:
        for f in (self.writer, self.reader):
            try:
                f.close()
            except OSError:
                pass


_channel: _Channel | None = None
_pid: int | None = None
_pending: list[tuple] = []  # the jobs sent and not yet answered, in order


def start() -> None:
    """Fork the painter, once per process (Linux and macOS; elsewhere figures are drawn here)."""
    global _channel, _pid
    if _channel is not None or not hasattr(os, "fork"):
        return
    jobs_r, jobs_w = os.pipe()
    replies_r, replies_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the painter
        os.close(jobs_w)
        os.close(replies_r)
        _serve(_Channel(jobs_r, replies_w))  # never returns
    os.close(jobs_r)
    os.close(replies_w)
    _channel, _pid = _Channel(replies_r, jobs_w), pid


def draw(path: str | os.PathLike, function: Callable, *args, **kwargs) -> None:
    """Draw ``function(*args, **kwargs)`` (a matplotlib Figure) into the PNG file ``path``.

    By the painter when there is one (return at once; :func:`wait` for it), else here.
    """
    job = (str(path), function, plain(args), plain(kwargs))
    if _channel is not None:
        try:
            _channel.send(job)
            _pending.append(job)
            return
        except (OSError, ValueError):  # the painter is gone: draw here from now on
            _take_over()
    _render(*job)


def wait() -> None:
    """Return when every figure :func:`draw` was given is written; raise the first error."""
    first = None
    while _pending:
        try:
            error = _channel.recv()
        except (EOFError, OSError, pickle.UnpicklingError):  # the painter died
            _take_over()
            break
        _pending.pop(0)
        first = first or error
    if first is not None:
        raise first


def plain(value):
    """``value`` with every tensor in it (in lists, tuples, dicts) as a numpy array."""
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    torch = sys.modules.get("torch")  # a tensor exists only where torch is imported
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return (value.float() if value.dtype == torch.bfloat16 else value).numpy()
    return value


def _render(path: str, function: Callable, args: tuple, kwargs: dict) -> None:
    from shallowlab.figures import plots

    fig = function(*args, **kwargs)
    try:
        atomic_write(path, plots.png_bytes(fig))
    finally:
        plots.close(fig)


def _take_over() -> None:
    """Draw here what the painter was given and did not draw, and go on without it."""
    jobs = list(_pending)
    _stop()
    for job in jobs:
        _render(*job)


def _stop() -> None:
    global _channel, _pid
    if _channel is not None:
        _channel.close()
    if _pid is not None:
        try:
            os.waitpid(_pid, 0)
        except ChildProcessError:
            pass
    _channel, _pid = None, None
    _pending.clear()


def _serve(channel: _Channel) -> None:
    """The painter's life: warm up, then draw each job and answer None or its error."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the run; it closes the pipe
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if sys.platform.startswith("linux"):  # end with the run, even if it is killed
            import ctypes

            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        from shallowlab.figures import plots

        plots.warm_up()
        while True:
            try:
                job = channel.recv()
            except EOFError:
                break
            except Exception as e:  # a job that cannot be unpickled here
                channel.send(RuntimeError(f"the painter could not read a figure: {e}"))
                continue
            try:
                _render(*job)
                channel.send(None)
            except Exception as e:
                channel.send(_picklable(e))
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never the parent's exit handlers, nor its buffered output


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
