"""``shallowlab run``: one experiment into a run folder, a run resumed, or ``run all``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shallowlab.cli.flags import EXIT_FAILED, EXIT_OK, check_threads, overrides, settings
from shallowlab.errors import ConfigError
from shallowlab.term import colour, silent


def add_parser(sub, experiment_names: list[str]) -> None:
    run = sub.add_parser("run", help="run an experiment into a run folder")
    run.add_argument("name", nargs="?", choices=[*experiment_names, "all"], metavar="NAME",
                     help="the experiment (see `shallowlab list`), or `all` for every one "
                     "and a report")
    run.add_argument("--full", action="store_true",
                     help="with `all`: the book's settings everywhere, not the quick ones")
    run.add_argument("--resume", metavar="RUN_DIR",
                     help="continue the run in RUN_DIR from its last checkpoint (--epochs may "
                     "raise its epoch count; nothing else can change)")
    settings(run)
    run.add_argument("--threads", type=int, metavar="N",
                     help="CPU threads for torch, at most the CPUs this process may run on "
                     "(default: torch's choice, one per core)")
    run.add_argument("--out", help="run folder (default: runs/NAME-TIMESTAMP)")
    run.add_argument("--quiet", action="store_true", help="print only the result: no progress "
                     "bar, no per-epoch or log lines (the run folder is written the same)")



def _table(summary: dict) -> str:
    """The final metrics, a row per split, and the time taken."""
    rows = []
    for split in ("train", "test"):
        loss, acc = summary.get(f"final_{split}_loss"), summary.get(f"final_{split}_acc")
        if loss is not None:
            rows.append(f"{split:8}{loss:>10.4g}" + (f"{acc:>10.4f}" if acc is not None else ""))
    if rows:
        with_acc = summary.get("final_train_acc") is not None
        rows.insert(0, f"{'':8}{'loss':>10}" + (f"{'accuracy':>10}" if with_acc else ""))
    if "best_test_acc" in summary:
        rows.append(f"best test accuracy {summary['best_test_acc']:.4f} "
                    f"(epoch {summary['best_epoch']})")
    if summary.get("most_confused"):
        rows.append("most confused (true -> predicted): " + ", ".join(
            f"{c['true']} -> {c['predicted']} {c['count']}" for c in summary["most_confused"][:3]))
    epochs = f"{summary['epochs']} epochs in " if summary["epochs"] else "done in "
    rows.append(f"{epochs}{summary['seconds']:.1f} s")
    return "\n".join(rows)


def command(args: argparse.Namespace, experiments: dict) -> int:
    from shallowlab.figures import painter

    check_threads(args.threads)  # how fast, not what: not a setting of the run
    if "torch" not in sys.modules:  # matplotlib's import and the figures, beside torch's
        painter.start()
    from shallowlab.core import lazy_dynamo
    from shallowlab.runs.folder import RunDir, default_dir
    from shallowlab.runs.lifecycle import execute
    from shallowlab.runs.settings import resolve

    lazy_dynamo.defer()  # torch.optim imports torch._dynamo only where something compiles

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.name == "all":
        return _run_all(args)
    if args.full:
        raise ConfigError("--full applies to `shallowlab run all` only")
    if args.resume:
        experiment, config = _resumed(args, experiments)
        run = RunDir(args.resume)
        run.remove_temporaries()  # left by a run killed in the middle of a write
    else:
        if not args.name:
            raise ConfigError("give an experiment NAME (see `shallowlab list`), "
                              "or --resume RUN_DIR")
        experiment = experiments[args.name]
        config = resolve(experiment, overrides(args))  # ConfigError before any work
        out = Path(args.out) if args.out else default_dir(experiment.name)
        if (out / "config.json").exists():
            raise ConfigError(f"--out {out} already holds a run; continue it with "
                              f"--resume {out}, or choose another --out")
        run = RunDir(out)
    log = silent if args.quiet else print
    log(f"{colour(experiment.name, 'bold')}: {experiment.title}  ->  {run.path}")
    summary = execute(experiment, config, run, log)
    print(_table(summary))
    print(f"run folder: {run.path}")
    return EXIT_OK


def _run_all(args: argparse.Namespace) -> int:
    from shallowlab.report.suite import run_all
    from shallowlab.runs.folder import default_dir

    given = sorted(k for k, v in overrides(args).items() if v is not None and k != "data_dir")
    if given or args.resume:
        flag = "--resume" if args.resume else "--" + given[0].replace("_", "-")
        raise ConfigError(f"{flag} does not apply to `run all`; it takes --full, --out and "
                          "--data-dir")
    out = Path(args.out) if args.out else default_dir("all")
    sections = run_all(out, full=args.full, data_dir=args.data_dir,
                       log=silent if args.quiet else print)
    for s in sections:
        misses = [h.name for h in s.headlines if not h.agrees]
        note = colour(f"  misses the book: {', '.join(misses)}", "yellow") if misses else ""
        status = colour(s.status, {"completed": "green", "failed": "red"}.get(s.status, "yellow"))
        print(f"{s.name:16}{status}{note}")
    print(f"report: {out / 'report.md'} and {out / 'report.html'}")
    return EXIT_OK if all(s.status == "completed" for s in sections) else EXIT_FAILED


def _resumed(args: argparse.Namespace, experiments: dict):
    """The experiment and settings of the run in ``--resume``; only --epochs may change.

    The saved settings pass the checks the flags pass (:func:`resolve_saved`), so a
    hand-edited config.json is refused in a line naming the file and the entry.
    """
    from shallowlab.runs.settings import resolve, resolve_saved

    path = Path(args.resume) / "config.json"
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        raise ConfigError(f"--resume {args.resume}: no readable config.json of a shallowlab run "
                          "there; if the run stopped before it began, start it again") from None
    if not isinstance(saved, dict):
        raise ConfigError(f"{path} is not a run's settings (a JSON object); restore it, or "
                          "start a new run")
    name = saved.get("experiment")
    if not isinstance(name, str) or name not in experiments:
        raise ConfigError(f"{path}: \"experiment\": {json.dumps(name)} is not one of "
                          "shallowlab's experiments (see `shallowlab list`); restore it, or "
                          "start a new run")
    experiment = experiments[name]
    if args.name and args.name != experiment.name:
        raise ConfigError(f"--resume {args.resume} is a run of {experiment.name}, "
                          f"not {args.name}")
    given = {k: v for k, v in overrides(args).items() if v is not None}
    fixed = sorted(set(given) - {"epochs"})
    if fixed:
        raise ConfigError(f"{'--' + fixed[0].replace('_', '-')} cannot change when resuming; "
                          "only --epochs can (start a new run for other settings)")
    config = resolve_saved(experiment, saved, path)
    return experiment, resolve(experiment, {**config, **given}) if given else config
