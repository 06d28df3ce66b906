"""The drawn graphs in a real browser: ``mazur.svg`` opened by itself, and the backprop section
of ``report.html``, in headless Chromium (the fixtures of ``tests.report.test_browser``)."""

from pathlib import Path

import pytest

from tests.conftest import needs_graphviz
from tests.report.test_browser import _open, browser  # noqa: F401  (a fixture)
from tests.test_cli import cli

pytestmark = needs_graphviz


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """``shallowlab run backprop`` and ``shallowlab report`` on it, as a learner would."""
    folder = tmp_path_factory.mktemp("graphs")
    ran = cli("run", "backprop", "--epochs", "2", "--out", folder / "backprop", timeout=300)
    assert ran.returncode == 0, ran.stderr
    reported = cli("report", folder)
    assert reported.returncode == 0, reported.stderr
    return folder


NODE_TEXT = """() => Object.fromEntries([...document.querySelectorAll('g.node')].map(g => {
    const lines = [...g.querySelectorAll('text')].map(t => t.textContent);
    return [lines[0], lines.join('\\n')];
}))"""


def test_the_svg_renders_with_every_weight_and_its_gradient(browser, runs):  # noqa: F811
    page, errors, _ = _open(browser, runs / "backprop" / "mazur.svg", 1280)
    box = page.evaluate("(() => { const r = document.documentElement.getBBox(); "
                        "return [r.width, r.height]; })()")
    assert box[0] > 500 and box[1] > 100
    nodes = page.evaluate(NODE_TEXT)
    w1, w2 = nodes["W1 = [[w1, w2], [w3, w4]]"], nodes["W2 = [[w5, w6], [w7, w8]]"]
    for value in ("0.15", "0.2", "0.25", "0.3"):
        assert value in w1.split("grad")[0]
    for grad in ("0.000438567734", "0.000877135469", "0.000497712735", "0.000995425471"):
        assert grad in w1.split("grad")[1]
    for value in ("0.4", "0.45", "0.5", "0.55"):
        assert value in w2.split("grad")[0]
    for grad in ("0.0821670406", "0.0826676278", "-0.0226025405", "-0.0227402422"):
        assert grad in w2.split("grad")[1]
    assert errors == []
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_reports_backprop_section_shows_its_graphs(browser, runs, width):  # noqa: F811
    page, errors, dialogs = _open(browser, runs / "report.html", width)
    section = page.locator("section", has=page.locator("h2", has_text="backprop"))
    assert "Does the chain rule, done by hand, give what autograd gives?" in section.inner_text()
    images = section.evaluate("s => [...s.querySelectorAll('img')].map(i => "
                              "[i.src.split(',')[0], i.complete, i.naturalWidth, i.alt])")
    svgs = [i for i in images if i[0] == "data:image/svg+xml;base64"]
    assert len(svgs) == 3 and len(images) == 4  # three graphs and the descents
    assert all(done and w > 0 for _, done, w, _ in images), images
    assert any("Mazur's network as autograd's graph" in alt for *_, alt in svgs)
    shown = section.evaluate("s => [...s.querySelectorAll('img')].map(i => "
                             "i.getBoundingClientRect().width)")
    assert min(shown) > 100  # drawn, at a size one can read at this width
    wide, view = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert wide <= view and errors == [] and dialogs == []
    page.close()
