"""The playground's pace: what one redraw costs the server, one epoch of training and a frame.

Run: ``python -m benchmarks.playground [--sessions 30] [--rounds 40]`` from the repository root.

One torch thread a process, as the server gives each session's work. First one session at a
time, for the issue's network (3 hidden layers of 8 tanh units, 250 training points, batch 10,
SGD) and for two presets: the median over rounds of ``epoch()`` and ``frame()``, each timed
apart, and the frames a second one core gives it. Then ``--sessions`` sessions (seeds 0, 1,
...) served round-robin, one epoch and one frame each a round: in one process, and split over
two processes at once (one a core): the frames a second each session gets.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

NETWORKS = {
    "issue 3x8 tanh sgd": "layers=8tanh,8tanh,8tanh",
    "preset depth (4x16 relu adam)": "data=spiral&classes=3&layers=16relu,16relu,16relu,"
                                     "16relu&optimizer=adam&lr=0.005",
    "preset dropout (2x64 relu adam)": "data=spiral&noise=0.1&points=400&train_percent=30&"
                                       "optimizer=adam&lr=0.003&layers=64relu:0.3,64relu:0.3",
}


def _sessions(query: str, count: int, first_seed: int = 0):
    import torch

    from shallowlab.playground import Session, Settings
    torch.set_num_threads(1)
    return [Session(Settings.from_query(f"{query}&seed={first_seed + i}")) for i in range(count)]


def one(query: str, rounds: int) -> tuple[float, float]:
    """Median milliseconds of an epoch and of a frame, one session."""
    (session,) = _sessions(query, 1)
    epochs, frames = [], []
    for i in range(rounds + 5):
        t0 = time.perf_counter()
        session.epoch()
        t1 = time.perf_counter()
        session.frame(i)
        t2 = time.perf_counter()
        if i >= 5:  # warm
            epochs.append(t1 - t0)
            frames.append(t2 - t1)
    return 1e3 * statistics.median(epochs), 1e3 * statistics.median(frames)


def served(query: str, count: int, rounds: int, first_seed: int = 0) -> float:
    """Seconds a round of ``count`` sessions takes (median), one epoch and one frame each."""
    sessions = _sessions(query, count, first_seed)
    times = []
    for r in range(rounds):
        t0 = time.perf_counter()
        for s in sessions:
            s.epoch()
            s.frame(r)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name, query in NETWORKS.items():
        epoch, frame = one(query, args.rounds)
        print(f"{name:34s} epoch {epoch:5.2f} ms  frame {frame:4.2f} ms  "
              f"-> {1e3 / (epoch + frame):5.0f} frames/s on one core")
    query, n = NETWORKS["issue 3x8 tanh sgd"], args.sessions
    round_s = served(query, n, 12)
    print(f"{n} sessions, one process:   {1 / round_s:5.1f} frames/s each")
    half = n // 2
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        rounds = pool.starmap(served, [(query, half, 12, 0), (query, n - half, 12, half)])
    print(f"{n} sessions, two processes: {1 / max(rounds):5.1f} frames/s each")
    print(f"load average after: {os.getloadavg()[0]:.2f} (this benchmark's own included)")


if __name__ == "__main__":
    main()
