"""``shallowlab run mlp --fast`` and ``shallowlab run mlp`` as a user runs them: time and memory.

Run: ``python -m benchmarks.fast [--repeats N] [--no-book] [--json PATH]`` from the repository
root.

Each repeat (default 1) starts ``python -m shallowlab run mlp --fast`` in a fresh process,
into a temporary run folder, then, where the CPU computes bf16 natively (AVX-512 BF16 or AMX),
``run mlp --fast --precision bf16`` (elsewhere one line says it is not measured, and why), then
the book's ``python -m shallowlab run mlp``. For each run it
records:

* ``wall_s``: wall-clock seconds of the whole command, process start to exit (imports, data
  load, training, evaluation, figures), what ``/usr/bin/time`` would say;
* ``peak_rss_mb``: the child's peak resident memory, ``ru_maxrss`` from ``os.wait4`` (the
  per-child form of ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, which would be the largest over
  all children so far), in MB (10^6 bytes);
* ``final_test_acc`` (the last epoch's, the claim), ``best_test_acc``, ``epochs`` and the
  training ``seconds`` from the run's ``summary.json``;
* ``other_load``: the share of the CPUs other processes used meanwhile (as in ``benchmarks.speed``):
  above 10%, the wall time is that of a busy machine.

The targets: ``--fast`` reaches 0.90 final test accuracy in 60 s, and in bf16 in 16 s;
``run mlp`` peaks at 1.2 GB resident or less. The JSON (``fast.json`` beside the script unless
``--json``; ``-`` for stdout) holds the runs and the machine (CPU model and flags, cores, torch
version).

Exit status 1, with a one-line message, when the Fashion-MNIST files are not installed or a
run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import add_json_option, data_found, machine, watch_load, write_report
from shallowlab.core.devices import slow_bf16

PROG = "benchmarks.fast"

COMMANDS = {"fast": ["run", "mlp", "--fast"],
            "fast-bf16": ["run", "mlp", "--fast", "--precision", "bf16"],
            "book": ["run", "mlp"]}
TARGETS = {"fast_seconds": 60.0, "fast_test_acc": 0.90, "book_peak_rss_mb": 1200.0,
           "fast_bf16_seconds": 16.0, "fast_bf16_test_acc": 0.90}


def run_once(name: str, folder: Path) -> dict:
    """Run ``COMMANDS[name]`` into ``folder / name`` in a child process; its measurements."""
    out = folder / name
    log = (folder / f"{name}.log").open("w")
    _, load = watch_load()
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "shallowlab", *COMMANDS[name], "--out",
                              str(out)], stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    if child.returncode != 0:
        tail = (folder / f"{name}.log").read_text().strip().splitlines()[-1:]
        raise RuntimeError(f"`shallowlab {' '.join(COMMANDS[name])}` exited with "
                           f"{child.returncode}: {tail[0] if tail else ''}")
    summary = json.loads((out / "summary.json").read_text())
    return {"command": "shallowlab " + " ".join(COMMANDS[name]), "wall_s": round(wall, 2),
            "peak_rss_mb": round(usage.ru_maxrss * 1024 / 1e6, 1),  # Linux: ru_maxrss in KiB
            "final_test_acc": summary["final_test_acc"], "best_test_acc": summary["best_test_acc"],
            "epochs": summary["epochs"], "train_s": round(summary["seconds"], 2),
            "engine": summary.get("engine"), "other_load": round(load() or 0.0, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each (default 1)")
    parser.add_argument("--no-book", action="store_true", help="only `run mlp --fast`")
    add_json_option(parser, "fast.json")
    args = parser.parse_args(argv)
    if not data_found(PROG):
        return 1
    slow = slow_bf16(torch.device("cpu"))
    names = ["fast"] + (["fast-bf16"] if slow is None else []) + ([] if args.no_book else ["book"])
    if slow:  # a bf16 run would train in fp32 here: the same as `fast`
        print(f"not measured: run mlp --fast --precision bf16 (<= "
              f"{TARGETS['fast_bf16_seconds']:g} s, >= {TARGETS['fast_bf16_test_acc']}): {slow}")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="shallowlab-fast-") as tmp:
        for i in range(args.repeats):
            for name in names:
                folder = Path(tmp) / str(i)
                folder.mkdir(exist_ok=True)
                try:
                    r = run_once(name, folder)
                except RuntimeError as e:
                    print(f"{PROG}: {e}", file=sys.stderr)
                    return 1
                runs[name].append(r)
                print(f"{r['command']:30} {r['wall_s']:6.1f} s  final test acc "
                      f"{r['final_test_acc']:.4f}  peak RSS {r['peak_rss_mb']:7.1f} MB  "
                      f"(other load {r['other_load']:.0%})", flush=True)
    result = {"machine": machine(), "targets": TARGETS, "runs": runs}
    fast = runs["fast"]
    result["fast_meets_target"] = all(r["wall_s"] <= TARGETS["fast_seconds"] and
                                      r["final_test_acc"] >= TARGETS["fast_test_acc"]
                                      for r in fast)
    if "fast-bf16" in runs:
        result["fast_bf16_meets_target"] = all(
            r["wall_s"] <= TARGETS["fast_bf16_seconds"] and
            r["final_test_acc"] >= TARGETS["fast_bf16_test_acc"] for r in runs["fast-bf16"])
    else:
        result["fast_bf16_not_measured"] = slow
    if "book" in runs:
        result["book_meets_target"] = all(r["peak_rss_mb"] <= TARGETS["book_peak_rss_mb"]
                                          for r in runs["book"])
    write_report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
