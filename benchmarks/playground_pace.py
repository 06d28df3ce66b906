"""The playground's pace beside TensorFlow Playground's, in one headless Chromium, same network.

TensorFlow Playground trains one epoch and redraws once per animation frame (``d3.timer`` calls
its ``oneStep``: an epoch over the training points, then the boundary, every unit's picture and
the weights). The issue asks ``shallowlab playground`` to keep that pace: at least 30 redraws a
second with at least one epoch between redraws, on 3 hidden layers of 8 tanh units, 250 training
points (500 points, 50 % train), batch 10, the circle. This runs both on that network:

* **TensorFlow Playground**, built from its sources (not part of this repository)::

      sh scripts/get-tf-playground.sh          # git clone + npm ci + npm run build, into
                                               # ~/.cache/shallowlab/tf-playground/dist

  served on 127.0.0.1 by a static file server in this process, opened with the URL hash
  ``#dataset=circle&networkShape=8,8,8&activation=tanh&batchSize=10&percTrainData=50...``,
  its controls checked to show that network, Play pressed. Redraws per second and epochs per
  redraw are measured in the page: a ``requestAnimationFrame`` counter injected before its
  scripts run (animation frames per second) and its own iteration counter (``#iter-number``,
  one epoch and one redraw each);
* **shallowlab playground**: ``shallowlab playground --no-browser --port P`` started as a
  subprocess (stopped by its pid), opened with the same settings in its URL fragment (checked in
  the fragment the page rewrites from the server's answer), Play pressed, its own
  ``window.playgroundStats`` read (its count of redraws and the epoch of the frame last drawn),
  the same injected frame counter beside.

The ``pace`` column says whether a side keeps the issue's pace (at least 30 redraws a second,
at least one epoch between redraws); the exit status is 1 when ours does not.

Run: ``python -m benchmarks.playground_pace [--tf-playground DIR] [--seconds 5] [--rounds 3]
[--json PATH]`` (or ``TF_PLAYGROUND=DIR``). One Chromium, each round a fresh page of each side,
the sides alternating which goes first, the medians of the rounds reported. Without a built
TensorFlow Playground it says how to build it and exits 2. Both sides see the same browser flags
(headless, no GPU) and the same 1280x800 window; requests that leave the loopback server are
refused (TensorFlow Playground asks for Google fonts and analytics). The CPU, others' load
before the run and the load average are printed beside: on a shared 2-core machine they decide
both numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from pathlib import Path

from benchmarks import playground_sides as side
from benchmarks.common import NOISY, add_json_option, cpu_line, machine, watch_load, write_report

DEFAULT_TF = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
    "shallowlab" / "tf-playground" / "dist"
TF, OURS = "TensorFlow Playground", "shallowlab playground"
REDRAWS, EPOCHS = 30.0, 1.0  # the pace: TF Playground's own, on this 2-core machine
BUILD = "build it with `sh scripts/get-tf-playground.sh` (npm), or pass --tf-playground DIR"


def tf_folder(given: str | None) -> Path | None:
    """The built TensorFlow Playground (a folder with index.html and bundle.js), or None."""
    folder = Path(given or os.environ.get("TF_PLAYGROUND") or DEFAULT_TF).expanduser()
    return folder if (folder / "index.html").is_file() and (folder / "bundle.js").is_file() \
        else None


def keeps_pace(r: dict) -> bool:
    """The issue's pace: at least ``REDRAWS`` redraws a second, ``EPOCHS`` epochs between."""
    return r["redraws_per_s"] >= REDRAWS and r["epochs_per_redraw"] >= EPOCHS


def _row(name: str, r: dict | None, note: str = "") -> str:
    if r is None:
        return f"{name:24s} {'not measured':>12s}  {note}"
    return (f"{name:24s} {r['redraws_per_s']:12.1f} {r['epochs_per_redraw']:10.2f} "
            f"{r['frames_per_s']:10.1f} {r['epochs_per_s']:9.1f} "
            f"{r['idle_frames_per_s']:10.1f} {'yes' if keeps_pace(r) else 'NO':>5s}  {note}")


def report_lines(results: dict[str, dict | None], notes: dict[str, str]) -> list[str]:
    """The side-by-side table: redraws/s, epochs per redraw, animation frames/s while playing,
    epochs/s, animation frames/s before Play (the browser's ceiling at rest), and whether the
    side keeps the issue's pace."""
    head = (f"{'playground':24s} {'redraws/s':>12s} {'ep/redraw':>10s} {'frames/s':>10s} "
            f"{'epochs/s':>9s} {'idle fr/s':>10s} {'pace':>5s}")
    return [head] + [_row(name, r, notes.get(name, "")) for name, r in results.items()]


def median_round(rounds: list[dict]) -> dict:
    """Each number's median over the rounds, and the rounds themselves."""
    keys = [k for k, v in rounds[0].items() if isinstance(v, (int, float))]
    return {**{k: statistics.median(r[k] for r in rounds) for k in keys}, "rounds": rounds}


def interleaved(folder: Path, ours: bool, rounds: int, seconds: float) -> dict[str, list[dict]]:
    """Both sides measured ``rounds`` times in one Chromium, alternating which goes first."""
    measured: dict[str, list[dict]] = {TF: [], OURS: []}
    with contextlib.ExitStack() as stack:
        tf_base = stack.enter_context(side.static_server(folder))
        sides = {TF: (side.tf_round, tf_base)}
        if ours:
            port = side.free_port()
            stack.enter_context(side.playground_server(port))
            sides[OURS] = (side.ours_round, f"http://127.0.0.1:{port}/")
        browser = stack.enter_context(side.chromium())
        for r in range(rounds):
            for name in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
                run, base = sides[name]
                measured[name].append(run(browser, base, seconds))
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.playground_pace",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--tf-playground", help="the built TensorFlow Playground (its dist "
                        f"folder; default $TF_PLAYGROUND or {DEFAULT_TF})")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long a side is "
                        "measured in a round, after a 1 s warm-up (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the sides alternating "
                        "which goes first; medians reported (default %(default)s)")
    parser.add_argument("--no-ours", action="store_true", help="measure TensorFlow "
                        "Playground only")
    add_json_option(parser, "playground_pace.json")
    args = parser.parse_args(argv)
    folder = tf_folder(args.tf_playground)
    if folder is None:
        print(f"benchmarks.playground_pace: no built TensorFlow Playground at "
              f"{args.tf_playground or os.environ.get('TF_PLAYGROUND') or DEFAULT_TF}; {BUILD}",
              file=sys.stderr)
        return 2
    if not side.CHROMIUM.exists():
        print(f"benchmarks.playground_pace: no Chromium at {side.CHROMIUM}; "
              "apt-get install chromium",
              file=sys.stderr)
        return 2
    before, _ = watch_load(settle=1.0)
    load0 = os.getloadavg()
    print(cpu_line())
    print(f"network: 3 hidden layers of 8 tanh units, 250 training points of 500, batch 10, "
          f"circle; {args.rounds} rounds of {args.seconds:g} s a side after a 1 s warm-up")
    print(f"{TF}: {folder} #{side.tf_hash()}")
    print(f"{OURS}: #{side.ours_query()}")
    measured = interleaved(folder, not args.no_ours, args.rounds, args.seconds)
    results = {name: median_round(r) if r else None for name, r in measured.items()}
    load1 = os.getloadavg()
    for line in report_lines(results, {OURS: "--no-ours"} if args.no_ours else {}):
        print(line)
    if before is not None:
        print(f"other processes used {before:.0%} of the CPUs in the second before the run"
              + ("; timings are noisy" if before > NOISY else ""))
    print(f"load average (1 min) {load0[0]:.2f} before, {load1[0]:.2f} after, "
          f"on {os.cpu_count()} CPUs")
    write_report({"machine": machine(), "seconds": args.seconds, "rounds": args.rounds,
                  "other_load_before": before, "loadavg_before": load0,
                  "loadavg_after": load1, "results": results}, args.json)
    return 0 if results[OURS] is None or keeps_pace(results[OURS]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
