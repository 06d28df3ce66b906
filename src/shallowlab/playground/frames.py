"""A session's state as one binary frame, the message the page draws from.

Layout (little-endian): a uint32 ``H``; ``H`` bytes of UTF-8 JSON header, padded with spaces so
that ``4 + H`` is a multiple of 4; then float32 blocks back to back in the order of the
header's ``blocks`` (``{"name", "shape"}`` each):

- ``output``: (K, R, R) class probabilities, or (1, R, R) the regression surface;
- ``units.l`` for each hidden layer l: (width, r, r), each unit's activation;
- ``W.l`` (out, in), ``b.l`` (out,), ``gW.l``, ``gb.l`` for each layer l = 1 .. L + 1 (the
  last is the output layer): the weights and the last step's gradient of the mean loss.

Pictures are over the points' extent, row 0 at ``y_max``, in eval mode (no dropout). A loss
that is no longer finite is null in the header (JSON has no NaN); the blocks keep NaN.
"""

from __future__ import annotations

import json
import math
import struct

import torch

from shallowlab.playground.features import inputs

GRID = 64  # R, the output picture's side


def unit_grid(session) -> int:
    """r: 24 when the hidden units number at most 64, else 12."""
    return 24 if sum(x.width for x in session.settings.layers) <= 64 else 12


def grid_points(extent: tuple[float, ...], side: int) -> torch.Tensor:
    """The (side * side, 2) centres of a side x side picture, row by row from the top."""
    x_min, x_max, y_min, y_max = extent
    xs = torch.linspace(x_min, x_max, side)
    ys = torch.linspace(y_max, y_min, side)
    return torch.stack([xs.repeat(side), ys.repeat_interleave(side)], dim=1)


def _grid(session, side: int) -> torch.Tensor:
    if side not in session.grids:
        X = grid_points(session.points.extent, side)
        session.grids[side] = inputs(X, session.settings.features)
    return session.grids[side]


def blocks(session) -> list[tuple[str, torch.Tensor]]:
    """The named float32 blocks of a frame, in order."""
    R, r = GRID, unit_grid(session)
    _, out = session.hidden(_grid(session, R))  # (R*R, K)
    if session.outputs > 1:
        out = torch.softmax(out, dim=1)
    named = [("output", out.T.reshape(-1, R, R))]
    units, _ = session.hidden(_grid(session, r)) if session.settings.layers else ([], None)
    named += [(f"units.{i}", H.T.reshape(-1, r, r)) for i, H in enumerate(units, 1)]
    for i, (W, b, gW, gb) in enumerate(session.layers(), 1):
        named += [(f"W.{i}", W), (f"b.{i}", b), (f"gW.{i}", gW), (f"gb.{i}", gb)]
    return named


def encode(session, number: int, playing: bool = False) -> bytes:
    """The frame numbered ``number`` for ``session``'s current state."""
    named = blocks(session)
    m = {k: v if not isinstance(v, float) or math.isfinite(v) else None  # JSON has no NaN
         for k, v in session.metrics().items()}
    header = {"frame": number, **m, "playing": playing, "stopped": session.stopped(),
              "grid": GRID, "unit_grid": unit_grid(session),
              "extent": list(session.points.extent),
              "blocks": [{"name": n, "shape": list(t.shape)} for n, t in named]}
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * (-(4 + len(text)) % 4)
    body = torch.cat([t.detach().reshape(-1).float() for _, t in named])
    return struct.pack("<I", len(text)) + text + body.numpy().astype("<f4").tobytes()


def decode(frame: bytes) -> tuple[dict, dict[str, torch.Tensor]]:
    """The header and the named blocks of a frame (the page's reading, for tests and tools)."""
    (size,) = struct.unpack_from("<I", frame, 0)
    header = json.loads(frame[4:4 + size])
    values = torch.frombuffer(bytearray(frame[4 + size:]), dtype=torch.float32)
    out, at = {}, 0
    for block in header["blocks"]:
        n = 1
        for d in block["shape"]:
            n *= d
        out[block["name"]] = values[at:at + n].reshape(block["shape"])
        at += n
    if at != len(values):
        raise ValueError(f"frame: {len(values) - at} float32 values beyond the blocks")
    return header, out
