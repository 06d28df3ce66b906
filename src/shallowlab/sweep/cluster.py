"""Trials on a Ray cluster: Ray's scheduler places them, Ray's retries survive a lost node.

Each trial is one Ray task (``num_cpus`` CPUs of the cluster) that runs ``shallowlab run``
in a temporary folder on whichever node Ray picks, and returns every file the run left; the
sweep writes them into the trial's folder on the machine that started the sweep, so that
folder ends up complete though the nodes share no disk. A trial resumed from a checkpoint is
sent its folder first. When a node dies, Ray runs its trials again elsewhere (``max_retries``);
a rerun starts from the files the task was sent, so its history is the same.

Ray is an optional dependency: ``pip install 'shallowlab[ray]'``, on every node.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from shallowlab.errors import ConfigError, ShallowlabError
from shallowlab.files import atomic_write
from shallowlab.sweep.jobs import Job
from shallowlab.sweep.local import LOCK, die_with_parent

RETRIES = 5  # times Ray reruns a trial whose node or worker process died
SKIP = {LOCK}  # never sent or received


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in SKIP and not p.name.endswith(".tmp")}


def _put(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)


def run_trial(argv: list[str], files: dict[str, bytes], threads: int) -> tuple[int, dict]:
    """Run ``shallowlab`` with ``argv`` in a fresh folder ``trial`` that first holds
    ``files``; return its exit status and every file it left. Runs on a Ray worker."""
    with tempfile.TemporaryDirectory(prefix="shallowlab-trial-") as tmp:
        folder = Path(tmp) / "trial"
        folder.mkdir()
        _put(folder, files)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        with open(folder / "run.log", "ab") as out:
            status = subprocess.run([sys.executable, "-m", "shallowlab", *argv], cwd=tmp,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env,
                                    preexec_fn=die_with_parent).returncode
        return status, _files(folder)


def _reachable(address: str) -> None:
    """A one-line error now, rather than Ray's retries for a minute, where nothing listens."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--ray {address} is not an address: give HOST:PORT of the cluster's "
                          "head (ray start --head prints it), or auto")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise ShallowlabError(f"--ray {address}: no Ray cluster answers there ({e.strerror or e})"
                              "; start one with `ray start --head`, or check the address") \
            from None


def connect(address: str):
    """The ``ray`` module, connected to the cluster at ``address`` (``HOST:PORT`` or auto)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray, which is not installed: pip install "
                          "'shallowlab[ray]'") from None
    if address != "auto":
        _reachable(address)
    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ShallowlabError(f"--ray {address}: cannot join the cluster ({first}); start one "
                              "with `ray start --head`, or check the address") from None
    return ray


def run_ray(ray, jobs: list[Job], cpus: float, threads: int,
            done: Callable[..., None], log: Callable[[str], None] = print) -> None:
    """Run ``jobs`` as Ray tasks of ``cpus`` CPUs; ``done(job, exit_status, error)`` as each
    ends, after its files are in its folder."""
    task = ray.remote(run_trial).options(num_cpus=cpus, max_retries=RETRIES)
    pending = {}
    for job in jobs:
        job.prepare()
        files = _files(job.folder) if job.resuming else {}
        pending[task.remote(job.argv(Path("trial")), files, threads)] = job
    log(f"   {len(jobs)} trials sent to the Ray cluster "
        f"({ray.cluster_resources().get('CPU', 0):g} CPUs)")
    try:
        while pending:
            [ready], _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready)
            try:
                status, files = ray.get(ready)
            except Exception as e:  # Ray gave up on it: retries spent, a worker that cannot
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]  # start
                done(job, 1, f"Ray: {type(e).__name__}: {first}")
                continue
            _put(job.folder, files)
            done(job, status)
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        for job in pending.values():
            done(job, 130)
        raise
