"""Start-up: what a command costs around its training, measured as a user runs it.

Run: ``python -m benchmarks.startup [--repeats 5] [--json PATH]`` from the repository root.

Each command is a fresh process; the commands run in turn, ``--repeats`` rounds of all of
them, so every one sees the same machine; a row is the median of its wall times:

    python -c pass                     the interpreter
    python -c "import torch"           torch itself
    shallowlab --help, list            answer without torch: within 0.3 s of ``pass``
    shallowlab run linreg              within 1.0 s of ``import torch``
    shallowlab run mlp --epochs 1      the book's MLP, one epoch (with the real data)

and the split of each run: the imports the command makes before it starts the run (a process
importing the CLI and the experiment, less the interpreter), the run itself as its summary
times it (``summary.json`` seconds), inside it the epochs (``history.json``) and the
Fashion-MNIST read (timed apart, in a process of its own), and the rest (figures, the run
folder's files); what is left of the wall time is the process's start and exit. The JSON keeps
every time measured.

Exit status 1, with one line, when the Fashion-MNIST files are not installed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    add_json_option,
    data_found,
    load_note,
    machine,
    watch_load,
    write_report,
)

PROG = "benchmarks.startup"
PY = sys.executable
IMPORTS = ("import shallowlab.cli; from shallowlab.experiments import EXPERIMENTS; "
           "EXPERIMENTS[{name!r}]; import shallowlab.runs.folder")
READ = ("import time; from shallowlab.data import fashion_mnist; t = time.perf_counter(); "
        "fashion_mnist.load(); print(time.perf_counter() - t)")


def _wall(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout


def commands(out: Path) -> dict[str, list[str]]:
    cli = [PY, "-m", "shallowlab"]
    return {
        "python -c pass": [PY, "-c", "pass"],
        "python -c 'import torch'": [PY, "-c", "import torch"],
        "shallowlab --help": [*cli, "--help"],
        "shallowlab list": [*cli, "list"],
        "shallowlab run linreg": [*cli, "run", "linreg", "--out", str(out / "linreg")],
        "shallowlab run mlp --epochs 1": [*cli, "run", "mlp", "--epochs", "1", "--out",
                                          str(out / "mlp")],
        "imports of run linreg": [PY, "-c", IMPORTS.format(name="linreg")],
        "imports of run mlp": [PY, "-c", IMPORTS.format(name="mlp")],
        "read Fashion-MNIST": [PY, "-c", READ],
    }


def measure(repeats: int) -> dict[str, dict]:
    times: dict[str, list[float]] = {}
    inside: dict[str, list[tuple[float, float]]] = {"linreg": [], "mlp": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for name, command in commands(Path(tmp)).items():
                for run in Path(tmp).glob("*"):  # a run folder is written afresh each time
                    subprocess.run(["rm", "-rf", str(run)], check=True)
                seconds, printed = _wall(command)
                if name == "read Fashion-MNIST":
                    seconds = float(printed.split()[-1])
                times.setdefault(name, []).append(seconds)
                if name.startswith("shallowlab run"):
                    run = Path(tmp) / name.split()[2]
                    summary = json.loads((run / "summary.json").read_text())
                    epochs = sum(r["seconds"] for r in json.loads(
                        (run / "history.json").read_text()))
                    inside[name.split()[2]].append((summary["seconds"], epochs))
    rows = {name: {"median": statistics.median(t), "all": t} for name, t in times.items()}
    for name, pairs in inside.items():
        rows[f"run {name}: in the run"] = {"median": statistics.median(p[0] for p in pairs)}
        rows[f"run {name}: epochs"] = {"median": statistics.median(p[1] for p in pairs)}
    return rows


def table(rows: dict[str, dict]) -> list[str]:
    m = {name: row["median"] for name, row in rows.items()}
    bare, torch_import = m["python -c pass"], m["python -c 'import torch'"]
    lines = [f"{'command':34}{'median s':>10}  target"]
    for name in ("python -c pass", "python -c 'import torch'", "shallowlab --help",
                 "shallowlab list", "shallowlab run linreg", "shallowlab run mlp --epochs 1"):
        target = ""
        if name in ("shallowlab --help", "shallowlab list"):
            ok = m[name] - bare <= 0.3
            target = f"pass + {m[name] - bare:.2f} s (<= 0.3: {'met' if ok else 'MISSED'})"
        elif name == "shallowlab run linreg":
            ok = m[name] - torch_import <= 1.0
            target = (f"import torch + {m[name] - torch_import:.2f} s "
                      f"(<= 1.0: {'met' if ok else 'MISSED'})")
        lines.append(f"{name:34}{m[name]:>10.2f}  {target}")
    for run in ("linreg", "mlp"):
        total = m["shallowlab run linreg" if run == "linreg" else "shallowlab run mlp --epochs 1"]
        imports = m[f"imports of run {run}"] - bare
        inside, epochs = m[f"run {run}: in the run"], m[f"run {run}: epochs"]
        data = m["read Fashion-MNIST"] if run == "mlp" else 0.0
        parts = {"interpreter": bare, "imports": imports, "data": data, "epochs": epochs,
                 "the rest of the run (setup, figures, files)": inside - epochs - data,
                 "start and exit, unaccounted": total - bare - imports - inside}
        lines.append(f"split of run {run} ({total:.2f} s): " + ", ".join(
            f"{k} {v:.2f}" for k, v in parts.items() if k != "data" or run == "mlp"))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds of every command")
    add_json_option(parser, "startup.json")
    args = parser.parse_args(argv)
    if not data_found(PROG):
        return 1
    before, load = watch_load()
    rows = measure(args.repeats)
    during = load()
    for line in table(rows):
        print(line)
    note = load_note(during)
    if note:
        print(note)
    write_report({"machine": machine(), "repeats": args.repeats, "others_load": during,
                  "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
