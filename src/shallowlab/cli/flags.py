"""The command line's shared parts: the parser that fails in one line, the experiments' settings
as flags (``run`` takes them, ``sweep`` fixes or varies them), and the settings a command gave.

Exit status: 0 done, 1 failed at run time, 2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os

from shallowlab.errors import ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# a command's own options: everything else it parsed is an experiment's setting
NOT_SETTINGS = ("command", "name", "out", "resume", "full", "threads", "quiet", "grid",
                "sample", "sample_seed", "seeds", "workers", "ray", "cpus_per_trial")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def numbers(kind):
    """``256`` or ``256,128``: a list of numbers (several flags' values are joined)."""
    def parse(text: str) -> list:
        try:
            return [kind(part) for part in text.split(",") if part.strip()]
        except ValueError:
            message = f"{text!r} is not a list of {kind.__name__}s"
            raise argparse.ArgumentTypeError(message) from None
    return parse


def settings(parser: argparse.ArgumentParser) -> None:
    """The experiments' settings, as flags: ``run`` takes them, ``sweep`` fixes or varies them."""
    parser.add_argument("--fast", action="store_true", default=None,
                        help="mlp: the fast recipe (0.90 test accuracy in under a minute on a "
                        "small CPU) in place of the book's settings; explicit flags still win")
    parser.add_argument("--impl", help="scratch (tensors and autograd only) or concise (torch.nn)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--hidden", type=numbers(int), nargs="+", metavar="N[,N...]",
                        help="hidden layer widths, e.g. 256 or 256,256")
    parser.add_argument("--activation", help="relu, sigmoid or tanh")
    parser.add_argument("--dropout", type=numbers(float), nargs="+", metavar="P[,P...]",
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
    parser.add_argument("--precision", help="fp32 (the book's) or bf16: the matrix products "
                        "in bfloat16, the weights, loss and update in fp32; used where the CPU "
                        "(AVX-512 BF16, AMX) or GPU computes bf16 faster, else fp32, said so")
    parser.add_argument("--tensorboard", action="store_true", default=None,
                        help="also write TensorBoard event files into the run folder's "
                        "tensorboard/ (needs pip install 'shallowlab[tensorboard]')")
    parser.add_argument("--data-dir", help="folder with the Fashion-MNIST files "
                        "(default: $SHALLOWLAB_DATA, the cache, /usr/share/datasets/fashion-mnist)")


def overrides(args: argparse.Namespace) -> dict:
    """The experiment settings in ``args``, None where not given; list flags as tuples."""
    given = dict(vars(args))
    for key in NOT_SETTINGS:
        given.pop(key, None)
    for key in ("hidden", "dropout"):  # `--hidden 256 256` and `--hidden 256,256` alike
        if given[key] is not None:
            given[key] = tuple(x for part in given[key] for x in part)
    return given


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS keeps one (``taskset``
    or a container may allow fewer than the machine has), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_threads(threads: int | None) -> None:
    """``--threads`` from 1 to :func:`usable_cpus`, else ConfigError. More threads than CPUs
    only wait on each other, and torch's spin while they wait: ``--threads 1000`` on 2 CPUs
    took minutes over an epoch of seconds."""
    if threads is None:
        return
    if threads < 1:
        raise ConfigError(f"--threads {threads} is invalid: it must be an integer >= 1")
    most = usable_cpus()
    if threads > most:
        raise ConfigError(f"--threads {threads} is more than the {most} CPUs this process may "
                          f"run on; give --threads {most} or fewer")
