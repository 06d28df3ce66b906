"""Every knob of a playground session, validated, and its codecs: JSON (the page's messages)
and the URL fragment (``data=xor&layers=4tanh,2tanh&lr=0.03``), so a picture is a link.

Whatever a client sends goes through :meth:`Settings.from_json` or :meth:`Settings.from_query`;
each problem is one :class:`PlaygroundError` naming the setting, and nothing is evaluated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from urllib.parse import quote, unquote

from shallowlab.errors import ShallowlabError
from shallowlab.playground.features import FEATURES

CLASSIFY = ("circle", "xor", "gauss", "spiral")
REGRESS = ("plane", "gaussians")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
CHOICES = {"data": (*CLASSIFY, *REGRESS, "upload"), "loss": ("cross_entropy", "mse"),
           "optimizer": ("sgd", "momentum", "adam"), "reg": ("none", "l1", "l2"),
           "init": ("xavier", "he", "normal", "zeros"), "track": ("concise", "scratch")}
# (low, high), both included; the ones that may also be None are OPTIONAL
LIMITS = {"classes": (2, 5), "noise": (0.0, 0.5), "points": (50, 2000),
          "train_percent": (10, 90), "batch": (1, 500), "seed": (0, 2**31 - 1),
          "lr": (1e-5, 10.0), "reg_rate": (0.0, 10.0), "stop_loss": (0.0, 1e3),
          "stop_acc": (0.0, 1.0), "stop_steps": (1, 10**7), "layers": (0, 6),
          "width": (1, 64), "dropout": (0.0, 0.9)}
INTS = {"classes", "points", "train_percent", "batch", "seed", "stop_steps", "width"}
OPTIONAL = {"stop_loss", "stop_acc", "stop_steps"}


class PlaygroundError(ShallowlabError):
    """A setting, message or upload the playground cannot take; one line saying what to do."""


def _short(value: object) -> str:
    """A value quoted for a message, never long (a client may send anything)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**15:
        return "a huge number"
    if isinstance(value, (list, tuple, dict)):  # never repr a client's nesting
        return "a list" if not isinstance(value, dict) else "an object"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise PlaygroundError(f"setting '{name}': {_short(value)} is not one of "
                              f"{', '.join(choices)}")


def _number(name: str, value: object) -> int | float:
    """``value`` checked against LIMITS[name]: an int where INTS says so, finite, in range."""
    low, high = LIMITS[name]
    want = "a whole number" if name in INTS else "a number"
    ok = isinstance(value, int) or (name not in INTS and isinstance(value, float))
    if isinstance(value, bool) or not ok:
        raise PlaygroundError(f"setting '{name}': {_short(value)} is not {want}; "
                              f"give {want} from {low} to {high}")
    if isinstance(value, float) and not math.isfinite(value) or not low <= value <= high:
        raise PlaygroundError(f"setting '{name}': {_short(value)} is out of range; "
                              f"give {want} from {low} to {high}")
    return int(value) if name in INTS else float(value)


@dataclass(frozen=True)
class Layer:
    """One hidden layer: ``width`` units, their ``activation``, and dropout after it."""

    width: int = 4
    activation: str = "tanh"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", _number("width", self.width))
        _choice("activation", self.activation, ACTIVATIONS)
        object.__setattr__(self, "dropout", _number("dropout", self.dropout))


@dataclass(frozen=True)
class Settings:
    """A session's data, network, optimizer and stop rule, each checked against LIMITS.

    ``data``: circle, xor, gauss, spiral (labels), plane, gaussians (targets, loss ``mse``),
    or upload. ``classes`` (2..5) shapes circle, gauss and spiral; xor has 2, the rest none.
    ``noise`` jitters points by up to ``noise * 5``. ``seed`` draws the data, the split,
    the initial weights, the batch order and dropout. ``features``: a non-empty subset of
    FEATURES, kept in FEATURES order. ``layers``: up to 6 hidden layers. ``reg``: the penalty
    added to the mean loss, ``l2: reg_rate / 2 sum ||W||^2`` or ``l1: reg_rate sum |W|``
    (weights only). ``track``: concise (torch.nn, torch.optim) or scratch (raw tensors and
    the book's sgd; sgd only). Stop rules (None: off): ``stop_loss`` when the test loss is at
    most this, ``stop_acc`` when the test accuracy is at least this, ``stop_steps`` after this
    many minibatches.
    """

    data: str = "circle"
    classes: int = 2
    noise: float = 0.0
    points: int = 500
    train_percent: int = 50
    batch: int = 10
    seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    layers: tuple[Layer, ...] = (Layer(4, "tanh"), Layer(2, "tanh"))
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.03
    reg: str = "none"
    reg_rate: float = 0.0
    init: str = "xavier"
    track: str = "concise"
    stop_loss: float | None = None
    stop_acc: float | None = None
    stop_steps: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in CHOICES:
                _choice(f.name, value, CHOICES[f.name])
            elif f.name in LIMITS and f.name != "layers" and \
                    not (value is None and f.name in OPTIONAL):
                object.__setattr__(self, f.name, _number(f.name, value))
        object.__setattr__(self, "features", _features(self.features))
        object.__setattr__(self, "layers", _layers(self.layers))
        if self.data in REGRESS and self.loss != "mse":
            raise PlaygroundError(f"setting 'loss': the {self.data} data set is a regression "
                                  "task and takes loss 'mse'")
        if self.track == "scratch" and self.optimizer != "sgd":
            raise PlaygroundError("setting 'optimizer': the scratch track has only 'sgd'; "
                                  "choose the concise track for momentum or adam")

    @property
    def task(self) -> str:
        """``classify`` or ``regress`` (an upload's task is its file's)."""
        return "regress" if self.data in REGRESS else "classify"

    @classmethod
    def from_json(cls, obj: object) -> Settings:
        """Settings from a client's JSON object; keys left out keep their defaults."""
        if not isinstance(obj, dict):
            raise PlaygroundError("settings: expected a JSON object of settings")
        names = [f.name for f in fields(cls)]
        for key in obj:
            if key not in names:
                raise PlaygroundError(f"setting {_short(key)}: unknown; the settings are "
                                      f"{', '.join(names)}")
        given = dict(obj)
        if "layers" in given:
            given["layers"] = _layers_json(given["layers"])
        if "features" in given:
            if not isinstance(given["features"], list):
                raise PlaygroundError("setting 'features': expected a list of feature names")
            given["features"] = tuple(given["features"])
        return cls(**given)

    def to_json(self) -> dict:
        """A JSON-able dict that :meth:`from_json` turns back into these settings."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["features"] = list(self.features)
        out["layers"] = [{"width": x.width, "activation": x.activation, "dropout": x.dropout}
                         for x in self.layers]
        return out

    @classmethod
    def from_query(cls, query: str) -> Settings:
        """Settings from a URL fragment such as ``data=xor&layers=4tanh,2tanh:0.5&lr=0.1``."""
        return cls.from_json(_parse_query(query))

    def to_query(self) -> str:
        """The URL fragment of the settings that differ from the defaults."""
        default = Settings()
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name == "layers":
                text = ",".join(_layer_text(x) for x in value) or "none"
            elif f.name == "features":
                text = ",".join(value)
            else:
                text = repr(value) if isinstance(value, float) else str(value)
            parts.append(f"{f.name}={quote(text, safe=',:.-')}")
        return "&".join(parts)


def _layer_text(layer: Layer) -> str:
    return f"{layer.width}{layer.activation}" + (f":{layer.dropout!r}" if layer.dropout else "")


def _features(value: object) -> tuple[str, ...]:
    if not isinstance(value, (tuple, list)) or not value:
        raise PlaygroundError(f"setting 'features': give a non-empty list from "
                              f"{', '.join(FEATURES)}")
    for name in value:
        _choice("features", name, FEATURES)
    if len(set(value)) != len(value):
        raise PlaygroundError("setting 'features': a feature is named twice")
    return tuple(name for name in FEATURES if name in value)


def _layers(value: object) -> tuple[Layer, ...]:
    if not isinstance(value, (tuple, list)) or not all(isinstance(x, Layer) for x in value):
        raise PlaygroundError("setting 'layers': expected a list of layers")
    if len(value) > LIMITS["layers"][1]:
        raise PlaygroundError(f"setting 'layers': {len(value)} hidden layers; "
                              f"at most {LIMITS['layers'][1]}")
    return tuple(value)


def _layers_json(value: object) -> tuple[Layer, ...]:
    """Layers from ``[{"width": 4, "activation": "tanh", "dropout": 0.0}, ...]``."""
    if not isinstance(value, list) or len(value) > LIMITS["layers"][1]:
        raise PlaygroundError(f"setting 'layers': expected a list of at most "
                              f"{LIMITS['layers'][1]} layers")
    out = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not set(item) <= {"width", "activation", "dropout"}:
            raise PlaygroundError(f"setting 'layers' (layer {i}): expected an object with "
                                  "width, activation and dropout")
        try:
            out.append(Layer(**item))
        except PlaygroundError as e:
            raise PlaygroundError(f"{e} (hidden layer {i})") from None
    return tuple(out)


_INT = re.compile(r"[0-9]{1,12}")
_FLOAT = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]{1,3})?|[0-9]+\.")
_LAYER = re.compile(r"([0-9]{1,3})([a-z]+)(?::(.+))?")


def _parse_query(query: object) -> dict:
    """``a=1&b=x`` -> a JSON-like dict of typed values; :meth:`Settings.from_json` checks them."""
    if not isinstance(query, str) or len(query) > 4096:
        raise PlaygroundError("link: expected a URL fragment of at most 4096 characters")
    out: dict = {}
    for part in query.lstrip("#").split("&"):
        if not part:
            continue
        key, sep, text = part.partition("=")
        key, text = unquote(key), unquote(text)
        if not sep or key in out:
            raise PlaygroundError(f"link: {_short(part)} is not name=value once per setting")
        out[key] = _parse_value(key, text)
    return out


def _parse_value(key: str, text: str) -> object:
    if key == "layers":
        return [] if text in ("", "none") else [_parse_layer(t) for t in text.split(",")]
    if key == "features":
        return text.split(",")
    if key in INTS:
        return int(text) if _INT.fullmatch(text) else text
    if key in LIMITS:
        return float(text) if _FLOAT.fullmatch(text) else text
    return text  # a name; unknown keys and bad values fail in from_json


def _parse_layer(text: str) -> dict:
    match = _LAYER.fullmatch(text)
    if not match:
        raise PlaygroundError(f"setting 'layers': {_short(text)} is not a layer such as "
                              "4tanh or 8relu:0.5 (width, activation, :dropout)")
    width, activation, drop = match.groups()
    dropout = float(drop) if drop and _FLOAT.fullmatch(drop) else drop or 0.0
    return {"width": int(width), "activation": activation, "dropout": dropout}
