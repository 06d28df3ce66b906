"""The playground's page in a real headless Chromium (Playwright), against the real server
(`shallowlab playground` in a child process): one browser and one server for the module.

Everything is done through the page's own controls (its buttons, selects, inputs, preset
links, file input), and read back from what the page itself measures and shows
(``window.playgroundStats``, its latest frame, its alert line). Skips where Chromium or
Playwright is missing.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.playground.server import start

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def server():
    yield from start()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium: `sudo apt-get install chromium`")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="no Playwright: pip install -e '.[browser]'")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def until(page, expression: str, timeout: float = 10.0):
    """Poll ``expression`` in the page until it is truthy (the page's policy forbids eval,
    so no wait_for_function); its value."""
    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > end:
            stats = page.evaluate("JSON.stringify(window.playgroundStats)")
            alert = page.locator("#alert").inner_text()
            raise AssertionError(f"not within {timeout} s: {expression}; {stats}; {alert!r}")
        time.sleep(0.05)


def stats(page) -> dict:
    return page.evaluate("window.playgroundStats")


def open_page(browser, server, fragment: str = "", width: int = 1280, scheme: str = "light"):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith((server.url, server.ws))
            else page.problems.append(f"request to {r.url}"))
    page.goto(server.url + fragment)
    until(page, "window.playgroundStats && playgroundStats.ready > 0 && playgroundStats.settled")
    return page


def settle(page, act) -> None:
    """Do ``act`` (a control's change) and wait for the new network's first picture."""
    before = stats(page)["ready"]
    act()
    until(page, f"playgroundStats.ready > {before} && playgroundStats.settled")


def enter(page, label: str, value: str) -> None:
    """Type ``value`` into the input labelled ``label`` and commit it, as Enter or Tab does."""
    settle(page, lambda: page.get_by_label(label, exact=True).fill(value) or
           page.get_by_label(label, exact=True).dispatch_event("change"))


def play_until(page, expression: str, timeout: float) -> float:
    """Press Play; the seconds until ``expression`` holds."""
    started = time.monotonic()
    page.get_by_role("button", name="Play").click()
    until(page, expression, timeout)
    return time.monotonic() - started


@pytest.mark.parametrize("width,scheme", [(1280, "light"), (390, "dark")])
def test_loads_without_errors_or_outside_requests_and_every_control_is_named(
        browser, server, width, scheme):
    page = open_page(browser, server, width=width, scheme=scheme)
    for name in ["Play", "Step", "Step back", "Reset", "Export", "Add hidden layer",
                 "Remove hidden layer", "Add a unit to layer 1", "New seed"]:
        assert page.get_by_role("button", name=name, exact=True).count() == 1, name
    for label in ["Data set", "Learning rate", "Layer 2 activation", "Layer 1 dropout",
                  "Test accuracy at least"]:
        assert page.get_by_label(label, exact=True).count() == 1, label
    unnamed = page.evaluate("""[...document.querySelectorAll('button, input, select')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.textContent.trim()).map(e => e.outerHTML.slice(0, 80))""")
    assert unnamed == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reset"  # the first control
    wide, view = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert wide <= view, f"{wide} px of page in a {view} px window"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    level = sum(int(v) for v in re.findall(r"\d+", background)[:3]) / 3
    assert (level < 80) if scheme == "dark" else (level > 200), background
    assert stats(page)["pictures"] == 1 + 4 + 2 + 2  # the boundary, units, outputs
    assert page.problems == []
    page.close()


def test_xor_with_two_layers_of_four_tanh_passes_095_within_10_s(browser, server):
    page = open_page(browser, server)
    settle(page, lambda: page.get_by_label("Data set").select_option("xor"))
    enter(page, "Layer 2 units", "4")
    enter(page, "Test accuracy at least", "0.95")
    assert re.search(r"data=xor.*layers=4tanh,4tanh.*stop_acc=0.95", page.url)
    seconds = play_until(page, "playgroundStats.stopped", timeout=10)
    s = stats(page)
    print(f"xor 4,4 tanh: test accuracy {s['testAcc']:.3f} after {seconds:.1f} s "
          f"({s['epoch']} epochs)")
    assert s["testAcc"] >= 0.95 and seconds <= 10
    assert page.get_by_role("button", name="Play").count() == 1  # stopped: Play again
    assert "Stopped: test accuracy" in page.locator("#status").inner_text()
    assert page.problems == []
    page.close()


def _set_layer(page, l: int, width: str, activation: str) -> None:
    enter(page, f"Layer {l} units", width)
    settle(page, lambda: page.get_by_label(f"Layer {l} activation").select_option(activation))


def test_the_circle_defeats_linear_units_and_yields_to_one_relu_layer(browser, server):
    page = open_page(browser, server)  # the circle, two hidden layers
    for l in (1, 2):
        _set_layer(page, l, "8", "linear")
    enter(page, "Steps reach", "3000")
    play_until(page, "playgroundStats.stopped", timeout=30)
    linear = page.evaluate("Math.max(...playgroundHistory.testAcc)")
    settle(page, lambda: page.get_by_role("button", name="Remove hidden layer").click())
    _set_layer(page, 1, "8", "relu")
    enter(page, "Test accuracy at least", "0.95")
    seconds = play_until(page, "playgroundStats.stopped", timeout=30)
    s = stats(page)
    print(f"circle: linear units at best {linear:.3f} over 3000 steps; one ReLU layer of 8 "
          f"{s['testAcc']:.3f} after {s['epoch']} epochs ({seconds:.1f} s)")
    assert linear < 0.70 and s["testAcc"] >= 0.95
    assert page.problems == []
    page.close()


def test_a_three_class_spiral_with_softmax_cross_entropy_passes_090(browser, server):
    page = open_page(browser, server)
    settle(page, lambda: page.get_by_role("link", name="Why depth: the spiral").click())
    assert page.get_by_label("Loss", exact=True).input_value() == "cross_entropy"
    assert page.get_by_label("Classes").input_value() == "3"
    enter(page, "Test accuracy at least", "0.9")
    seconds = play_until(page, "playgroundStats.stopped", timeout=40)
    s = stats(page)
    print(f"spiral, 3 classes: test accuracy {s['testAcc']:.3f} after {s['epoch']} epochs "
          f"({seconds:.1f} s)")
    assert s["testAcc"] >= 0.90 and s["stopped"].startswith("test accuracy")
    page.close()
