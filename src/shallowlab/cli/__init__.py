"""The ``shallowlab`` command: a thin shell over the library. Nothing in the package imports it.

Exit status: 0 done, 1 failed at run time, 2 bad usage or configuration, 130 interrupted.
`report` and `runs` exit 2 for a DIR that is not a folder or holds no run folders, and 1 for a
run folder whose summary.json cannot be read.

Here: the parser and the dispatch, ``list``, ``data``, ``report`` and ``runs``; ``run``,
``sweep``, ``exercises`` and ``playground`` have a module each. ``list`` and ``--help`` import
no torch.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import shallowlab
from shallowlab.cli import exercises, playground, run, sweep
from shallowlab.cli.flags import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Parser
from shallowlab.errors import ConfigError, ShallowlabError
from shallowlab.term import colour, reader_gone


def build_parser(experiment_names: list[str]) -> argparse.ArgumentParser:
    parser = Parser(prog="shallowlab", description=shallowlab.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version",
                        version=f"shallowlab {shallowlab.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("list", help="list the experiments, one line each")

    run.add_parser(sub, experiment_names)
    _add_report_and_runs(sub)
    data = sub.add_parser("data", help="find, verify (and if need be download) Fashion-MNIST")
    data.add_argument("--data-dir", help="look here first, and download here if needed")
    data.add_argument("--no-download", action="store_true", help="only look, never download")
    data.add_argument("--download", action="store_true",
                      help="download into --data-dir (or the cache) even if a copy exists "
                      "elsewhere; every file is checked against its published MD5")

    sweep.add_parser(sub, experiment_names)
    exercises.add_parsers(sub)
    playground.add_parser(sub)
    return parser


def _add_report_and_runs(sub) -> None:
    report = sub.add_parser("report", help="report.md and report.html from run folders")
    report.add_argument("dirs", nargs="+", metavar="DIR",
                        help="a run folder, or a folder holding run folders (a `run all` "
                        "folder, a sweep's trials)")
    report.add_argument("--out", help="where the report goes (default: DIR, if only one)")
    runs = sub.add_parser("runs", help="list run folders: settings that differ, accuracy, time")
    runs.add_argument("dir", nargs="?", default="runs", metavar="DIR",
                      help="a run folder or a folder holding run folders (default: runs)")
    runs.add_argument("--json", action="store_true", help="the rows as JSON, for scripts")


def _sigterm(signum, frame):
    from shallowlab.core.state import Interrupted

    raise Interrupted(signum)


def _report(args: argparse.Namespace) -> int:
    from shallowlab.report import build

    if args.out is None and len(args.dirs) > 1:
        raise ConfigError("several DIRs need --out, the folder the report goes into")
    out = Path(args.out or args.dirs[0])
    sections = build(args.dirs, out)
    failed = sum(s.status != "completed" for s in sections)
    print(f"{len(sections)} runs, {failed} not completed; report: {out / 'report.md'} and "
          f"{out / 'report.html'}")
    return EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    from shallowlab.runs import table as runs_table

    rows = runs_table.rows(runs_table.find([args.dir]))
    print(json.dumps(rows, indent=2) if args.json else runs_table.table(rows))
    return EXIT_OK


def _data(args: argparse.Namespace) -> int:
    from shallowlab.data import fashion_mnist

    if args.download and args.no_download:
        raise ConfigError("--download and --no-download contradict each other; give one")
    folder = fashion_mnist.fetch(args.data_dir) if args.download else args.data_dir
    data = fashion_mnist.load(folder, allow_download=not args.no_download)
    print(f"Fashion-MNIST: {len(data.train_images)} training and {len(data.test_images)} test "
          f"images, verified, in {data.source}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    from shallowlab.experiments import CATALOG, EXPERIMENTS

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(list(EXPERIMENTS)).parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        if args.command == "list":  # from the catalog: no experiment (and no torch) imported
            for name, entry in CATALOG.items():
                presets = "".join(f"  (also --{p})" for p in entry.presets)
                print(f"{name:16}{entry.title}{presets}")
            return EXIT_OK
        if args.command == "data":
            return _data(args)
        if args.command == "sweep":
            return sweep.command(args, EXPERIMENTS, argv)
        if args.command == "report":
            return _report(args)
        if args.command == "runs":
            return _runs(args)
        if args.command == "playground":
            return playground.command(args)
        if args.command in exercises.COMMANDS:
            return exercises.command(args)
        return run.command(args, EXPERIMENTS)
    except (ConfigError, ShallowlabError) as e:
        print(f"shallowlab: {colour('error:', 'red', sys.stderr)} {e}", file=sys.stderr)
        return EXIT_USAGE if isinstance(e, ConfigError) else EXIT_FAILED
    except KeyboardInterrupt as e:
        said = str(e) or "interrupted"  # Interrupted says by which signal
        print(f"shallowlab: {colour(said, 'yellow', sys.stderr)}", file=sys.stderr)
        return EXIT_INTERRUPTED


def entry() -> None:
    """The ``shallowlab`` program: :func:`main`, then the process ends at once.

    A process that has imported torch spends 0.3 to 1 s at exit tearing its modules down, to
    free memory the OS frees anyway. By the time ``main`` returns every file it wrote is closed
    (they are written whole, :mod:`shallowlab.files`), so after flushing the output the program
    ends with ``os._exit``; with Ray connected (a sweep) it exits normally, so Ray's driver
    says goodbye to its cluster.

    When the reader of its output goes away (``shallowlab runs | head -1``) the command stops
    at its next line and ends quietly with status 0, as having given the reader what it asked
    for; a run stopped so says ``interrupted`` in its folder.
    """
    try:
        code = main()
    except BrokenPipeError:
        if not reader_gone(sys.stdout):  # another pipe broke: a failure, shown as one
            raise
        # what is still buffered goes nowhere, so that no flush complains at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    if "ray" in sys.modules:
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: `shallowlab runs | head`
            pass
    os._exit(code)

