"""Trials on this machine: each a ``shallowlab run`` process of its own, ``workers`` at once.

A trial that crashes, diverges or runs out of memory ends its own process only. Each trial
process holds a lock on ``.lock`` in its folder for as long as it lives (an inherited file
descriptor, so the lock outlives the sweep that started it), and dies with a SIGTERM when the
sweep's process dies, even by ``kill -9`` (Linux's parent-death signal): it then records
itself interrupted and checkpoints, as ``shallowlab run`` does. A resumed sweep takes each
trial's lock before touching its folder, so it never runs a trial twice at once.

On Ctrl-C (or SIGTERM) the sweep sends SIGTERM to its running trials, waits for them to save
their state, and raises KeyboardInterrupt.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from shallowlab.sweep.jobs import Job

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.05
LOCK = ".lock"


STOPS = {signal.SIGINT, signal.SIGTERM}


def die_with_parent() -> None:  # runs in the child between fork and exec
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def stops_held():
    """Hold Ctrl-C and SIGTERM until the block ends: one arriving while a trial's process is
    forked would be lost in the fork's handlers, or leave a process the sweep does not know."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def lock_trial(folder: Path, log: Callable[[str], None]):
    """An open file holding ``folder``'s trial lock; waits while an older process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = open(folder / LOCK, "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log(f"   waiting for the process still running {folder.name} from before to stop")
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def _start(job: Job, lock, threads: int) -> subprocess.Popen:
    job.prepare()  # after the lock: the folder is ours now
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    try:
        with open(job.folder / "run.log", "ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "shallowlab", *job.argv(job.folder)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                pass_fds=[lock.fileno()], start_new_session=True,
                preexec_fn=die_with_parent)
    finally:
        lock.close()  # the child's copy holds the lock now


def run_local(jobs: list[Job], workers: int, threads: int,
              done: Callable[[Job, int], None], log: Callable[[str], None] = print) -> None:
    """Run ``jobs``, ``workers`` at a time; call ``done(job, exit_status)`` as each ends."""
    pending, running = deque(jobs), {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.popleft()
                lock = lock_trial(job.folder, log)
                with stops_held():
                    running[_start(job, lock, threads)] = job
            time.sleep(POLL_SECONDS)
            for process in [p for p in running if p.poll() is not None]:
                done(running.pop(process), process.returncode)
    except KeyboardInterrupt:
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process, job in running.items():
            status = process.wait()  # killed before it could handle SIGTERM: interrupted too
            done(job, 130 if status == -signal.SIGTERM else status)
        raise
