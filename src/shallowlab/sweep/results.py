"""A sweep's results: a row per trial, a row per configuration, ranked.

``trials.csv`` / ``trials.json``: one row per trial (its settings, seed, status, final and best
test accuracy, final losses, epochs, seconds, the error of a failed one). ``summary.csv``: one
row per configuration, the mean and the sample standard deviation over its completed seeds,

    mean = (1/n) sum_i x_i,   std = sqrt( sum_i (x_i - mean)^2 / (n - 1) ),

ranked by the first score the experiment reports: test accuracy (highest first), else test
loss, else training loss (lowest first).
"""

from __future__ import annotations

import csv
import io
import json
import math
import signal
from pathlib import Path

from shallowlab.files import atomic_write
from shallowlab.sweep.jobs import summary
from shallowlab.sweep.spec import Trial, text

METRICS = ("final_test_acc", "best_test_acc", "final_train_loss", "final_test_loss")
SCORES = (("final_test_acc", "test accuracy", True), ("final_test_loss", "test loss", False),
          ("final_train_loss", "training loss", False))  # (key, words, higher is better)


def _last_line(path: Path) -> str | None:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return None
    return lines[-1].removeprefix("shallowlab: error: ") if lines else None


def trial_row(trial: Trial, folder: Path, exit_status: int | None = None,
              error: str | None = None) -> dict:
    """What ``folder`` says of ``trial``; ``exit_status`` (None: not run now) and ``error``,
    where known, explain a trial that ended without saying how."""
    saved = summary(folder)
    state = saved.get("status") or {None: "pending", 130: "interrupted"}.get(exit_status,
                                                                          "failed")
    error = saved.get("error") or error
    if state == "running" and exit_status is not None:  # it ended without saying how
        state = "interrupted" if exit_status == 130 else "failed"
    if state == "failed" and error is None:  # a signal, a crash, a usage error
        if exit_status is not None and exit_status < 0:
            error = f"the trial's process was killed by {signal.Signals(-exit_status).name}"
        error = error or _last_line(folder / "run.log")
    row = {"trial": trial.name, **trial.settings, "seed": trial.seed, "status": state}
    row.update({k: saved.get(k) for k in METRICS})
    row.update(epochs=saved.get("epochs"), seconds=saved.get("seconds"), error=error)
    return row


def score(rows: list[dict]) -> tuple[str, str, bool] | None:
    """The score to rank by: the first of SCORES a completed trial has; None if none has."""
    done = [r for r in rows if r["status"] == "completed"]
    return next((s for s in SCORES if any(r.get(s[0]) is not None for r in done)), None)


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return round(mean, 6), None
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return round(mean, 6), round(std, 6)


def configurations(rows: list[dict], swept: list[str]) -> list[dict]:
    """One row per configuration, with each metric's mean and std over completed seeds,
    ranked best first (configurations without a completed trial last)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(text(r[k]) for k in swept), []).append(r)
    out = []
    for members in groups.values():
        done = [r for r in members if r["status"] == "completed"]
        row = {k: members[0][k] for k in swept}
        row.update(trials=len(members), completed=len(done),
                   failed=sum(r["status"] == "failed" for r in members))
        for key in (*METRICS, "seconds"):
            row[f"{key}_mean"], row[f"{key}_std"] = mean_std(
                [r[key] for r in done if r.get(key) is not None])
        out.append(row)
    ranked = score(rows)
    if ranked is not None:
        key, _, higher = ranked
        sign = -1 if higher else 1
        out.sort(key=lambda r: (r[f"{key}_mean"] is None, sign * (r[f"{key}_mean"] or 0)))
    for rank, row in enumerate(out, 1):
        row["rank"] = rank
    return out


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else text(v) if isinstance(v, (list, tuple)) else v
                      for k, v in r.items()} for r in rows)
    return buf.getvalue()


def write_trials(folder: Path, rows: list[dict]) -> None:
    atomic_write(folder / "trials.csv", _csv(rows))
    atomic_write(folder / "trials.json", json.dumps(rows, indent=2) + "\n")


def write_summary(folder: Path, configs: list[dict]) -> None:
    atomic_write(folder / "summary.csv", _csv([{"rank": c["rank"], **c} for c in configs]))


def describe(config: dict, swept: list[str]) -> str:
    """``lr 0.05, hidden 256`` (or ``the fixed settings`` when nothing is swept)."""
    return ", ".join(f"{k.replace('_', '-')} {text(config[k])}" for k in swept) or \
        "the fixed settings"


def table(configs: list[dict], swept: list[str], rows: list[dict], top: int = 10) -> str:
    """The ranked configurations as text, and a line naming the best."""
    ranked = score(rows)
    if ranked is None:
        return "no trial completed"
    key, words, _ = ranked
    width = max(len(describe(c, swept)) for c in configs)
    lines = [f"{'rank':>4}  {'configuration':{width}}  {words:>18}  done"]
    for c in configs[:top]:
        lines.append(f"{c['rank']:>4}  {describe(c, swept):{width}}  "
                     f"{_plus_minus(c, key):>18}  {c['completed']}/{c['trials']}")
    if len(configs) > top:
        lines.append(f"      ... {len(configs) - top} more in summary.csv")
    best = configs[0]
    if best[f"{key}_mean"] is not None:
        lines.append(f"best: {describe(best, swept)}: {words} {_plus_minus(best, key)} over "
                     f"{best['completed']} seed{'s' * (best['completed'] != 1)}")
    return "\n".join(lines)


def _plus_minus(config: dict, key: str) -> str:
    mean, std = config[f"{key}_mean"], config[f"{key}_std"]
    if mean is None:
        return "failed" if config["failed"] else "-"
    return f"{mean:.4f}" + (f" ± {std:.4f}" if std is not None else "")
