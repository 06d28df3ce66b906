"""Shared fixtures: small Fashion-MNIST-shaped files made on the spot, and the real data if any."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# One torch thread in this process and in every process the tests start, unless told otherwise.
# On a small machine PyTorch's intra-op threads wait on each other at every operation, and when
# anything else holds a core a run takes 2-20x longer (benchmarks/README.md: a 2-core machine);
# one thread a process keeps the cores busy, and what a test claims does not depend on it. Set
# before torch is imported (by shallowlab below), so that torch's thread pool reads it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The cores this process may use: the machine's, shared among pytest-xdist's workers.
CORES = max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from shallowlab.data.fashion_mnist import SYSTEM_DIRS, files_in  # noqa: E402
from shallowlab.data.idx import write_idx  # noqa: E402
from shallowlab.experiments.base import Experiment  # noqa: E402
from shallowlab.runs.folder import RunDir  # noqa: E402
from shallowlab.runs.lifecycle import execute  # noqa: E402
from shallowlab.runs.settings import resolve  # noqa: E402


def toy_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 uint8 images whose class k shows a bright band at rows 2k..2k+3, plus noise.

    Easy for any of the models (a linear one reaches ~100%), so a few epochs on them test
    that training really learns, in well under a second.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 2 * k + 4: 2 * k + 8, 4:24] = 230
    return images, labels


def write_fashion(folder: Path, n_train: int = 600, n_test: int = 200, gz: bool = True) -> Path:
    """Write the four Fashion-MNIST files, toy-sized, into ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for split, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = toy_images(n, seed)
        write_idx(folder / f"{split}-images-idx3-ubyte{ext}", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", labels)
    return folder


@pytest.fixture
def toy_data(tmp_path: Path) -> Path:
    """A folder holding toy Fashion-MNIST files (600 training, 200 test images)."""
    return write_fashion(tmp_path / "toy-data")


def new_cache(tmp_path_factory) -> Path:
    """A fresh user cache for a test. The decoded Fashion-MNIST arrays (each named by its
    file's identity) are shared by the session, so that each test does not decompress the real
    files again: its ``shallowlab/decoded`` is a link to one folder."""
    shared = tmp_path_factory.getbasetemp() / "decoded"
    shared.mkdir(exist_ok=True)
    cache = tmp_path_factory.mktemp("cache")
    (cache / "shallowlab").mkdir()
    (cache / "shallowlab" / "decoded").symlink_to(shared)
    return cache


def isolated(cache: Path) -> dict[str, str | None]:
    """The variables that keep a process off the user's real cache and off the internet."""
    return {"XDG_CACHE_HOME": str(cache),
            "SHALLOWLAB_MIRROR": "http://127.0.0.1:9/",  # the discard port: refused
            "SHALLOWLAB_DATA": None}


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never read or fill the user's real cache, and never reach for the internet."""
    for name, value in isolated(new_cache(tmp_path_factory)).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def isolated_environ(tmp_path_factory) -> dict[str, str]:
    """This process's environment as ``_isolated_cache`` leaves it, for processes started
    outside a test (by :class:`Ahead`)."""
    changes = isolated(new_cache(tmp_path_factory))
    return {**{k: v for k, v in os.environ.items() if k not in changes},
            **{k: v for k, v in changes.items() if v is not None}}


class Ahead:
    """The slow, independent jobs of a test module (each a real process, run to its end),
    begun together in threads of this process, ``CORES`` at a time, when the module's first test
    asks for one; each test then waits for its own job and asserts on its result (a job's
    exception is raised in the test that asks for it). A job no test selected asked for ahead
    is begun when asked for."""

    def __init__(self, job: Callable[[Hashable], object], keys: list[Hashable]):
        self._job = job
        self._pool = ThreadPoolExecutor(max_workers=CORES)
        self._futures = {key: self._pool.submit(job, key) for key in keys}

    def __getitem__(self, key: Hashable):
        if key not in self._futures:
            self._futures[key] = self._pool.submit(self._job, key)
        return self._futures[key].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def selected(request) -> set[str]:
    """The names (without parameters) of the tests of ``request``'s module this session runs."""
    return {item.originalname for item in request.session.items
            if item.module is request.module}


def book_scripts(request, tmp_path_factory, run: Callable,
                 scripts: dict[str, list[tuple[str, str | None]]]) -> Ahead:
    """The book's scripts the module's selected tests name in ``scripts`` (test -> its
    ``(script, data)`` keys), begun ahead, the real data's first (the longest, they set when the
    module ends). A job is ``run(folder, script, data_dir, environ)`` with no data, the toy files
    ("toy") or the real ones ("real"), in a fresh folder; its result is ``(folder, *result)``."""
    data = {None: None, "toy": write_fashion(tmp_path_factory.mktemp("toy-data")),
            "real": real_data_dir()}
    environ = isolated_environ(tmp_path_factory)

    def job(key: tuple[str, str | None]) -> tuple:
        script, kind = key
        folder = tmp_path_factory.mktemp(Path(script).stem)
        return (folder, *run(folder, script, data[kind], environ))

    wanted = selected(request)
    keys = [key for test, keys in scripts.items() if test in wanted for key in keys
            if key[1] != "real" or data["real"] is not None]
    return Ahead(job, sorted(keys, key=lambda key: key[1] != "real"))


def real_data_dir() -> Path | None:
    for folder in SYSTEM_DIRS:
        if files_in(folder):
            return folder
    return None


@pytest.fixture
def real_data() -> Path:
    """The folder of the real Fashion-MNIST files; skips the test when they are absent."""
    folder = real_data_dir()
    if folder is None:
        pytest.skip("real Fashion-MNIST absent: `sudo apt-get install dataset-fashion-mnist`")
    return folder


def run_experiment(experiment: Experiment, folder: Path, **overrides) -> tuple[dict, list[str]]:
    """Run ``experiment`` through its real entry point into ``folder``; its summary and log.

    Checks that it completed and that the summary on disk is the one returned.
    """
    lines: list[str] = []
    summary = execute(experiment, resolve(experiment, overrides), RunDir(folder), lines.append)
    assert summary["status"] == "completed"
    assert json.loads((folder / "summary.json").read_text()) == summary
    return summary, lines


def run_seeds(name: str, folder: Path, seeds: tuple[int, ...], *flags) -> list[dict]:
    """The summaries of ``shallowlab run NAME FLAGS --seed S``, once per seed, each run in
    ``folder / f"seed-{S}"``.

    For claims about training on real data: one seed's trajectory depends on the machine's
    floating-point order (its BLAS, its threads), so such claims hold for the median over seeds.
    The seeds run at once, as real processes of the CLI, each on one torch thread (as every
    process the tests start, see ``OMP_NUM_THREADS`` above): three of them share two cores
    with none left idle, where one after the other left a core idle or two threads waited on
    each other.
    """
    started = {}
    try:
        for seed in seeds:
            with open(folder / f"seed-{seed}.log", "w") as log:  # the child keeps its own copy
                started[seed] = subprocess.Popen(
                    shallowlab_command("run", name, *flags, "--seed", seed,
                                       "--out", folder / f"seed-{seed}", "--quiet"),
                    stdout=log, stderr=subprocess.STDOUT)
        for process in started.values():
            process.wait(timeout=1800)
    finally:
        for process in started.values():  # only if the test ends while they run
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=120)
    summaries = []
    for seed, process in started.items():
        assert process.returncode == 0, (folder / f"seed-{seed}.log").read_text()[-3000:]
        run = folder / f"seed-{seed}"
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "completed"
        assert json.loads((run / "config.json").read_text())["seed"] == seed
        summaries.append(summary)
    return summaries


def late_test_acc(folder: Path, epochs: int = 3) -> float:
    """The mean test accuracy of the run in ``folder`` over its last ``epochs`` epochs.

    Plain SGD's test accuracy dips by up to 0.05 in single epochs late in a run (the mlp at
    lr 0.1, seed 2: 0.841, 0.795, 0.843 at epochs 8-10), so the last epoch alone is a claim
    about one trajectory; the mean of the last few is one about the trained model.
    """
    history = json.loads((folder / "history.json").read_text())
    return sum(r["test_acc"] for r in history[-epochs:]) / len(history[-epochs:])


# Graphviz, to draw graphs: its Python package and its dot program (scripts/get-apt.sh)
GRAPHVIZ = shutil.which("dot") is not None and importlib.util.find_spec("graphviz") is not None
needs_graphviz = pytest.mark.skipif(not GRAPHVIZ, reason="no Graphviz: `sudo apt-get install "
                                    "graphviz` and pip install -e '.[graph]'")


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# The sweep the issue names: 2 learning rates x 2 widths x 2 seeds, 2 epochs each, on the real
# data. Run once per test session, uninterrupted, as the reference the kill/resume test and the
# Ray test compare with.
MLP_SWEEP = ("mlp", "--grid", "lr=0.05,0.2", "--grid", "hidden=64,256", "--seeds", "2",
             "--epochs", "2")


def shallowlab_command(*args) -> list[str]:
    return [sys.executable, "-m", "shallowlab", *map(str, args)]


@contextlib.contextmanager
def running(command: list[str]):
    """A process a test starts and drives; terminated by its id if the test ends (passing or
    failing) while it still runs, so that no sweep outlives its test."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.communicate(timeout=120)


@pytest.fixture(scope="session")
def mlp_sweep(tmp_path_factory) -> tuple[Path, str]:
    """The folder and printed output of ``shallowlab sweep`` over MLP_SWEEP, completed."""
    if real_data_dir() is None:
        pytest.skip("real Fashion-MNIST absent: `sudo apt-get install dataset-fashion-mnist`")
    out = tmp_path_factory.mktemp("sweep") / "mlp"
    result = subprocess.run(shallowlab_command("sweep", *MLP_SWEEP, "--out", out),
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def trials_without_seconds(folder: Path) -> list[dict]:
    """``trials.csv`` of the sweep in ``folder``, every column but the time taken."""
    with open(folder / "trials.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def history_without_seconds(folder: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"}
            for r in json.loads((folder / "history.json").read_text())]


# the runs of `mixed_runs`: folder -> command line after `shallowlab run`
MIXED = {
    "linreg-a": ["linreg", "--epochs", "2"],
    "linreg-b": ["linreg", "--epochs", "2", "--lr", "0.01"],
    "softmax": ["softmax", "--epochs", "1", "--threads", "1"],
    "mlp-diverged": ["mlp", "--epochs", "1", "--lr", "1000", "--threads", "1"],  # fails
}


@pytest.fixture(scope="session")
def mixed_runs(tmp_path_factory) -> Path:
    """A folder of run folders left by the real command: two runs of linreg that differ in
    their learning rate, one of softmax, and one of mlp that diverges (status failed)."""
    data = write_fashion(tmp_path_factory.mktemp("toy-data"))
    root = tmp_path_factory.mktemp("mixed")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = []
    for folder, args in MIXED.items():
        extra = ["--data-dir", str(data)] if args[0] in ("softmax", "mlp") else []
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "shallowlab", "run", *args, *extra, "--out",
             str(root / folder)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for proc, folder in zip(procs, MIXED):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == (1 if folder == "mlp-diverged" else 0), err.decode()
    return root
