"""The data sets: generated ones in their box with their classes, drawn only from the given
generator; CSV uploads taken in, and every bad one refused with a line naming row and column."""

from __future__ import annotations

import pytest
import torch

from shallowlab.playground.points import GENERATORS, from_csv, generate, split
from shallowlab.playground.session import Session
from shallowlab.playground.settings import PlaygroundError, Settings


@pytest.mark.parametrize("data", sorted(GENERATORS))
@pytest.mark.parametrize("classes", [2, 3, 5])
def test_generated_sets_fill_the_box_with_every_class(data, classes):
    p = generate(data, 500, classes, 0.0, torch.Generator().manual_seed(0))
    assert p.X.shape == (500, 2) and p.X.dtype == torch.float32
    assert p.X.abs().max() <= 6.0
    if p.task == "classify":
        want = 2 if data == "xor" else classes
        assert p.classes == want and set(p.y.tolist()) == set(range(want))
        assert p.y.dtype == torch.int64
    else:
        assert p.y.dtype == torch.float32 and p.y.std() > 0.1


@pytest.mark.parametrize("data", sorted(GENERATORS))
def test_generators_draw_only_from_their_generator(data):
    torch.manual_seed(0)
    a = generate(data, 100, 3, 0.3, torch.Generator().manual_seed(5))
    torch.manual_seed(1)
    b = generate(data, 100, 3, 0.3, torch.Generator().manual_seed(5))
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y)


def test_noise_moves_points():
    g = torch.Generator
    quiet = generate("circle", 300, 2, 0.0, g().manual_seed(0)).X.norm(dim=1)
    loud = generate("circle", 300, 2, 0.5, g().manual_seed(0)).X.norm(dim=1)
    assert quiet[::2].max() < 2.5 < quiet[1::2].min()  # rings apart without noise
    assert loud[::2].max() > 2.5  # and mixed with it


def test_split_takes_the_percentage():
    train, test = split(500, 30, torch.Generator().manual_seed(0))
    assert len(train) == 150 and len(test) == 350
    assert sorted(torch.cat([train, test]).tolist()) == list(range(500))


def _csv(rows, header="x1,x2,label"):
    return "\n".join(([header] if header else []) + rows)


GOOD = [f"{i * 0.3 - 3:.2f},{(i % 7) - 3},{i % 3}" for i in range(30)]


def test_a_good_csv_trains():
    points = from_csv(_csv(GOOD))
    assert points.task == "classify" and points.classes == 3 and len(points.X) == 30
    session = Session(Settings(data="upload", lr=0.1), points)
    first = session.metrics()["train_loss"]
    for _ in range(30):
        session.epoch()
    assert session.metrics()["train_loss"] < first
    assert session.points_json()["extent"] == list(points.extent)


def test_csv_without_header_and_with_targets():
    assert from_csv(_csv(GOOD, header=None)).task == "classify"
    targets = from_csv(_csv([f"{i},{-i},{i * 0.5}" for i in range(12)], "x1,x2,target"))
    assert targets.task == "regress" and targets.y[3] == 1.5
    guessed = from_csv(_csv([f"{i},{-i},{i * 0.5}" for i in range(12)], header=None))
    assert guessed.task == "regress"
    with pytest.raises(PlaygroundError, match="mse"):
        Session(Settings(data="upload"), targets)
    Session(Settings(data="upload", loss="mse"), targets).step()


BAD = [
    (_csv(GOOD[:5] + ["1.0,2.0"] + GOOD[5:]), "row 7"),  # a missing column
    (_csv(GOOD[:3] + ["1.0,abc,1"] + GOOD[3:]), "row 5, column x2"),  # text in a number
    (_csv(GOOD[:3] + ["nan,1,1"] + GOOD[3:]), "row 5, column x1"),
    (_csv(GOOD[:3] + ["1,2,inf"] + GOOD[3:]), "row 5, column label"),
    (_csv(GOOD[:3] + ["1,2,7"] + GOOD[3:]), "row 5, column label"),
    (_csv(GOOD[:3] + ["1,2,0.5"] + GOOD[3:]), "row 5, column label"),
    (_csv(GOOD[:3] + ["1e9,2,1"] + GOOD[3:]), "row 5, column x1"),
    (_csv(GOOD, "a,b,c"), "row 1"),
    (_csv([f"{i},{i},0" for i in range(20)]), "two classes"),
    (_csv(GOOD[:4]), "data rows"),
    ("", "empty"),
    ("1,2,0\n" * 10_000_000, "10000001 rows"),
    ("x1,x2,label\n" + "\x00\x01\xff\xfe" * 100, "binary"),
    (",".join(["1.5"] * 200_000), "KiB"),
]


@pytest.mark.parametrize(("text", "says"), BAD, ids=[b[1] for b in BAD])
def test_bad_csv_gets_one_line_naming_where(text, says):
    with pytest.raises(PlaygroundError) as e:
        from_csv(text)
    message = str(e.value)
    assert says in message and "\n" not in message and len(message) < 200


def test_binary_file_read_as_text():
    """As a browser's FileReader.readAsText hands it over: NULs kept, bytes that are not
    UTF-8 replaced by U+FFFD."""
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8"
    for text in (png.decode("latin-1"), png.decode("utf-8", "replace"),
                 b"\xff\xfe\xfa\xfb,1,2".decode("utf-8", "replace")):
        with pytest.raises(PlaygroundError, match="binary"):
            from_csv(text)
    with pytest.raises(PlaygroundError, match="separated by commas"):
        from_csv("\n".join(f"{i};{i};{i % 2}" for i in range(20)))
