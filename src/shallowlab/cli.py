"""The ``shallowlab`` command: a thin shell over the library. Nothing in the package imports it.

Exit status: 0 done, 1 failed at run time, 2 bad usage or configuration, 130 interrupted.
`report` and `runs` exit 2 for a DIR that is not a folder or holds no run folders, and 1 for a
run folder whose summary.json cannot be read.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

import shallowlab
from shallowlab.errors import ConfigError, ShallowlabError
from shallowlab.term import colour, silent

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _numbers(kind):
    """``256`` or ``256,128``: a list of numbers (several flags' values are joined)."""
    def parse(text: str) -> list:
        try:
            return [kind(part) for part in text.split(",") if part.strip()]
        except ValueError:
            message = f"{text!r} is not a list of {kind.__name__}s"
            raise argparse.ArgumentTypeError(message) from None
    return parse


def _settings(parser: argparse.ArgumentParser) -> None:
    """The experiments' settings, as flags: ``run`` takes them, ``sweep`` fixes or varies them."""
    parser.add_argument("--fast", action="store_true", default=None,
                        help="mlp: the fast recipe (0.90 test accuracy in under a minute on a "
                        "small CPU) in place of the book's settings; explicit flags still win")
    parser.add_argument("--impl", help="scratch (tensors and autograd only) or concise (torch.nn)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--hidden", type=_numbers(int), nargs="+", metavar="N[,N...]",
                        help="hidden layer widths, e.g. 256 or 256,256")
    parser.add_argument("--activation", help="relu, sigmoid or tanh")
    parser.add_argument("--dropout", type=_numbers(float), nargs="+", metavar="P[,P...]",
                        help="dropout probability, one for all hidden layers or one per layer")
    parser.add_argument("--init", help="weight initialisation: normal, xavier, he or zeros")
    parser.add_argument("--init-std", type=float, help="std of the normal initialisation")
    parser.add_argument("--weight-decay", type=float, help="L2 penalty on weights (not biases)")
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    parser.add_argument("--engine", help="how a training step is computed: auto (the fused step "
                        "wherever it applies), autograd (the book's), fused, or compiled "
                        "(torch.compile; CUDA graphs on a GPU)")
    parser.add_argument("--tensorboard", action="store_true", default=None,
                        help="also write TensorBoard event files into the run folder's "
                        "tensorboard/ (needs pip install 'shallowlab[tensorboard]')")
    parser.add_argument("--data-dir", help="folder with the Fashion-MNIST files "
                        "(default: $SHALLOWLAB_DATA, the cache, /usr/share/datasets/fashion-mnist)")


def build_parser(experiment_names: list[str]) -> argparse.ArgumentParser:
    parser = _Parser(prog="shallowlab", description=shallowlab.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version",
                        version=f"shallowlab {shallowlab.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the experiments, one line each")

    run = sub.add_parser("run", help="run an experiment into a run folder")
    run.add_argument("name", nargs="?", choices=[*experiment_names, "all"], metavar="NAME",
                     help="the experiment (see `shallowlab list`), or `all` for every one "
                     "and a report")
    run.add_argument("--full", action="store_true",
                     help="with `all`: the book's settings everywhere, not the quick ones")
    run.add_argument("--resume", metavar="RUN_DIR",
                     help="continue the run in RUN_DIR from its last checkpoint (--epochs may "
                     "raise its epoch count; nothing else can change)")
    _settings(run)
    run.add_argument("--threads", type=int, metavar="N",
                     help="CPU threads for torch (default: torch's choice, one per core)")
    run.add_argument("--out", help="run folder (default: runs/NAME-TIMESTAMP)")
    run.add_argument("--quiet", action="store_true", help="print only the result: no progress "
                     "bar, no per-epoch or log lines (the run folder is written the same)")

    _add_report_and_runs(sub)
    data = sub.add_parser("data", help="find, verify (and if need be download) Fashion-MNIST")
    data.add_argument("--data-dir", help="look here first, and download here if needed")
    data.add_argument("--no-download", action="store_true", help="only look, never download")
    data.add_argument("--download", action="store_true",
                      help="download into --data-dir (or the cache) even if a copy exists "
                      "elsewhere; every file is checked against its published MD5")

    sweep = sub.add_parser("sweep", help="run an experiment over a grid or a random sample of "
                           "its settings, times seeds, here or on a Ray cluster")
    sweep.add_argument("name", nargs="?", choices=experiment_names, metavar="NAME",
                       help="the experiment; its flags below are fixed for every trial")
    sweep.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                       help="a run flag and its values (a list's items joined by +: "
                       "hidden=256,256+256); with --sample also NAME=log:LOW:HIGH or "
                       "NAME=uniform:LOW:HIGH; repeat for more flags")
    sweep.add_argument("--sample", type=int, metavar="N",
                       help="random search: N configurations drawn from the --grid values")
    sweep.add_argument("--sample-seed", type=int, metavar="S",
                       help="the seed of the --sample draws (default 0)")
    sweep.add_argument("--seeds", type=int, metavar="K",
                       help="run each configuration with K seeds: --seed, --seed + 1, ...")
    sweep.add_argument("--workers", type=int, metavar="N",
                       help="trials at once on this machine (default: cores / --threads)")
    sweep.add_argument("--threads", type=int, metavar="N",
                       help="torch threads per trial (default: cores / --workers here, "
                       "--cpus-per-trial on Ray); part of what a trial computes")
    sweep.add_argument("--ray", metavar="ADDRESS",
                       help="run the trials on the Ray cluster at HOST:PORT (or auto); needs "
                       "pip install 'shallowlab[ray]'")
    sweep.add_argument("--cpus-per-trial", type=float, metavar="C",
                       help="with --ray: the CPUs Ray reserves for each trial (default: "
                       "--threads, else 1)")
    _settings(sweep)
    sweep.add_argument("--out", help="sweep folder (default: runs/sweep-NAME-TIMESTAMP)")
    sweep.add_argument("--resume", metavar="SWEEP_DIR",
                       help="run the trials of the sweep in SWEEP_DIR not yet completed "
                       "(continuing interrupted ones from their checkpoints)")
    return parser


NOT_SETTINGS = ("command", "name", "out", "resume", "full", "threads", "quiet", "grid",
                "sample", "sample_seed", "seeds", "workers", "ray", "cpus_per_trial")


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


def _overrides(args: argparse.Namespace) -> dict:
    settings = dict(vars(args))
    for key in NOT_SETTINGS:
        settings.pop(key, None)
    for key in ("hidden", "dropout"):  # `--hidden 256 256` and `--hidden 256,256` alike
        if settings[key] is not None:
            settings[key] = tuple(x for part in settings[key] for x in part)
    return settings


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


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def _run(args: argparse.Namespace, experiments: dict) -> int:
    from shallowlab import lazy_dynamo
    from shallowlab.experiments import execute, resolve
    from shallowlab.runs import RunDir, default_dir

    lazy_dynamo.defer()  # torch.optim imports torch._dynamo only where something compiles

    if args.threads is not None:  # how fast, not what: not a setting of the run
        if args.threads < 1:
            raise ConfigError(f"--threads {args.threads} is invalid: it must be an integer >= 1")
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
        config = resolve(experiment, _overrides(args))  # ConfigError before any work
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
    from shallowlab.runs import default_dir
    from shallowlab.suite import run_all

    given = sorted(k for k, v in _overrides(args).items() if v is not None and k != "data_dir")
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
    from shallowlab.experiments.base import resolve, resolve_saved

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
    given = {k: v for k, v in _overrides(args).items() if v is not None}
    fixed = sorted(set(given) - {"epochs"})
    if fixed:
        raise ConfigError(f"{'--' + fixed[0].replace('_', '-')} cannot change when resuming; "
                          "only --epochs can (start a new run for other settings)")
    config = resolve_saved(experiment, saved, path)
    return experiment, resolve(experiment, {**config, **given}) if given else config


class _Strict(_Parser):
    def error(self, message: str) -> None:
        raise ConfigError(message)


def _grid_value(settings: argparse.ArgumentParser, item: str, flag: str, token: str):
    """``token`` as ``flag``'s value (``256+128`` for a list flag): what ``run`` would take."""
    if token in ("true", "false"):
        try:  # a switch such as --fast parses without a value
            return vars(settings.parse_args([flag]))[flag[2:].replace("-", "_")] and \
                token == "true"
        except ConfigError:
            pass
    try:
        given = _overrides(settings.parse_args([flag, token.replace("+", ",")]))
    except ConfigError as e:
        raise ConfigError(f"--grid {item}: {e}") from None
    return next(v for v in given.values() if v is not None)


def _grid(items: list[str]) -> tuple[dict, dict]:
    """``--grid`` items as typed values: ({setting: [values]}, {setting: (kind, low, high)})."""
    from shallowlab.sweep.spec import RANGES

    settings = _Strict(prog="shallowlab sweep", add_help=False)
    _settings(settings)
    known = vars(settings.parse_args([]))
    grid, ranges = {}, {}
    for item in items:
        name, sep, values = item.partition("=")
        key = name.strip().replace("-", "_")
        flag = "--" + key.replace("_", "-")
        if not sep or not key:
            raise ConfigError(f"--grid {item}: write NAME=V1,V2,... (e.g. --grid lr=0.05,0.1)")
        if key not in known:
            raise ConfigError(f"--grid {item}: {flag} is not a flag of `shallowlab run`; see "
                              "shallowlab run --help")
        if key in grid or key in ranges:
            raise ConfigError(f"--grid {item}: {flag} is swept twice; give it one --grid")
        kind, _, span = values.partition(":")
        if kind in RANGES:
            low, _, high = span.partition(":")
            low, high = (_grid_value(settings, item, flag, v) for v in (low, high))
            if not low < high or (kind == "log" and not low > 0):
                raise ConfigError(f"--grid {item}: a range needs LOW < HIGH" +
                                  (", both > 0 for log" if kind == "log" else ""))
            ranges[key] = (kind, low, high)
        else:
            grid[key] = [_grid_value(settings, item, flag, v) for v in values.split(",") if v]
    return grid, ranges


def _sweep(args: argparse.Namespace, experiments: dict, argv: list[str]) -> int:
    from shallowlab import sweep
    from shallowlab.runs import default_dir

    for flag in ("workers", "threads", "seeds", "sample"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise ConfigError(f"--{flag} {getattr(args, flag)} is invalid: it must be an "
                              "integer >= 1")
    if args.cpus_per_trial is not None and not args.cpus_per_trial > 0:
        raise ConfigError(f"--cpus-per-trial {args.cpus_per_trial:g} is invalid: it must be > 0")
    if args.ray and args.workers:
        raise ConfigError("--workers is for a sweep on this machine; on Ray, the cluster's CPUs "
                          "and --cpus-per-trial decide how many trials run at once")
    if args.resume:
        fixed = [k for k, v in _overrides(args).items() if v is not None]
        fixed += [k for k in ("name", "grid", "sample", "sample_seed", "seeds", "threads", "out")
                  if getattr(args, k)]
        if fixed:
            raise ConfigError(f"{'--' + fixed[0].replace('_', '-')} cannot change when resuming "
                              "a sweep; only --workers, --ray and --cpus-per-trial can")
        folder = Path(args.resume)
        spec, trials = sweep.load(folder)
    elif not args.name:
        raise ConfigError("give an experiment NAME (see `shallowlab list`), or --resume "
                          "SWEEP_DIR")
    ray = None
    if args.ray:
        from shallowlab.sweep.cluster import connect

        ray = connect(args.ray)
    if not args.resume:
        experiment = experiments[args.name]
        fixed = {k: v for k, v in _overrides(args).items() if v is not None}
        k = args.seeds or 1
        if "seed" in experiment.defaults:
            base = fixed.pop("seed", experiment.defaults["seed"])
            seeds = [base + i for i in range(k)]
        elif k > 1:
            raise ConfigError(f"--seeds {k} does not apply to {args.name}: it has no --seed")
        else:
            seeds = [None]
        grid, ranges = _grid(args.grid)
        threads = args.threads or (max(1, sweep.cores() // args.workers) if args.workers else
                                   max(1, int(args.cpus_per_trial or 1)))
        spec = sweep.Spec(args.name, fixed, grid, ranges, args.sample, args.sample_seed or 0,
                          seeds, threads)
        folder = Path(args.out) if args.out else default_dir(f"sweep-{args.name}")
        trials = sweep.plan(spec, folder, ["shallowlab", *argv])
    workers = args.workers or max(1, sweep.cores() // spec.threads)
    try:
        rows = sweep.execute(spec, trials, folder, workers=workers, ray=ray,
                             cpus_per_trial=args.cpus_per_trial)
    except KeyboardInterrupt:
        print(f"shallowlab: finish the sweep with: shallowlab sweep --resume {folder}",
              file=sys.stderr)
        raise
    print(sweep.ranked(spec, rows))
    print(f"sweep folder: {folder} (trials.csv, summary.csv, sweep.png, sweep.html)")
    return EXIT_OK if all(r["status"] == "completed" for r in rows) else EXIT_FAILED


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
    from shallowlab import runs_table

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
            return _sweep(args, EXPERIMENTS, argv)
        if args.command == "report":
            return _report(args)
        if args.command == "runs":
            return _runs(args)
        return _run(args, EXPERIMENTS)
    except (ConfigError, ShallowlabError) as e:
        print(f"shallowlab: {colour('error:', 'red', sys.stderr)} {e}", file=sys.stderr)
        return EXIT_USAGE if isinstance(e, ConfigError) else EXIT_FAILED
    except KeyboardInterrupt:
        print(f"shallowlab: {colour('interrupted', 'yellow', sys.stderr)}", file=sys.stderr)
        return EXIT_INTERRUPTED
