"""A learner's code checked in a process of its own, with a time limit and a memory cap, so
that a hang, a crash or an endless allocation in it never takes the checker down.

:func:`check_file` (``shallowlab check ID FILE.py``) runs ``python -m
shallowlab.exercises.sandbox CHECKER FILE FD`` as a child: it imports the file, finds the
function the checker wants and runs the checker's properties on it, then writes the result
as JSON to the pipe ``FD`` (the learner's own prints go to the child's stdout, not into the
result). :func:`check_function` (``shallowlab.exercises.check(ID, fn)`` in a notebook) forks
the notebook's process instead, so that ``fn`` needs no pickling. Either way the child's
address space is capped (``RLIMIT_AS``: ``memory_mb`` beyond what it holds when it starts)
and it is killed, with its process group, after ``seconds``. Everything that goes wrong is
one line; the parent imports no torch.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from shallowlab.exercises.checkers import CHECKERS

SECONDS, MEMORY_MB = 60.0, 2048


@dataclass(frozen=True)
class Result:
    ok: bool
    lines: list[str]


def _address_space() -> int:
    """This process's virtual memory in bytes (0 where /proc is not there)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def cap_memory(memory_mb: int) -> None:
    """Let this process hold at most ``memory_mb`` MB of address space more than it does."""
    limit = _address_space() + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file


def _died(status: int, seconds: float, memory_mb: int) -> str:
    if status < 0:
        name = signal.Signals(-status).name
        return f"the check's process was killed by {name}" + (
            f" (beyond the {memory_mb} MB memory cap?)" if name == "SIGKILL" else "")
    return f"the check's process ended with status {status} before it said anything"


def check_file(checker: str, path: str | Path, seconds: float = SECONDS,
               memory_mb: int = MEMORY_MB) -> Result:
    """Run checker ``checker`` on the function ``path`` defines, in a child process."""
    path = Path(path)
    if not path.is_file():
        return Result(False, [f"{path}: no such file; give the .py file holding your "
                              f"{CHECKERS[checker].function} function"])
    read, write = os.pipe()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
    command = [sys.executable, "-m", __name__, checker, str(path), str(write)]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env, pass_fds=[write],
                             start_new_session=True, preexec_fn=lambda: cap_memory(memory_mb))
    os.close(write)
    try:
        child.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        os.close(read)
        return Result(False, [f"{path}: the check did not finish within {seconds:g} s (the "
                              "time limit): an endless loop, or much too slow?"])
    with os.fdopen(read) as pipe:
        said = pipe.read()
    if not said:
        return Result(False, [f"{path}: {_died(child.returncode, seconds, memory_mb)}"])
    found = json.loads(said)
    return Result(found["ok"], found["lines"])


def check_function(checker: str, fn, seconds: float = SECONDS,
                   memory_mb: int = MEMORY_MB) -> Result:
    """Run checker ``checker`` on ``fn`` in a forked child of this process."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_forked, args=(checker, fn, memory_mb, send), daemon=True)
    child.start()
    send.close()
    if not receive.poll(seconds):
        child.kill()
        child.join()
        return Result(False, [f"{getattr(fn, '__name__', 'the function')}: the check did not "
                              f"finish within {seconds:g} s (the time limit): an endless loop, "
                              "or much too slow?"])
    try:
        ok, lines = receive.recv()
    except EOFError:
        child.join()
        return Result(False, [_died(child.exitcode or 0, seconds, memory_mb)])
    child.join()
    return Result(ok, lines)


def _forked(checker: str, fn, memory_mb: int, send) -> None:
    import torch

    torch.set_num_threads(1)  # the parent's thread pool does not survive a fork
    cap_memory(memory_mb)
    send.send(_verify(checker, fn))


def _verify(checker: str, fn) -> tuple[bool, list[str]]:
    from shallowlab.exercises.checkers import checking
    from shallowlab.exercises.checkers.harness import verify

    try:
        return verify(checking(checker), fn)
    except MemoryError:
        return False, ["your function ran out of memory (MemoryError) under the cap"]


def load(checker: str, path: Path):
    """The function ``path`` defines for ``checker``, or a one-line reason it cannot be had."""
    import importlib.util
    import traceback

    wanted = CHECKERS[checker].function
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec = importlib.util.spec_from_file_location("solution", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except SyntaxError as e:
        return f"{path} does not import: SyntaxError at line {e.lineno}: {e.msg}"
    except BaseException as e:  # anything at all, exit() included: said in one line
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        said = " ".join(str(e).split())[:160]
        return f"{path} does not import: {type(e).__name__}{where}: {said}"
    fn = getattr(module, wanted, None)
    if fn is None:
        return f"{path} defines no {wanted}; the checker calls {CHECKERS[checker].signature}"
    if not callable(fn):
        return f"{path}: {wanted} is a {type(fn).__name__}, not a function"
    return fn


def reference_source(checker: str) -> str:
    """The reference solution's source, read from its module's file (nothing imported)."""
    entry = CHECKERS[checker]
    path = Path(__file__).parent / "checkers" / f"{entry.module}.py"
    text = path.read_text()
    tree = ast.parse(text)
    (checking,) = [n for n in tree.body if isinstance(n, ast.Assign)
                   and any(getattr(t, "id", None) == entry.attribute for t in n.targets)]
    name = checking.value.args[-1].id  # Checking((...properties...), reference)
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return ast.get_source_segment(text, function).replace(f"def {name}(",
                                                          f"def {entry.function}(", 1)


def _child(checker: str, path: str, fd: int) -> None:
    with os.fdopen(fd, "w") as out:
        fn = load(checker, Path(path))
        if isinstance(fn, str):
            json.dump({"ok": False, "lines": [fn]}, out)
            return
        import torch

        torch.manual_seed(0)  # a solution drawing from the global generator draws alike
        try:
            ok, lines = _verify(checker, fn)
        except BaseException as e:  # exit() in the learner's function, say
            ok, lines = False, [f"the check stopped: {type(e).__name__}: {e}"]
        json.dump({"ok": ok, "lines": lines}, out)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
