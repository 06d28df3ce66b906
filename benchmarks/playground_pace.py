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
  Play pressed. Redraws per second and epochs per redraw are measured in the page: a
  ``requestAnimationFrame`` counter injected before its scripts run (animation frames per
  second) and its own iteration counter (``#iter-number``, one epoch and one redraw each);
* **shallowlab playground**: ``shallowlab playground --no-browser --port P`` started as a
  subprocess (stopped by its pid), opened with the same settings in its URL fragment, Play
  pressed, its own ``window.playgroundStats`` read (redraws per second and epochs between
  redraws, as the page counts them), the same injected frame counter beside.

Run: ``python -m benchmarks.playground_pace [--tf-playground DIR] [--seconds 5] [--json PATH]``
(or ``TF_PLAYGROUND=DIR``); without a built TensorFlow Playground it says how to build it and
exits 2. Both sides see the same browser flags (headless, no GPU) and the same 1280x800 window;
requests that leave the loopback server are refused (TensorFlow Playground asks for Google
fonts and analytics). The CPU, others' load before the run and the load average are printed
beside: on a shared 2-core machine they decide both numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks.common import NOISY, add_json_option, cpu_line, machine, watch_load, write_report
from benchmarks.playground_sides import CHROMIUM, measure_ours, measure_tf, ours_query, tf_hash

DEFAULT_TF = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
    "shallowlab" / "tf-playground" / "dist"
BUILD = "build it with `sh scripts/get-tf-playground.sh` (npm), or pass --tf-playground DIR"


def tf_folder(given: str | None) -> Path | None:
    """The built TensorFlow Playground (a folder with index.html and bundle.js), or None."""
    folder = Path(given or os.environ.get("TF_PLAYGROUND") or DEFAULT_TF).expanduser()
    return folder if (folder / "index.html").is_file() and (folder / "bundle.js").is_file() \
        else None


def _row(name: str, r: dict | None, note: str = "") -> str:
    if r is None:
        return f"{name:24s} {'not measured':>12s}  {note}"
    return (f"{name:24s} {r['redraws_per_s']:12.1f} {r['epochs_per_redraw']:10.2f} "
            f"{r['frames_per_s']:10.1f} {r['epochs_per_s']:9.1f}  {note}")


def report_lines(results: dict[str, dict | None], notes: dict[str, str]) -> list[str]:
    """The side-by-side table: redraws/s, epochs per redraw, animation frames/s, epochs/s."""
    head = (f"{'playground':24s} {'redraws/s':>12s} {'ep/redraw':>10s} {'frames/s':>10s} "
            f"{'epochs/s':>9s}")
    return [head] + [_row(name, r, notes.get(name, "")) for name, r in results.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.playground_pace",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--tf-playground", help="the built TensorFlow Playground (its dist "
                        f"folder; default $TF_PLAYGROUND or {DEFAULT_TF})")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each side is "
                        "measured after a 1 s warm-up (default %(default)s)")
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
    if not CHROMIUM.exists():
        print(f"benchmarks.playground_pace: no Chromium at {CHROMIUM}; apt-get install chromium",
              file=sys.stderr)
        return 2
    before, _ = watch_load(settle=1.0)
    load0 = os.getloadavg()
    print(cpu_line())
    print(f"network: 3 hidden layers of 8 tanh units, 250 training points of 500, batch 10, "
          f"circle; {args.seconds:g} s each after a 1 s warm-up")
    print(f"TensorFlow Playground: {folder} #{tf_hash()}")
    print(f"shallowlab playground: #{ours_query()}")
    results: dict[str, dict | None] = {"TensorFlow Playground": measure_tf(folder, args.seconds)}
    notes: dict[str, str] = {}
    if args.no_ours:
        results["shallowlab playground"], notes["shallowlab playground"] = None, "--no-ours"
    else:
        results["shallowlab playground"] = measure_ours(args.seconds)
    load1 = os.getloadavg()
    for line in report_lines(results, notes):
        print(line)
    if before is not None:
        print(f"other processes used {before:.0%} of the CPUs in the second before the run"
              + ("; timings are noisy" if before > NOISY else ""))
    print(f"load average (1 min) {load0[0]:.2f} before, {load1[0]:.2f} after, "
          f"on {os.cpu_count()} CPUs")
    write_report({"machine": machine(), "seconds": args.seconds, "other_load_before": before,
                  "loadavg_before": load0, "loadavg_after": load1, "results": results},
                 args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
