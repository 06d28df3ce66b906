"""The README's Python example runs as written (one epoch instead of ten)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_python_example_trains(real_data, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(real_data))
    text = README.read_text()
    (code,) = re.findall(r"From Python, the same parts:\n\n```python\n(.*?)```", text, re.S)
    assert "epochs=10" in code
    scope = {}
    exec(code.replace("epochs=10", "epochs=1"), scope)  # noqa: S102 (our own README)
    (record,) = scope["history"]
    assert record["test_acc"] > 0.7  # one epoch of the book's MLP
