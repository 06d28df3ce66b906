"""Training speed of shallowlab against the hardware's limit and other pipelines, side by side.

Run: ``.venv/bin/python benchmarks/speed.py [--epochs N] [--threads N] [--json PATH]``

Two models with the book's settings (batch 256, SGD lr 0.1, cross-entropy with
``reduction="none"`` and ``l.mean().backward()``, weights N(0, 0.01), biases 0): softmax regression
(Flatten + Linear(784, 10)) and the MLP (784-256-10, ReLU). Each is trained by these pipelines in
this one process on this one machine:

* ``shallowlab``: ``fashion_mnist.load()``, images converted once with ``to_float``, shuffled
  ``Batches`` from a seeded generator, ``fit(..., epochs=1)`` once per epoch, with its default
  engine (the fused step of ``shallowlab.fused``);
* ``autograd``: the same with ``engine="autograd"``, the book's step;
* ``book``: a replica of d2l 0.17's ``load_data_fashion_mnist`` + ``train_epoch_ch3``. A per-item
  ``Dataset`` holds the uint8 images and converts one per ``__getitem__`` as torchvision's
  ``FashionMNIST`` + ``ToTensor`` do (PIL ``Image.fromarray(img, mode="L")``, then a float
  (1, 28, 28) tensor in [0, 1]); ``DataLoader(batch_size=256, shuffle=True, num_workers=4)``
  (the book's ``get_dataloader_workers()``), new workers at every ``iter()`` as in the book;
  the book's per-batch host reads (``float(l.sum())``, ``accuracy``) into an ``Accumulator``;
* ``sklearn``: scikit-learn's ``MLPClassifier`` (same layers, batch, learning rate, plain SGD,
  float32; its own Glorot initialisation), one ``partial_fit`` per epoch, where installed.

And the hardware's limit, measured between the epochs:

* MLP, the **roofline**: the epoch's matrix products, counted (per batch of B and layer
  n_in -> n_out: forward ``2 B n_in n_out``, ``dW`` the same, ``dA`` for all but the first
  layer), each timed on its own at its own shapes (the 234 full batches and the short one);
  their sum is the time the epoch would take if it were nothing but its products;
* softmax regression, the **memory limit**: the bytes an epoch must read (the float32 images and
  int64 labels, once) over the read bandwidth measured by summing a 1 GiB buffer.

What is timed: the **training pass** of an epoch only (for the book that includes starting its
DataLoader workers, which it does every epoch). The data load is done once, before, and not timed.
Each pipeline, and the limit's measurement, runs in a process of its own (so none inherits
another's leftovers: the book's forked workers, scikit-learn's spinning BLAS threads), and
their epochs alternate, so all see the same machine; the first epoch of each is a warm-up, and
the figure reported is the median of the epochs after it. The limit is the fastest of its
measurements (two per round): the best this machine showed. Evaluation on the 10000
test images is timed separately, once, after the last epoch, and its accuracy printed so that no
speed is bought with accuracy: every pipeline trains the same epochs.

Timings are only as good as the machine is quiet: the share of the CPUs that other processes use
in the second before the run and during it is printed and recorded (noisy above 10%).

Output: a table on stdout with each pipeline's epoch as a multiple of the limit and of
shallowlab's, and the targets (MLP within 1.3x its roofline, softmax within 3x its memory limit,
both at least 15x faster than the book); JSON with the machine, the settings, the limits and
every epoch time to ``--json PATH`` (default ``results.json`` beside this script; ``-`` prints
it). Exit status 1, with a one-line message, when the Fashion-MNIST files are not installed.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils import data

from shallowlab import nets
from shallowlab.data import fashion_mnist
from shallowlab.data.batches import Batches
from shallowlab.errors import DataError, ShallowlabError
from shallowlab.experiments.classify import EVAL_BATCH, to_float
from shallowlab.train import evaluate, fit

BATCH, LR, STD, SEED = 256, 0.1, 0.01, 0
TARGET_X_LIMIT = {"mlp": 1.3, "softmax": 3.0}  # epoch / roofline, epoch / memory limit
TARGET_X_BOOK = 15.0  # book epoch / shallowlab epoch
MODELS = {  # the book's nets, written as d2l writes them; the same as shallowlab.nets'
    "softmax": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
    "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                                 nn.Linear(256, 10)),
}
BUILDERS = {"softmax": nets.softmax_regression, "mlp": lambda: nets.mlp(784, (256,), 10)}


def initialised(model: nn.Module) -> nn.Module:
    """Weights N(0, 0.01^2), biases 0, from the same seed for both pipelines."""
    return nets.init_(model, "normal", STD, generator=torch.Generator().manual_seed(SEED))


# --- the two pipelines: each returns (train one epoch, test accuracy) -----------------------

def shallowlab_pipeline(name: str, ds, engine: str = "auto"):
    cpu = torch.device("cpu")
    X, y = to_float(ds.train_images, cpu), ds.train_labels
    test = Batches(to_float(ds.test_images, cpu), ds.test_labels, EVAL_BATCH, shuffle=False)
    train = Batches(X, y, BATCH, generator=torch.Generator().manual_seed(SEED + 1))
    model = initialised(BUILDERS[name]())
    loss = nn.CrossEntropyLoss(reduction="none")  # fit's contract, as the book's: one per example
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def epoch() -> None:
        fit(model, loss, optimizer, train, epochs=1, progress=False, log=lambda s: None,
            engine=engine)

    return epoch, lambda: evaluate(model, loss, test)[1]


# --- the book (d2l 0.17), replicated without torchvision --------------------------------------

class FashionMNISTItems(data.Dataset):
    """torchvision's ``FashionMNIST(transform=transforms.ToTensor())``: one PIL image per item."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.data, self.targets = images, labels

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy(), mode="L")
        # transforms.ToTensor() on a mode-L image
        t = torch.from_numpy(np.array(img, np.uint8, copy=True))
        t = t.view(img.size[1], img.size[0], len(img.getbands())).permute((2, 0, 1)).contiguous()
        return t.to(dtype=torch.get_default_dtype()).div(255), target


def get_dataloader_workers() -> int:
    return 4


class Accumulator:
    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args, strict=True)]

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net: nn.Module, data_iter) -> float:
    net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch_ch3(net: nn.Module, train_iter, loss, updater) -> tuple[float, float]:
    net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 (the book's name)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def book_pipeline(name: str, ds):
    torch.manual_seed(SEED + 1)  # the DataLoader's shuffle draws from the global generator
    train_iter = data.DataLoader(FashionMNISTItems(ds.train_images, ds.train_labels), BATCH,
                                 shuffle=True, num_workers=get_dataloader_workers())
    test_iter = data.DataLoader(FashionMNISTItems(ds.test_images, ds.test_labels), BATCH,
                                shuffle=False, num_workers=get_dataloader_workers())
    net = initialised(MODELS[name]())
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=LR)
    return (lambda: train_epoch_ch3(net, train_iter, loss, trainer),
            lambda: evaluate_accuracy(net, test_iter))


def sklearn_pipeline(name: str, ds):
    """scikit-learn's ``MLPClassifier``: the same layers, batch, learning rate and plain SGD.

    ``partial_fit`` is one shuffled pass over the data; float32 in, float32 weights. Its own
    initialisation (Glorot), as a user of it gets.
    """
    from sklearn.neural_network import MLPClassifier

    hidden = {"softmax": (), "mlp": (256,)}[name]
    X = ds.train_images.reshape(len(ds.train_images), -1).numpy().astype(np.float32) / 255
    y = ds.train_labels.numpy()
    X_test = ds.test_images.reshape(len(ds.test_images), -1).numpy().astype(np.float32) / 255
    model = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", solver="sgd",
                          batch_size=BATCH, learning_rate_init=LR, momentum=0.0, alpha=0.0,
                          shuffle=True, random_state=SEED)
    classes = np.arange(10)
    return (lambda: model.partial_fit(X, y, classes=classes),
            lambda: float((model.predict(X_test) == ds.test_labels.numpy()).mean()))


PIPELINES = {"shallowlab": shallowlab_pipeline,
             "autograd": functools.partial(shallowlab_pipeline, engine="autograd"),
             "book": book_pipeline, "sklearn": sklearn_pipeline}
WIDTHS = {"softmax": (784, 10), "mlp": (784, 256, 10)}


# --- the hardware's limits, measured at the epoch's own shapes --------------------------------

def _seconds_per_call(f, calls: int = 10, blocks: int = 5) -> float:
    """Median over ``blocks`` of the mean time of ``calls`` back-to-back calls, after a warm-up."""
    for _ in range(3):
        f()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def products(widths: tuple[int, ...], B: int) -> list[tuple[int, object]]:
    """The matrix products of one SGD step on a batch of B: ``(flops, call)`` each.

    Per layer k (``n_in -> n_out``): forward ``addmm(b, A, W^T)``, 2 B n_in n_out flops;
    backward ``dW = G^T A``, the same; and ``dA = G W`` for every layer but the first (the
    input needs no gradient). Elementwise work (bias, relu, softmax, the update) is not counted.
    """
    g = torch.Generator().manual_seed(0)
    calls = []
    for k, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        A, W = torch.rand(B, n_in, generator=g), torch.rand(n_out, n_in, generator=g)
        b, G = torch.rand(n_out, generator=g), torch.rand(B, n_out, generator=g)
        flops = 2 * B * n_in * n_out
        calls += [(flops, lambda A=A, W=W, b=b: torch.addmm(b, A, W.t())),
                  (flops, lambda A=A, G=G: G.t() @ A)]
        if k > 0:
            calls.append((flops, lambda G=G, W=W: G @ W))
    return calls


def roofline(widths: tuple[int, ...], n: int, batch: int) -> dict:
    """The epoch's counted matrix-product flops over the throughput measured at its shapes."""
    sizes = [batch] * (n // batch) + ([n % batch] if n % batch else [])
    per_batch = {}
    for B in set(sizes):
        timed_calls = [(flops, _seconds_per_call(call)) for flops, call in products(widths, B)]
        per_batch[B] = (sum(f for f, _ in timed_calls), sum(t for _, t in timed_calls))
    flops = sum(per_batch[B][0] for B in sizes)
    seconds = sum(per_batch[B][1] for B in sizes)
    return {"flops": flops, "seconds": seconds, "gflops_per_s": flops / seconds / 1e9}


def memory_limit(nbytes: int, buffer_bytes: int = 1 << 30) -> dict:
    """The bytes an epoch must read over the read bandwidth measured by summing a 1 GiB buffer.

    1 GiB is larger than the caches, so the bandwidth is main memory's.
    """
    buf = torch.ones(buffer_bytes // 4)
    seconds = _seconds_per_call(buf.sum, calls=1)
    del buf
    bandwidth = buffer_bytes / seconds
    return {"bytes": nbytes, "seconds": nbytes / bandwidth, "gb_per_s": bandwidth / 1e9}


def timed(f) -> tuple[float, object]:
    start = time.perf_counter()
    result = f()
    return time.perf_counter() - start, result


def _limit(name: str, n: int) -> dict:
    if name == "mlp":
        return roofline(WIDTHS[name], n, BATCH)
    return memory_limit(n * 784 * 4 + n * 8)  # the float32 images and int64 labels, once


def _serve(conn, what: str, name: str, threads: int | None) -> None:
    """A pipeline (or the limit) in a process of its own, one epoch per request."""
    # Started by spawn, this process would spawn the book's DataLoader workers too (pickling
    # the dataset for each); the book runs them forked, Linux's default, and so do we.
    multiprocessing.set_start_method("fork", force=True)
    if threads is not None:
        torch.set_num_threads(threads)
    # The book's 4 workers on a 2-core machine, and its float(l.sum()) of a tensor that
    # requires grad, each warn; both are the book's own behaviour, kept and silenced.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    ds = fashion_mnist.load(allow_download=False)
    if what == "limit":  # measured twice, the faster kept: the first wakes the cores up
        n = len(ds.train_images)
        epoch = lambda: min((_limit(name, n) for _ in range(2)),  # noqa: E731
                            key=lambda x: x["seconds"])
        test_acc = None
    else:
        epoch, test_acc = PIPELINES[what](name, ds)
    conn.send("ready")
    for request in iter(conn.recv, "stop"):
        if request == "eval":
            conn.send(timed(test_acc))
        else:  # an epoch: its seconds, or the limit's measurement
            conn.send(epoch() if what == "limit" else timed(epoch)[0])


def bench(name: str, epochs: int, pipelines: list[str], threads: int | None
          ) -> tuple[list[dict], dict]:
    """The pipelines on one model, each in a process of its own, their epochs interleaved with
    each other and with the measurement of the hardware's limit, so that all see the same
    machine and none the others' leftovers (the book's forked workers, scikit-learn's spinning
    BLAS threads)."""
    context = multiprocessing.get_context("spawn")
    workers = {}
    for what in ("limit", *pipelines):
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, what, name, threads))
        process.start()
        workers[what] = (ours, process)
    for ours, _ in workers.values():
        ours.recv()  # every process has loaded the data
    seconds = {p: [] for p in pipelines}
    limits = []
    for i in range(epochs):
        for what, (ours, _) in workers.items():
            print(f"{name} {what} epoch {i + 1}/{epochs}", file=sys.stderr, flush=True)
            ours.send("epoch")
            (limits if what == "limit" else seconds[what]).append(ours.recv())
    rows = []
    for p in pipelines:
        ours, _ = workers[p]
        ours.send("eval")
        eval_seconds, acc = ours.recv()
        rows.append({"model": name, "pipeline": p, "epochs": epochs,
                     "epoch_seconds": seconds[p],
                     "median_epoch_seconds": statistics.median(seconds[p][1:]),
                     "best_epoch_seconds": min(seconds[p][1:]),
                     "eval_seconds": eval_seconds, "test_acc": acc})
    for ours, process in workers.values():
        ours.send("stop")
        process.join()
    # The limit is the best the hardware showed: the fastest of the measurements
    limit = dict(min(limits, key=lambda x: x["seconds"]))
    limit["kind"] = "roofline" if name == "mlp" else "memory limit"
    limit["all_seconds"] = [x["seconds"] for x in limits]
    return rows, limit


class OtherLoad:
    """Share of the machine's CPU time used by *other* processes between ``start()`` and ``()``.

    All CPUs' busy time (``/proc/stat``) less this process's and its reaped children's (the
    book's DataLoader workers): what others took from the machine while we were timing.
    """

    def start(self) -> OtherLoad:
        self.t0, self.busy0, self.own0 = time.perf_counter(), *self._sample()
        return self

    def __call__(self) -> float | None:
        try:
            busy, own = self._sample()
        except (OSError, ValueError):
            return None
        capacity = (time.perf_counter() - self.t0) * (os.cpu_count() or 1)
        return max(0.0, (busy - self.busy0) - (own - self.own0)) / capacity

    @staticmethod
    def _sample() -> tuple[float, float]:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
        own = sum(getattr(resource.getrusage(who), f) for f in ("ru_utime", "ru_stime")
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return busy, own


# --- report ---------------------------------------------------------------------------------

def write_report(report: dict, dest: str) -> None:
    """The benchmark's JSON to ``dest``, or to stdout when ``dest`` is ``-``."""
    text = json.dumps(report, indent=2)
    if dest == "-":
        print(text)
    else:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        Path(dest).write_text(text + "\n")
        print(f"JSON: {dest}")


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--epochs", type=int, default=6,
                        help="epochs per model and pipeline, the first a warm-up (default 6)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads of this process (default: torch's choice)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--pipelines", nargs="+", choices=list(PIPELINES),
                        default=list(PIPELINES), help="default: all (sklearn where installed)")
    parser.add_argument("--json", default=str(Path(__file__).with_name("results.json")),
                        help="where to write the JSON (default %(default)s; '-' for stdout)")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: one warm-up and one timed")
    if args.threads is not None:
        torch.set_num_threads(args.threads)  # the book's workers use 1 thread each regardless
    pipelines = list(args.pipelines)
    if "sklearn" in pipelines and importlib.util.find_spec("sklearn") is None:
        print("speed.py: scikit-learn is not installed; its row is left out", file=sys.stderr)
        pipelines.remove("sklearn")
    if "shallowlab" not in pipelines:
        parser.error("--pipelines must include shallowlab, the yardstick of the ratios")
    try:  # here, so that a missing data set is one line, not one per worker process
        fashion_mnist.locate(allow_download=False)
    except ShallowlabError as e:  # DataError: not there; ConfigError: a bad SHALLOWLAB_DATA
        print("speed.py: Fashion-MNIST not found; install it with `sudo apt-get install "
              "dataset-fashion-mnist` (or set SHALLOWLAB_DATA=DIR)" if isinstance(e, DataError)
              else f"speed.py: {e}", file=sys.stderr)
        return 1
    try:
        others = OtherLoad().start()
        time.sleep(1)
        others_before = others()
        others.start()
    except (OSError, ValueError):  # no /proc/stat: not Linux
        others = lambda: None  # noqa: E731
        others_before = None
    started = time.perf_counter()
    rows, limits = [], {}
    for name in args.models:
        model_rows, limits[name] = bench(name, args.epochs, pipelines, args.threads)
        rows += model_rows
    print(f"\nTraining pass per epoch: median (and best) of {args.epochs - 1} epochs after 1 "
          "warm-up; each pipeline in its own process, their epochs interleaved;\neval: once "
          "after training, on the 10000 test images. x limit: epoch s / the hardware limit, the "
          "fastest of its measurements\n(mlp: roofline of its matrix products; softmax: its "
          "bytes at memory bandwidth); x faster: the pipeline's epoch s / shallowlab's.")
    print(f"{'model':8s} {'pipeline':11s} {'epoch s':>8s} {'(best)':>8s} {'eval s':>7s} "
          f"{'test acc':>8s} {'x limit':>8s} {'x faster':>9s}")
    verdicts = {}
    for name in args.models:
        limit = limits[name]
        print(f"{name:8s} {limit['kind']:11s} {limit['seconds']:8.3f}" + (
            f"   ({limit['flops'] / 1e9:.1f} GFLOP at {limit['gflops_per_s']:.0f} GFLOP/s)"
            if name == "mlp" else
            f"   ({limit['bytes'] / 1e6:.0f} MB at {limit['gb_per_s']:.1f} GB/s)"))
        ours = next(r for r in rows if r["model"] == name and r["pipeline"] == "shallowlab")
        for row in (r for r in rows if r["model"] == name):
            row["x_limit"] = row["median_epoch_seconds"] / limit["seconds"]
            row["x_slower_than_shallowlab"] = \
                row["median_epoch_seconds"] / ours["median_epoch_seconds"]
            print(f"{name:8s} {row['pipeline']:11s} {row['median_epoch_seconds']:8.3f} "
                  f"{row['best_epoch_seconds']:8.3f} {row['eval_seconds']:7.3f} "
                  f"{row['test_acc']:8.4f} {row['x_limit']:7.2f}x "
                  f"{row['x_slower_than_shallowlab']:8.1f}x")
        book = next((r for r in rows if r["model"] == name and r["pipeline"] == "book"), None)
        verdicts[name] = {
            "x_limit": ours["x_limit"], "target_x_limit": TARGET_X_LIMIT[name],
            "x_limit_met": ours["x_limit"] <= TARGET_X_LIMIT[name],
            "x_faster_than_book": book["x_slower_than_shallowlab"] if book else None,
            "target_x_faster_than_book": TARGET_X_BOOK,
            "x_faster_than_book_met": book["x_slower_than_shallowlab"] >= TARGET_X_BOOK
            if book else None,
        }
    print("targets: " + "; ".join(
        f"{name} {v['x_limit']:.2f}x {limits[name]['kind']} (<= {v['target_x_limit']}: "
        f"{'met' if v['x_limit_met'] else 'MISSED'})" + (
            f", {v['x_faster_than_book']:.1f}x faster than the book (>= {TARGET_X_BOOK}: "
            f"{'met' if v['x_faster_than_book_met'] else 'MISSED'})"
            if v["x_faster_than_book"] else "") for name, v in verdicts.items()))
    gpu = "not measured: no CUDA device on this machine" if not torch.cuda.is_available() else \
        "not measured by this script: run benchmarks/speed.py on the GPU machine"
    print(f"GPU: {gpu}")
    others_during = others()
    if others_during is not None:
        noisy = max(others_before or 0, others_during) > 0.1
        print(f"other processes used {others_before:.0%} of the CPUs in the second before the run "
              f"and {others_during:.0%} during it" + ("; timings are noisy" if noisy else ""))

    report = {
        "machine": {**machine(), "others_load_before": others_before,
                    "others_load_during": others_during},
        "measured": "training pass per epoch (the book's includes starting its DataLoader "
                    "workers), median after one warm-up epoch; each pipeline and the limit in "
                    "a process of its own, their epochs and the limit's measurements "
                    "interleaved; the limit is the fastest of its measurements; evaluation "
                    "timed separately, once, after training",
        "settings": {"epochs": args.epochs, "batch_size": BATCH, "lr": LR, "init_std": STD,
                     "seed": SEED, "book_num_workers": get_dataloader_workers(),
                     "threads": torch.get_num_threads()},
        "limits": limits,
        "results": rows,
        "targets": verdicts,
        "gpu": gpu,
        "total_seconds": time.perf_counter() - started,
    }
    write_report(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
