"""A real two-node Ray cluster on this machine, inside a network namespace of its own.

Outside one, Ray swaps 127.0.0.1 for the machine's network address; inside a namespace whose
only interface is loopback, every byte stays on it. The namespace is held by a ``sleep``
started under ``unshare -n``; every process of the cluster, and every command a test runs
against it, enters it with ``nsenter``. Each node is ``ray start --block`` in the background
(one CPU each), stopped by its process id; nothing machine-wide (``ray stop``) is ever run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PORT = 6379
ADDRESS = f"127.0.0.1:{PORT}"


def unavailable() -> str | None:
    """Why a cluster cannot be made here, or None."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install 'shallowlab[ray]')"
    if os.geteuid() != 0:
        return "a network namespace needs root (unshare -n)"
    missing = [t for t in ("unshare", "nsenter", "ip") if shutil.which(t) is None]
    return f"{', '.join(missing)} not found" if missing else None


def descendants(pid: int) -> list[int]:
    """The processes below ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_name(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


class Cluster:
    """``with Cluster() as c``: a head node and a worker node, one CPU each."""

    def __init__(self) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="slray-", dir="/tmp"))  # short: socket paths
        self.holder: subprocess.Popen | None = None
        self.nodes: dict[str, subprocess.Popen] = {}
        # The head counts a node dead after 3 missed health checks 1 s apart (Ray's default:
        # 5, 3 s apart, 16 s measured here), so that a test which kills one waits seconds for
        # Ray to notice, retry its task and say so; 1 s leaves a loaded machine's raylet time
        # to answer.
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
                    "RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
                    "RAY_health_check_failure_threshold": "3"}

    def inside(self, *command: str) -> list[str]:
        """``command`` as run inside the cluster's network namespace."""
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", *command]

    def _ray(self, *args: str) -> list[str]:
        return self.inside(str(Path(sys.executable).parent / "ray"), *args)

    def _start_node(self, name: str, *args: str) -> None:
        log = open(self.temp / f"{name}.log", "wb")
        self.nodes[name] = subprocess.Popen(
            self._ray("start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1",
                      "--object-store-memory=100000000", "--disable-usage-stats", *args),
            stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def alive_nodes(self) -> int:
        probe = ("import ray; ray.init(address='auto', logging_level='ERROR'); "
                 "print(sum(n['Alive'] for n in ray.nodes()))")
        result = subprocess.run(self.inside(sys.executable, "-c", probe), capture_output=True,
                                text=True, env={**self.env, "RAY_ADDRESS": ADDRESS},
                                timeout=120)
        return int(result.stdout.split()[-1]) if result.returncode == 0 else 0

    def __enter__(self) -> Cluster:
        self.holder = subprocess.Popen(["unshare", "-n", "sleep", "infinity"])
        time.sleep(0.2)
        subprocess.run(self.inside("ip", "link", "set", "lo", "up"), check=True)
        self._start_node("head", "--head", f"--port={PORT}", "--include-dashboard=false",
                         f"--temp-dir={self.temp / 'ray'}")
        self._wait_for(1)
        self._start_node("worker", f"--address={ADDRESS}")
        self._wait_for(2)
        return self

    def _wait_for(self, nodes: int, seconds: float = 120) -> None:
        if not self.wait_until_alive(nodes, seconds, at_least=True):
            logs = "\n".join((self.temp / f"{n}.log").read_text()[-1500:] for n in self.nodes)
            raise RuntimeError(f"the Ray cluster did not reach {nodes} nodes:\n{logs}")

    def wait_until_alive(self, nodes: int, seconds: float = 120, at_least: bool = False) -> bool:
        """Whether Ray's own view (``ray.nodes()``) came to count ``nodes`` alive (or at least
        that many) within ``seconds``. A killed node stays alive to Ray until the head's health
        checks give up on it (see ``env``), which a fast sweep can outrun."""
        deadline = time.monotonic() + seconds
        while True:
            alive = self.alive_nodes()
            if alive == nodes or (at_least and alive > nodes):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(1)

    def kill_worker_node(self) -> int:
        """``kill -9`` the worker node's raylet, by its process id; returns that id."""
        raylets = [p for p in descendants(self.nodes["worker"].pid)
                   if command_name(p) == "raylet"]
        assert raylets, "the worker node has no raylet"
        os.kill(raylets[0], signal.SIGKILL)
        return raylets[0]

    def __exit__(self, *exc) -> None:
        below = {name: descendants(p.pid) for name, p in self.nodes.items()}
        for process in self.nodes.values():
            process.terminate()
        for process in self.nodes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for pids in below.values():  # whatever a node left behind, by its recorded id
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait()
        shutil.rmtree(self.temp, ignore_errors=True)
