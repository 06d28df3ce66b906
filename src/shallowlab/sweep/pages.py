"""``sweep.md`` and a self-contained ``sweep.html``: what was swept, the best configuration,
the ranked configurations, the figure and every trial (a failed one with its error).

Everything that comes from outside (settings, folder names, errors) is escaped in the HTML.
"""

from __future__ import annotations

from html import escape as e
from pathlib import Path

from shallowlab.files import atomic_write
from shallowlab.report.html_page import document, figures, table
from shallowlab.sweep.results import describe, score
from shallowlab.sweep.spec import text


def _number(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _config_rows(configs: list[dict], swept: list[str], key: str) -> tuple[list, list]:
    header = ["rank", *[k.replace("_", " ") for k in swept], "mean", "std", "done"]
    body = [[str(c["rank"]), *[text(c[k]) for k in swept], _number(c[f"{key}_mean"]),
             _number(c[f"{key}_std"]), f"{c['completed']}/{c['trials']}"] for c in configs]
    return header, body


def _trial_rows(rows: list[dict], swept: list[str], key: str) -> tuple[list, list]:
    header = ["trial", "status", key.replace("_", " "), "epochs", "seconds", "error"]
    body = [[r["trial"], r["status"], _number(r.get(key)), _number(r.get("epochs")),
             _number(r.get("seconds"), 1), r.get("error") or ""] for r in rows]
    return header, body


def _intro(spec: dict, rows: list[dict], configs: list[dict], swept: list[str]) -> tuple:
    ranked = score(rows)
    done = sum(r["status"] == "completed" for r in rows)
    failed = sum(r["status"] == "failed" for r in rows)
    head = (f"{spec['experiment']}: {len(configs)} configurations x {len(spec['seeds'])} "
            f"seed{'s' * (len(spec['seeds']) != 1)} = {len(rows)} trials; {done} completed, "
            f"{failed} failed. Fixed settings: "
            + (", ".join(f"{k.replace('_', '-')} {text(v)}" for k, v in spec["fixed"].items()
                         if v is not None) or "the experiment's defaults") + ".")
    best = None
    if ranked is not None and configs[0][f"{ranked[0]}_mean"] is not None:
        best = (f"Best: {describe(configs[0], swept)}, {ranked[1]} "
                f"{_number(configs[0][f'{ranked[0]}_mean'])}.")
    return head, best, ranked


def markdown(spec: dict, rows: list[dict], configs: list[dict], swept: list[str],
             figure: bool) -> str:
    head, best, ranked = _intro(spec, rows, configs, swept)
    lines = [f"# Sweep of {spec['experiment']}", "", head, ""]
    if best:
        lines += [f"**{best}**", ""]

    def table(header, body):
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                *["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body], ""]

    if ranked is not None:
        lines += [f"## Configurations, by {ranked[1]}", ""]
        lines += table(*_config_rows(configs, swept, ranked[0]))
        lines += ["![the sweep's figure](sweep.png)", ""] if figure else []
    lines += ["## Trials", ""] + table(*_trial_rows(rows, swept, ranked[0] if ranked else
                                                     "final_train_loss"))
    return "\n".join(lines)


def html_page(spec: dict, rows: list[dict], configs: list[dict], swept: list[str],
              figure: Path | None) -> str:
    """The page in the report's style (:mod:`shallowlab.report.html_page`)."""
    head, best, ranked = _intro(spec, rows, configs, swept)
    parts = [f"<header><h1>Sweep of {e(spec['experiment'])}</h1><p>{e(head)}</p>"
             + (f"<p><strong>{e(best)}</strong></p>" if best else "") + "</header>"]
    if ranked is not None:
        header, body = _config_rows(configs, swept, ranked[0])
        parts.append(f"<h2>Configurations, by {e(ranked[1])}</h2>"
                     + table([e(h) for h in header], [[e(c) for c in r] for r in body],
                             {0, len(header) - 3, len(header) - 2, len(header) - 1}))
    if figure is not None:
        parts.append(figures([(figure, f"{ranked[1] if ranked else 'score'} against the "
                                       "swept settings, mean and standard deviation over "
                                       "seeds")]))
    header, body = _trial_rows(rows, swept, ranked[0] if ranked else "final_train_loss")
    cells = [[e(r[0]), f"<span class='{e(r[1])}'>{e(r[1])}</span>", *map(e, r[2:])]
             for r in body]
    parts.append("<h2>Trials</h2>" + table([e(h) for h in header], cells, {2, 3, 4}))
    return document(f"Sweep of {spec['experiment']}", "\n".join(parts))


def write(folder: Path, spec: dict, rows: list[dict], configs: list[dict],
          swept: list[str]) -> None:
    figure = folder / "sweep.png"
    atomic_write(folder / "sweep.md", markdown(spec, rows, configs, swept, figure.exists()))
    atomic_write(folder / "sweep.html",
                 html_page(spec, rows, configs, swept, figure if figure.exists() else None))
