"""``shallowlab sweep``: the ``--grid`` flags read as the run flags they name, and the sweep
carried out by :mod:`shallowlab.sweep`.

Every refusal that the flags alone decide (a number out of range, flags that exclude each
other, a ``--grid`` item that is not a run flag, not a value of it, or sweeps nothing) is made
before torch is imported, so it answers in a fraction of a second; what needs the experiment
(a value out of its range, a flag it does not take) is checked by :func:`shallowlab.sweep.plan`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shallowlab.cli.flags import (
    EXIT_FAILED,
    EXIT_OK,
    Parser,
    check_threads,
    overrides,
    settings,
)
from shallowlab.errors import ConfigError
from shallowlab.term import silent

RANGES = ("log", "uniform")  # shallowlab.sweep.spec.RANGES, here without importing torch
SPEC_FILE = "sweep.json"  # shallowlab.sweep.SPEC_FILE


def add_parser(sub, experiment_names: list[str]) -> None:
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
    settings(sweep)
    sweep.add_argument("--out", help="sweep folder (default: runs/sweep-NAME-TIMESTAMP)")
    sweep.add_argument("--resume", metavar="SWEEP_DIR",
                       help="run the trials of the sweep in SWEEP_DIR not yet completed "
                       "(continuing interrupted ones from their checkpoints)")
    sweep.add_argument("--quiet", action="store_true", help="print only the result: no line "
                       "per trial (the sweep folder is written the same)")


class Strict(Parser):
    def error(self, message: str) -> None:
        raise ConfigError(message)


def _grid_value(parser: argparse.ArgumentParser, item: str, flag: str, token: str):
    """``token`` as ``flag``'s value (``256+128`` for a list flag): what ``run`` would take."""
    if token in ("true", "false"):
        try:  # a switch such as --fast parses without a value
            return vars(parser.parse_args([flag]))[flag[2:].replace("-", "_")] and \
                token == "true"
        except ConfigError:
            pass
    try:
        given = overrides(parser.parse_args([flag, token.replace("+", ",")]))
    except ConfigError as e:
        raise ConfigError(f"--grid {item}: {e}") from None
    return next(v for v in given.values() if v is not None)


def _grid(items: list[str]) -> tuple[dict, dict]:
    """``--grid`` items as typed values: ({setting: [values]}, {setting: (kind, low, high)})."""
    parser = Strict(prog="shallowlab sweep", add_help=False)
    settings(parser)
    known = vars(parser.parse_args([]))
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
            low, high = (_grid_value(parser, item, flag, v) for v in (low, high))
            if not low < high or (kind == "log" and not low > 0):
                raise ConfigError(f"--grid {item}: a range needs LOW < HIGH" +
                                  (", both > 0 for log" if kind == "log" else ""))
            ranges[key] = (kind, low, high)
        else:
            grid[key] = [_grid_value(parser, item, flag, v) for v in values.split(",") if v]
            if not grid[key]:
                raise ConfigError(f"--grid {flag[2:]}= lists no values; give one or more: "
                                  f"--grid {flag[2:]}=V1,V2")
    return grid, ranges


def _refuse(args: argparse.Namespace) -> tuple[dict, dict]:
    """Every refusal the flags alone decide, torch not imported; the --grid items parsed."""
    for flag in ("workers", "threads", "seeds", "sample"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise ConfigError(f"--{flag} {getattr(args, flag)} is invalid: it must be an "
                              "integer >= 1")
    if args.cpus_per_trial is not None and not args.cpus_per_trial > 0:
        raise ConfigError(f"--cpus-per-trial {args.cpus_per_trial:g} is invalid: it must be > 0")
    if args.ray and args.workers:
        raise ConfigError("--workers is for a sweep on this machine; on Ray, the cluster's CPUs "
                          "and --cpus-per-trial decide how many trials run at once")
    if not args.ray:  # on Ray the trials run on the cluster's machines, not this one's CPUs
        check_threads(args.threads)
    if args.resume:
        fixed = [k for k, v in overrides(args).items() if v is not None]
        fixed += [k for k in ("name", "grid", "sample", "sample_seed", "seeds", "threads", "out")
                  if getattr(args, k)]
        if fixed:
            raise ConfigError(f"{'--' + fixed[0].replace('_', '-')} cannot change when resuming "
                              "a sweep; only --workers, --ray and --cpus-per-trial can")
        if not (Path(args.resume) / SPEC_FILE).is_file():
            raise ConfigError(f"--resume {args.resume}: no readable {SPEC_FILE} of a shallowlab "
                              "sweep there; give the folder a sweep was started in")
        return {}, {}
    if not args.name:
        raise ConfigError("give an experiment NAME (see `shallowlab list`), or --resume "
                          "SWEEP_DIR")
    grid, ranges = _grid(args.grid)
    if ranges and args.sample is None:
        key, (kind, _, _) = next(iter(ranges.items()))
        raise ConfigError(f"--grid {key.replace('_', '-')}={kind}:... is a range, drawn from "
                          "only in random search; add --sample N")
    if not grid and not ranges and (args.seeds or 1) < 2:
        raise ConfigError("nothing to sweep: give --grid NAME=V1,V2,... (any run flag), "
                          "or --seeds K with K >= 2")
    return grid, ranges


def _new_spec(args: argparse.Namespace, experiments: dict, grid: dict, ranges: dict, cores):
    """The sweep the flags describe (the experiment's own checks come in ``plan``)."""
    from shallowlab.sweep import Spec

    experiment = experiments[args.name]
    fixed = {k: v for k, v in overrides(args).items() if v is not None}
    k = args.seeds or 1
    if "seed" in experiment.defaults:
        base = fixed.pop("seed", experiment.defaults["seed"])
        seeds = [base + i for i in range(k)]
    elif k > 1:
        raise ConfigError(f"--seeds {k} does not apply to {args.name}: it has no --seed")
    else:
        seeds = [None]
    threads = args.threads or (max(1, cores // args.workers) if args.workers else
                               max(1, int(args.cpus_per_trial or 1)))
    return Spec(args.name, fixed, grid, ranges, args.sample, args.sample_seed or 0, seeds,
                threads)


def command(args: argparse.Namespace, experiments: dict, argv: list[str]) -> int:
    grid, ranges = _refuse(args)  # before torch: a refusal answers at once
    from shallowlab import sweep
    from shallowlab.runs.folder import default_dir

    if args.resume:
        folder = Path(args.resume)
        spec, trials = sweep.load(folder)
    ray = None
    if args.ray:
        from shallowlab.sweep.cluster import connect

        ray = connect(args.ray)
    if not args.resume:
        spec = _new_spec(args, experiments, grid, ranges, sweep.cores())
        folder = Path(args.out) if args.out else default_dir(f"sweep-{args.name}")
        trials = sweep.plan(spec, folder, ["shallowlab", *argv])
    workers = args.workers or max(1, sweep.cores() // spec.threads)
    try:
        rows = sweep.run_trials(spec, trials, folder, workers=workers, ray=ray,
                                cpus_per_trial=args.cpus_per_trial,
                                log=silent if args.quiet else print)
    except KeyboardInterrupt:
        print(f"shallowlab: finish the sweep with: shallowlab sweep --resume {folder}",
              file=sys.stderr)
        raise
    print(sweep.ranked(spec, rows))
    print(f"sweep folder: {folder} (trials.csv, summary.csv, sweep.png, sweep.html)")
    return EXIT_OK if all(r["status"] == "completed" for r in rows) else EXIT_FAILED
