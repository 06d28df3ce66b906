"""Frames: parsed back by hand as the page reads them (uint32 header length, padded JSON,
float32 blocks), they hold the shapes the contract fixes and the session's own values."""

from __future__ import annotations

import json
import struct

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from shallowlab.playground.features import FEATURES
from shallowlab.playground.frames import decode
from shallowlab.playground.session import Session
from shallowlab.playground.settings import ACTIVATIONS, Layer, Settings


def _no_nan(name: str):
    raise AssertionError(f"{name} in a frame's header: JSON.parse in the page refuses it")


def _read(frame: bytes):
    """The page's reading, written out from the contract rather than through frames.decode."""
    (size,) = struct.unpack("<I", frame[:4])
    assert (4 + size) % 4 == 0
    header = json.loads(frame[4:4 + size].decode("utf-8"), parse_constant=_no_nan)
    values = np.frombuffer(frame[4 + size:], dtype="<f4")
    blocks, at = {}, 0
    for b in header["blocks"]:
        n = int(np.prod(b["shape"]))
        blocks[b["name"]] = values[at:at + n].reshape(b["shape"])
        at += n
    assert at == len(values)
    return header, blocks


def test_frame_blocks_are_in_order_with_the_contract_shapes_and_the_session_values():
    s = Settings(data="spiral", classes=3, features=("x1", "x2", "sinx1"),
                 layers=(Layer(5, "relu"), Layer(3, "sigmoid", 0.2)))
    session = Session(s)
    header, blocks = _read(session.frame(0))
    assert all(not b.any() for name, b in blocks.items() if name.startswith("g"))
    session.epoch()
    header, blocks = _read(session.frame(7, playing=True))
    names = [b["name"] for b in header["blocks"]]
    assert names == ["output", "units.1", "units.2",
                     *[f"{k}.{i}" for i in (1, 2, 3) for k in ("W", "b", "gW", "gb")]]
    assert header["frame"] == 7 and header["playing"] is True and header["stopped"] is None
    assert header["grid"] == 64 and header["unit_grid"] == 24
    assert header["extent"] == [-6.0, 6.0, -6.0, 6.0]
    for key, value in session.metrics().items():
        assert header[key] == value
    assert blocks["output"].shape == (3, 64, 64)
    assert np.allclose(blocks["output"].sum(axis=0), 1, atol=1e-5)
    assert blocks["units.1"].shape == (5, 24, 24) and blocks["units.2"].shape == (3, 24, 24)
    linears = [m for m in session.net if isinstance(m, torch.nn.Linear)]
    for i, m in enumerate(linears, 1):
        assert np.array_equal(blocks[f"W.{i}"], m.weight.detach().numpy())
        assert np.array_equal(blocks[f"b.{i}"], m.bias.detach().numpy())
        assert np.array_equal(blocks[f"gW.{i}"], m.weight.grad.numpy())
        assert blocks[f"gW.{i}"].any()
    assert blocks["W.1"].shape == (5, 3) and blocks["W.3"].shape == (3, 3)


def test_pictures_are_the_network_over_the_plane_with_row_0_at_the_top():
    session = Session(Settings(data="xor", layers=(Layer(4, "tanh"),)))
    session.step(30)
    _, blocks = _read(session.frame(1))
    x1, x2 = -6.0, 6.0  # row 0, column 0: the top left corner
    X = torch.tensor([[x1, x2]])
    with torch.no_grad():
        session.net.eval()
        hidden = torch.tanh(session.net[0](X))
        probs = torch.softmax(session.net(X), dim=1)
    assert np.allclose(blocks["units.1"][:, 0, 0], hidden[0].numpy(), atol=1e-6)
    assert np.allclose(blocks["output"][:, 0, 0], probs[0].numpy(), atol=1e-6)


def test_regression_scratch_and_wide_networks():
    s = Settings(data="plane", loss="mse", track="scratch", layers=(Layer(40, "relu"),
                                                                     Layer(30, "linear")))
    session = Session(s)
    session.step()
    header, blocks = _read(session.frame(2))
    assert header["test_acc"] is None and header["unit_grid"] == 12
    assert blocks["output"].shape == (1, 64, 64) and blocks["units.2"].shape == (30, 12, 12)
    assert np.array_equal(blocks["W.1"], session.net.weights[0].detach().T.numpy())
    assert blocks["W.3"].shape == (1, 30)
    no_hidden = Session(Settings(layers=()))
    header, blocks = _read(no_hidden.frame(0))
    assert [b["name"] for b in header["blocks"]] == ["output", "W.1", "b.1", "gW.1", "gb.1"]


def test_decode_reads_what_encode_wrote():
    session = Session(Settings())
    header, blocks = decode(session.frame(3))
    assert header == _read(session.frame(3))[0]
    assert blocks["W.1"].shape == (4, 2)


def test_a_diverged_session_still_makes_a_frame_of_valid_json():
    session = Session(Settings(data="gaussians", loss="mse", lr=10.0, layers=(Layer(8, "relu"),),
                               features=("x1", "x2", "x1sq", "x2sq")))
    while session.stopped() is None:
        session.epoch()
    header, _ = _read(session.frame(9))  # json.loads of the strict header
    assert header["stopped"] and None in (header["train_loss"], header["test_loss"])


@settings(max_examples=40, deadline=None)
@given(data=st.sampled_from(["circle", "xor", "gauss", "spiral", "plane", "gaussians"]),
       classes=st.integers(2, 5), track=st.sampled_from(["concise", "scratch"]),
       features=st.lists(st.sampled_from(FEATURES), min_size=1, unique=True),
       layers=st.lists(st.builds(Layer, st.integers(1, 64), st.sampled_from(ACTIVATIONS),
                                 st.sampled_from([0.0, 0.5])), max_size=6),
       batch=st.integers(1, 500), loss=st.sampled_from(["cross_entropy", "mse"]))
def test_any_settings_train_and_frame_to_the_contract(data, classes, track, features, layers,
                                                      batch, loss):
    regress = data in ("plane", "gaussians")
    s = Settings(data=data, classes=classes, track=track, features=tuple(features),
                 layers=tuple(layers), batch=batch, points=60, loss="mse" if regress else loss)
    session = Session(s)
    session.step(2)
    header, blocks = _read(session.frame(1))
    K = 1 if regress else 2 if data == "xor" else classes
    r = 24 if sum(x.width for x in layers) <= 64 else 12
    assert blocks["output"].shape == (K, 64, 64) and header["unit_grid"] == r
    widths = [len(s.features), *(x.width for x in layers), K]
    for i, x in enumerate(layers, 1):
        assert blocks[f"units.{i}"].shape == (x.width, r, r)
    for i in range(1, len(widths)):
        assert blocks[f"W.{i}"].shape == blocks[f"gW.{i}"].shape == (widths[i], widths[i - 1])
        assert blocks[f"b.{i}"].shape == blocks[f"gb.{i}"].shape == (widths[i],)
