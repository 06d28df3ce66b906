"""``shallowlab exercises`` (the list, the page, every run answer), ``shallowlab exercise ID``
(one answered) and ``shallowlab check ID FILE.py`` (a learner's solution checked).

The list, the help and a think exercise import no torch; a math exercise's numerical check, a
run and a check do (the check in a child process of its own).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from shallowlab.cli.flags import EXIT_FAILED, EXIT_OK, check_threads
from shallowlab.errors import ConfigError
from shallowlab.term import colour, is_tty, silent

COMMANDS = ("exercises", "exercise", "check")


def add_parsers(sub) -> None:
    listing = sub.add_parser("exercises", help="the book's exercises, one line each: IDs, "
                             "kind, status, how to answer")
    listing.add_argument("section", nargs="?", metavar="SECTION",
                         help="an edition (en, zh) or a section (en-4.4, zh-3.6); default all")
    listing.add_argument("--kind", choices=("run", "code", "math", "think"),
                         help="only the exercises of this kind")
    listing.add_argument("--html", metavar="DIR", help="write DIR/exercises.html: every "
                         "exercise with its answer or how to check it, answers folded")
    listing.add_argument("--markdown", metavar="FILE", help="write the same as Markdown "
                         "(docs/exercises.md is this)")
    listing.add_argument("--run-all", action="store_true", help="run every run exercise's "
                         "answer (quick settings; --full for the book's), each into a folder")
    _run_flags(listing)
    one = sub.add_parser("exercise", help="answer one exercise: run it, work it and check it "
                         "numerically, discuss it, or say how to check your code")
    one.add_argument("id", metavar="ID", help="an exercise ID, such as en-4.6.2 or zh-4.6.2 "
                     "(see `shallowlab exercises`)")
    _run_flags(one)
    check = sub.add_parser("check", help="check your solution of a code exercise: its "
                           "function is run in a process of its own against the properties "
                           "the exercise is about")
    check.add_argument("id", metavar="ID", help="a code exercise's ID, such as en-4.4.1c")
    check.add_argument("file", metavar="FILE.py", help="the file that defines your function")
    check.add_argument("--solution", action="store_true",
                       help="after the check, show shallowlab's own solution")
    check.add_argument("--timeout", type=float, default=60.0, metavar="S",
                       help="stop the check after S seconds (default 60)")
    check.add_argument("--memory", type=int, default=2048, metavar="MB",
                       help="memory your code may take, in MB (default 2048)")


def _run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full", action="store_true", help="a run exercise at the book's "
                        "settings, not the quick ones")
    parser.add_argument("--out", help="where a run exercise's folder goes (default: "
                        "runs/exercise-ID-TIMESTAMP; runs/exercises-TIMESTAMP with --run-all)")
    parser.add_argument("--data-dir", help="folder with the Fashion-MNIST files")
    parser.add_argument("--quiet", action="store_true", help="print only the answer")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads for torch in a run exercise, at most the CPUs this "
                        "process may run on (default: torch's choice; 1 on a busy machine)")


def _use_threads(threads: int | None) -> None:
    check_threads(threads)  # how fast, not what: not a setting of the run
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def command(args: argparse.Namespace) -> int:
    if args.command == "check":
        return _check(args)
    if args.command == "exercise":
        return _exercise(args)
    return _exercises(args)


def _find(wanted: str):
    from shallowlab.exercises import catalog

    try:
        return catalog.find(wanted)
    except catalog.UnknownExercise as e:
        raise ConfigError(str(e)) from None


def _exercises(args: argparse.Namespace) -> int:
    from shallowlab.exercises import catalog, text

    where = args.section.lower() if args.section else None
    if where and where not in ("en", "zh") and where not in catalog.sections():
        near = [k for k in catalog.sections() if k.endswith("-" + where)] or \
            [k for k in catalog.sections() if k.startswith(where)]
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        raise ConfigError(f"SECTION {args.section!r} is neither an edition (en, zh) nor a "
                          f"section such as en-4.4 or zh-3.6{hint}")
    pairs = catalog.select(where, args.kind)
    if args.run_all:
        from shallowlab.exercises import answers

        _use_threads(args.threads)
        return answers.run_all(pairs, full=args.full, out=args.out, data_dir=args.data_dir,
                               log=silent if args.quiet else print)
    if args.html or args.markdown:
        from shallowlab.exercises import page

        for path in page.write(pairs, html_dir=args.html, markdown_file=args.markdown):
            print(f"wrote {path}")
        return EXIT_OK
    width = shutil.get_terminal_size().columns if is_tty(sys.stdout) else None
    print("\n".join(text.listing(pairs, width)))
    return EXIT_OK


def _exercise(args: argparse.Namespace) -> int:
    from shallowlab.exercises import text

    exercise = _find(args.id)
    quiet = args.quiet
    if not quiet:
        print("\n".join(text.header(exercise)))
    if exercise.kind == "run":
        from shallowlab.exercises import answers

        _use_threads(args.threads)
        ok = answers.run_one(exercise, full=args.full, out=args.out, data_dir=args.data_dir,
                             log=silent if quiet else print)
        return EXIT_OK if ok else EXIT_FAILED
    if not quiet:
        print("\n".join(text.body(exercise)))
    if exercise.kind == "math":
        from shallowlab.exercises import checks

        checked = checks.run(exercise.check)
        mark = colour("\u2713", "green") if checked.ok else colour("\u2717", "red")
        print(f"\nChecked numerically {mark} {checked.claim}: {checked.detail}")
        return EXIT_OK if checked.ok else EXIT_FAILED
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from shallowlab.exercises import sandbox

    exercise = _find(args.id)
    if exercise.checker is None:
        raise ConfigError(f"{args.id} is a {exercise.kind} exercise, without a checker; "
                          f"`shallowlab exercise {exercise.id}` answers it")
    if args.timeout <= 0 or args.memory < 64:
        raise ConfigError("--timeout must be > 0 seconds and --memory at least 64 MB")
    if not Path(args.file).is_file():
        raise ConfigError(f"{args.file}: no such file; give the .py file that defines your "
                          "function")
    result = sandbox.check_file(exercise.checker, args.file, args.timeout, args.memory)
    verdict = colour("passed", "green") if result.ok else colour("failed", "red")
    print(f"{exercise.id}: {verdict}: " + "\n".join(result.lines))
    if args.solution:
        print(f"\nshallowlab's solution:\n\n{sandbox.reference_source(exercise.checker)}")
    return EXIT_OK if result.ok else EXIT_FAILED

