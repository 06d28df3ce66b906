"""One learner's session: data, network and optimizer, trained a minibatch or an epoch at a time,
with step back, reset and stop rules.

Every random draw comes from the session's own ``torch.Generator``s, seeded from
``settings.seed``: ``4 seed`` the data and the split, ``4 seed + 1`` the initial weights,
``4 seed + 2`` the minibatch order (a fresh permutation each pass), ``4 seed + 3`` dropout. So
the same settings give the same losses bit for bit, whatever else the process runs.
"""

from __future__ import annotations

import math
from collections import deque

import torch

from shallowlab.core.metrics import correct
from shallowlab.models import scratch
from shallowlab.playground import history, network
from shallowlab.playground.features import inputs
from shallowlab.playground.points import Points, generate, split
from shallowlab.playground.settings import PlaygroundError, Settings

HISTORY_BYTES = 4 * 2**20  # step-back snapshots kept per session (the newest)


class Session:
    """A network learning a 2-D data set, step by step.

    ``step(n)`` and ``epoch()`` train; each call appends ``(step, train_loss, test_loss)`` to
    ``losses`` and is one entry of the step-back history (``back()``), bounded by
    HISTORY_BYTES, oldest dropped first. Training stops, and ``stopped()`` says why, when a
    stop rule is met or the loss stops being finite; ``back()`` or ``reset()`` go on from there.
    """

    def __init__(self, settings: Settings, points: Points | None = None) -> None:
        self.settings = s = settings
        g = torch.Generator().manual_seed(4 * s.seed)
        if s.data == "upload":
            if points is None:
                raise PlaygroundError("data 'upload': upload a CSV file first")
        else:
            points = generate(s.data, s.points, s.classes, s.noise, g)
        if points.task == "regress" and s.loss != "mse":
            raise PlaygroundError("setting 'loss': this data has targets, not labels; "
                                  "choose loss 'mse'")
        self.points = points
        train, test = split(len(points.X), s.train_percent, g)
        self.raw = {"train": (points.X[train], points.y[train]),
                    "test": (points.X[test], points.y[test])}
        self.X_train, self.y_train = inputs(points.X[train], s.features), points.y[train]
        self.X_test, self.y_test = inputs(points.X[test], s.features), points.y[test]
        self.kind = "mse" if points.task == "regress" else \
            "mse_classify" if s.loss == "mse" else "cross_entropy"
        self.outputs = points.classes if points.task == "classify" else 1
        self.batch = min(s.batch, len(self.X_train))
        self.grids: dict[int, torch.Tensor] = {}  # side -> grid features, for frames
        self.reset()

    # --- the controls ---------------------------------------------------------------------

    def reset(self) -> None:
        """The initial weights and batch order again, as for a new session with these settings."""
        s = self.settings
        gens = [torch.Generator().manual_seed(4 * s.seed + k) for k in (1, 2, 3)]
        init_gen, self.order_gen, self.drop_gen = gens
        model = network.concise_model(s, self.X_train.shape[1], self.outputs, init_gen,
                                      self.drop_gen)
        if s.track == "scratch":
            self.net, self.opt = network.ScratchNet(model, s, self.drop_gen), None
            self.params = self.net.parameters()
        else:
            self.net = model
            self.params = [t for m in network.linears(model) for t in (m.weight, m.bias)]
            self.opt = network.optimizer(s, self.params)
        self.weights = self.params[0::2]
        self.step_count = self.epoch_count = self._pos = 0
        self._pass: tuple[torch.Tensor, torch.Tensor] | None = None
        self._grads: list[torch.Tensor | None] = [None] * len(self.params)  # scratch only
        self.history: deque[dict] = deque()
        self._history_bytes = 0
        self.losses: list[tuple[int, float, float]] = []
        self._stopped: str | None = None
        self._metrics = self._measure()

    def step(self, n: int = 1) -> None:
        """Train on the next ``n`` minibatches (fewer if a step-count stop rule comes first)."""
        if self._stopped is not None:
            return
        if self.settings.stop_steps is not None:
            n = min(n, self.settings.stop_steps - self.step_count)
        if n < 1:
            return
        self._remember()
        for i in range(n):
            self._train_one(last=i == n - 1)
        self._metrics = self._measure()
        self.losses.append((self.step_count, self._metrics["train_loss"],
                            self._metrics["test_loss"]))
        self._stopped = self._stop_reason()

    @property
    def steps_per_epoch(self) -> int:
        """``ceil(train / batch)``: what an epoch costs, for a server pacing its frames."""
        return math.ceil(len(self.X_train) / self.batch)

    @property
    def steps_left(self) -> int:
        """Minibatches to the end of the current pass over the training set (a whole epoch's,
        ``steps_per_epoch``, when the last step ended one)."""
        left = len(self.X_train) - self._pos if self._pass is not None else 0
        return math.ceil(left / self.batch) if left > 0 else self.steps_per_epoch

    def epoch(self) -> None:
        """Train to the end of the current pass over the training set: ``steps_left``
        minibatches."""
        self.step(self.steps_left)

    def back(self) -> bool:
        """Undo the last step or epoch call exactly; False when no earlier state is kept."""
        if not self.history:
            return False
        snap = self.history.pop()
        self._history_bytes -= snap["bytes"]
        self._restore(snap)
        return True

    def metrics(self) -> dict:
        """``step``, ``epoch``, ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc`` (the
        last two None for regression); losses are the data's mean loss, without the penalty."""
        return dict(self._metrics)

    def stopped(self) -> str | None:
        """Why training stopped (a stop rule was met, or the loss is no longer finite)."""
        return self._stopped

    def points_json(self) -> dict:
        """The points for the page: ``[x1, x2, label or target]`` rows, rounded to 1e-4."""
        def rows(X, y):
            return [[round(a, 4), round(b, 4), round(t, 4) if self.outputs == 1 else int(t)]
                    for (a, b), t in zip(X.tolist(), y.tolist())]
        return {"train": rows(*self.raw["train"]), "test": rows(*self.raw["test"]),
                "extent": list(self.points.extent), "task": self.points.task,
                "classes": self.points.classes}

    def frame(self, number: int, playing: bool = False) -> bytes:
        """The binary frame the page draws; see :mod:`shallowlab.playground.frames`."""
        from shallowlab.playground.frames import encode
        return encode(self, number, playing)

    # --- what frames read -----------------------------------------------------------------

    @torch.no_grad()
    def hidden(self, X: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each hidden layer's activation and the output for features X, in eval mode."""
        self._train_mode(False)
        try:
            if isinstance(self.net, network.ScratchNet):
                return self.net.hidden(X)
            return network.concise_hidden(self.net, X)
        finally:
            self._train_mode(True)

    def layers(self) -> list[tuple[torch.Tensor, ...]]:
        """Per layer (hidden ones, then the output): W (out, in), b, and the last step's
        gradients of the mean loss, gW and gb (zeros before the first step)."""
        grads = self._grads if self.opt is None else [p.grad for p in self.params]
        out = []
        for i in range(0, len(self.params), 2):
            W, b = self.params[i].detach(), self.params[i + 1].detach()
            gW, gb = (g if g is not None else torch.zeros_like(p)
                      for g, p in zip(grads[i:i + 2], (W, b)))
            if self.opt is None:  # the book's layout, (in, out)
                W, gW = W.T, gW.T
            out.append((W, b, gW, gb))
        return out

    # --- inside ---------------------------------------------------------------------------

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.X_train)
        if self._pass is None or self._pos >= n:
            order = torch.randperm(n, generator=self.order_gen)
            self._pass, self._pos = (self.X_train[order], self.y_train[order]), 0
        i, self._pos = self._pos, self._pos + self.batch
        if self._pos >= n:
            self.epoch_count += 1
        return self._pass[0][i:self._pos], self._pass[1][i:self._pos]

    def _train_one(self, last: bool) -> None:
        X, y = self._next_batch()
        s = self.settings
        pen = network.penalty(self.weights, s.reg, s.reg_rate)
        if self.opt is not None:  # concise: the mean loss, torch.optim
            loss = network.data_loss(self.net(X), y, self.kind)
            loss = loss if pen is None else loss + pen
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        else:  # scratch: the summed loss, p <- p - lr * p.grad / B
            loss = network.scratch_loss(self.net(X), y, self.kind).sum()
            loss = loss if pen is None else loss + len(y) * pen
            loss.backward()
            if last:
                self._grads = [p.grad / len(y) for p in self.params]
            scratch.sgd(self.params, s.lr, len(y))
        self.step_count += 1

    def _train_mode(self, on: bool) -> None:
        if isinstance(self.net, network.ScratchNet):
            self.net.training = on
        else:
            self.net.train(on)

    @torch.no_grad()
    def _measure(self) -> dict:
        self._train_mode(False)
        out = {"step": self.step_count, "epoch": self.epoch_count}
        for part, X, y in (("train", self.X_train, self.y_train), ("test", self.X_test,
                                                                    self.y_test)):
            logits = self.net(X)
            if self.opt is None:
                loss = network.scratch_loss(logits, y, self.kind).mean()
            else:
                loss = network.data_loss(logits, y, self.kind)
            out[f"{part}_loss"] = loss.item()
            out[f"{part}_acc"] = None if self.outputs == 1 else correct(logits, y).item() / len(y)
        self._train_mode(True)
        return out

    def _stop_reason(self) -> str | None:
        s, m = self.settings, self._metrics
        if not (math.isfinite(m["train_loss"]) and math.isfinite(m["test_loss"])):
            return "the loss is no longer a finite number: lower the learning rate and reset"
        if s.stop_steps is not None and self.step_count >= s.stop_steps:
            return f"reached {s.stop_steps} steps"
        if s.stop_loss is not None and m["test_loss"] <= s.stop_loss:
            return f"test loss {m['test_loss']:.4g} <= {s.stop_loss:g}"
        if s.stop_acc is not None and m["test_acc"] is not None and m["test_acc"] >= s.stop_acc:
            return f"test accuracy {m['test_acc']:.4g} >= {s.stop_acc:g}"
        return None

    def _remember(self) -> None:
        snap = history.snapshot(self)
        self.history.append(snap)
        self._history_bytes += snap["bytes"]
        while self._history_bytes > HISTORY_BYTES and len(self.history) > 1:
            self._history_bytes -= self.history.popleft()["bytes"]

    def _restore(self, snap: dict) -> None:
        history.restore(self, snap)
