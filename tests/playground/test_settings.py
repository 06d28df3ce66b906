"""Settings: every knob validated with a one-line message naming it, and both codecs
(JSON for the page's messages, the URL fragment for links) round-trip exactly."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shallowlab.playground.features import FEATURES
from shallowlab.playground.settings import (
    ACTIVATIONS,
    CHOICES,
    CLASSIFY,
    Layer,
    PlaygroundError,
    Settings,
)

VARIED = [
    Settings(),
    Settings(data="xor", layers=(Layer(4, "tanh"), Layer(4, "tanh")), lr=0.1, seed=7),
    Settings(data="spiral", classes=3, noise=0.25, points=1200, train_percent=70, batch=32,
             features=("x1", "x2", "sinx1", "x1x2"), optimizer="adam", lr=0.003,
             layers=(Layer(16, "relu", 0.5), Layer(8, "sigmoid"), Layer(3, "linear", 0.1)),
             reg="l2", reg_rate=0.001, init="he", stop_acc=0.95),
    Settings(data="plane", loss="mse", layers=(), track="scratch", stop_loss=1e-3,
             stop_steps=500, init="zeros"),
    Settings(data="gaussians", loss="mse", reg="l1", reg_rate=1e-4, optimizer="momentum",
             lr=1e-5, seed=2**31 - 1, init="normal"),
]


@pytest.mark.parametrize("s", VARIED)
def test_json_round_trips(s):
    assert Settings.from_json(s.to_json()) == s


@pytest.mark.parametrize("s", VARIED)
def test_query_round_trips_and_omits_defaults(s):
    q = s.to_query()
    assert Settings.from_query(q) == s
    assert Settings.from_query("#" + q) == s
    assert "batch=" not in q or s.batch != Settings().batch


def test_query_reads_the_readme_form():
    s = Settings.from_query("data=xor&layers=4tanh,2tanh&lr=0.03&seed=0")
    assert s.data == "xor" and s.layers == (Layer(4, "tanh"), Layer(2, "tanh"))
    assert Settings.from_query("layers=none").layers == ()
    assert Settings.from_query("layers=8relu:0.5").layers == (Layer(8, "relu", 0.5),)
    assert Settings().to_query() == ""


def test_features_come_out_in_feature_order():
    s = Settings.from_json({"features": ["sinx2", "x1"]})
    assert s.features == ("x1", "sinx2")


BAD_JSON = [
    ({"colour": "red"}, "colour"),
    ({"lr": "0.1"}, "lr"),
    ({"lr": math.nan}, "lr"),
    ({"lr": math.inf}, "lr"),
    ({"noise": -math.inf}, "noise"),
    ({"lr": 100.0}, "lr"),
    ({"lr": 0.0}, "lr"),
    ({"batch": True}, "batch"),
    ({"batch": 2.0}, "batch"),
    ({"batch": 0}, "batch"),
    ({"seed": 10**400}, "seed"),
    ({"seed": -1}, "seed"),
    ({"points": 10**7}, "points"),
    ({"classes": 6}, "classes"),
    ({"data": "moons"}, "data"),
    ({"data": ["circle"]}, "data"),
    ({"features": []}, "features"),
    ({"features": ["x3"]}, "features"),
    ({"features": ["x1", "x1"]}, "features"),
    ({"features": "x1"}, "features"),
    ({"layers": [{"width": 65, "activation": "relu"}]}, "width"),
    ({"layers": [{"width": 4, "activation": "gelu"}]}, "activation"),
    ({"layers": [{"width": 4, "activation": "relu", "dropout": 0.95}]}, "dropout"),
    ({"layers": [{"width": 4, "activation": "relu", "x": 1}]}, "layers"),
    ({"layers": [{"width": 4, "activation": "relu"}] * 7}, "layers"),
    ({"layers": "4relu"}, "layers"),
    ({"stop_acc": 1.5}, "stop_acc"),
    ({"stop_steps": False}, "stop_steps"),
    ({"data": "plane"}, "loss"),
    ({"track": "scratch", "optimizer": "adam"}, "optimizer"),
]


@pytest.mark.parametrize(("obj", "name"), BAD_JSON)
def test_from_json_rejects_with_one_line_naming_the_setting(obj, name):
    with pytest.raises(PlaygroundError) as e:
        Settings.from_json(obj)
    message = str(e.value)
    assert name in message and "\n" not in message and len(message) < 300


@pytest.mark.parametrize("bad", [None, [], "lr=1", 3])
def test_from_json_wants_an_object(bad):
    with pytest.raises(PlaygroundError, match="settings"):
        Settings.from_json(bad)


@pytest.mark.parametrize("q", ["lr=abc", "lr=nan", "lr=inf", "batch=1e3", "batch=-3",
                               "seed=99999999999999999999", "layers=4", "layers=4tanh:x",
                               "lr=0.1&lr=0.2", "nonsense", "colour=red", "x" * 5000,
                               "layers=4tanh:nan"])
def test_from_query_rejects(q):
    with pytest.raises(PlaygroundError) as e:
        Settings.from_query(q)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_settings_are_checked_when_built_directly_too():
    with pytest.raises(PlaygroundError, match="'width'"):
        Layer(0, "relu")
    with pytest.raises(PlaygroundError, match="'lr'"):
        Settings(lr=-1.0)


def test_deep_or_long_values_are_named_not_echoed():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(PlaygroundError) as e:
        Settings.from_json({"data": deep})
    assert "a list" in str(e.value)
    with pytest.raises(PlaygroundError) as e:
        Settings.from_json({"loss": "x" * 100_000})
    assert len(str(e.value)) < 200


LAYERS = st.builds(Layer, st.integers(1, 64), st.sampled_from(ACTIVATIONS),
                   st.sampled_from([0.0, 0.1, 0.5, 0.9, 1 / 3]))
SETTINGS = st.builds(
    Settings, data=st.sampled_from(CLASSIFY), classes=st.integers(2, 5),
    noise=st.floats(0, 0.5), points=st.integers(50, 2000), train_percent=st.integers(10, 90),
    batch=st.integers(1, 500), seed=st.integers(0, 2**31 - 1),
    features=st.lists(st.sampled_from(FEATURES), min_size=1, unique=True).map(tuple),
    layers=st.lists(LAYERS, max_size=6).map(tuple), loss=st.sampled_from(CHOICES["loss"]),
    lr=st.floats(1e-5, 10), reg=st.sampled_from(CHOICES["reg"]), reg_rate=st.floats(0, 10),
    init=st.sampled_from(CHOICES["init"]),
    stop_loss=st.none() | st.floats(0, 1e3), stop_acc=st.none() | st.floats(0, 1),
    stop_steps=st.none() | st.integers(1, 10**7))


@settings(max_examples=300, deadline=None)
@given(SETTINGS)
def test_any_settings_round_trip_through_both_codecs(s):
    assert Settings.from_query(s.to_query()) == s
    assert Settings.from_json(json.loads(json.dumps(s.to_json()))) == s
