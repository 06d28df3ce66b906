"""``sweep.md`` and a self-contained ``sweep.html``: what was swept, the best configuration,
the ranked configurations, the figure and every trial (a failed one with its error).

Everything that comes from outside (settings, folder names, errors) is escaped in the HTML.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from shallowlab.runs import atomic_write
from shallowlab.sweep.results import describe, score
from shallowlab.sweep.spec import text

STYLE = """
:root{color-scheme:light dark;--line:#8884;--bad:#c0392b;--good:#1e8449}
body{font:16px/1.5 system-ui,sans-serif;max-width:1100px;margin:auto;padding:1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{border-bottom:1px solid var(--line);padding:.3rem .7rem;text-align:left}
td.n{text-align:right}.failed{color:var(--bad)}.completed{color:var(--good)}
img{max-width:100%;height:auto}.best{font-size:1.1rem}
"""


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
    e = html.escape
    head, best, ranked = _intro(spec, rows, configs, swept)

    def table(header, body, status_column=None):
        cells = "".join(f"<th>{e(h)}</th>" for h in header)
        out = [f"<div class='scroll'><table><tr>{cells}</tr>"]
        for r in body:
            tds = []
            for i, c in enumerate(r):
                cls = c if i == status_column else ("n" if c[:1].isdigit() else "")
                tds.append(f"<td class='{cls}'>{e(c)}</td>")
            out.append("<tr>" + "".join(tds) + "</tr>")
        return "".join(out) + "</table></div>"

    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width,initial-scale=1'>",
             f"<title>Sweep of {e(spec['experiment'])}</title><style>{STYLE}</style></head>",
             f"<body><h1>Sweep of {e(spec['experiment'])}</h1><p>{e(head)}</p>"]
    if best:
        parts.append(f"<p class='best'><strong>{e(best)}</strong></p>")
    if ranked is not None:
        parts.append(f"<h2>Configurations, by {e(ranked[1])}</h2>")
        parts.append(table(*_config_rows(configs, swept, ranked[0])))
    if figure is not None and figure.exists():
        data = base64.b64encode(figure.read_bytes()).decode()
        parts.append(f"<p><img alt='{e(ranked[1] if ranked else 'score')} against the swept "
                     f"settings' src='data:image/png;base64,{data}'></p>")
    key = ranked[0] if ranked else "final_train_loss"
    parts += ["<h2>Trials</h2>", table(*_trial_rows(rows, swept, key), status_column=1),
              "</body></html>"]
    return "\n".join(parts) + "\n"


def write(folder: Path, spec: dict, rows: list[dict], configs: list[dict],
          swept: list[str]) -> None:
    figure = folder / "sweep.png"
    atomic_write(folder / "sweep.md", markdown(spec, rows, configs, swept, figure.exists()))
    atomic_write(folder / "sweep.html",
                 html_page(spec, rows, configs, swept, figure if figure.exists() else None))
