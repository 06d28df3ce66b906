"""``report.html`` in a real browser: headless Chromium, driven by Playwright.

The page is the report of real runs (``mixed_runs``: two experiments, a pair to compare, a
failed run) plus a copy of one run under a hostile folder name. Skips with the reason where
Chromium (Debian's ``chromium``) or Playwright (``pip install -e '.[browser]'``) is missing.
"""

import re
import shutil
from pathlib import Path

import pytest

from tests.browser import launch
from tests.test_cli import cli

HOSTILE = "<img src=x onerror=alert(1)>"
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def browser():
    yield from launch("--no-sandbox")


@pytest.fixture(scope="module")
def report(mixed_runs, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser") / "runs"
    shutil.copytree(mixed_runs, folder)
    shutil.copytree(mixed_runs / "mlp-diverged", folder / HOSTILE)
    result = cli("report", folder)
    assert result.returncode == 0, result.stderr
    return folder / "report.html"


def _open(browser, report, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, dialogs = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    return page, errors, dialogs


@pytest.mark.parametrize("width", [1280, 390])
def test_loads_whole_and_never_scrolls_sideways(browser, report, width):
    page, errors, dialogs = _open(browser, report, width)
    images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
    assert len(images) >= 5 and all(done and w > 0 for done, w in images), images
    assert errors == [] and dialogs == []
    wide, view = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert wide <= view, f"{wide} px of page in a {view} px window"
    page.close()


def test_results_first_then_contents(browser, report):
    page, _, _ = _open(browser, report, 1280)
    headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.innerText)")
    assert headings[:2] == ["Results against the book", "Contents"]
    verdicts = page.eval_on_selector_all("#results td:last-child", "c => c.map(x => x.innerText)")
    assert "\u2713 agrees" in verdicts or "\u2717 misses" in verdicts  # softmax's number
    assert verdicts.count("failed") == 2  # the diverged mlp and its hostile copy
    links = page.eval_on_selector_all("#contents a", "a => a.map(x => x.getAttribute('href'))")
    sections = page.eval_on_selector_all("section[id^=run-]", "s => s.map(x => '#' + x.id)")
    assert len(sections) == 5 and links[:5] == sections
    page.close()


def test_visible_text_is_words(browser, report):
    page, _, _ = _open(browser, report, 1280)
    text = page.evaluate("document.body.innerText")
    assert "None" not in text and "null" not in text
    assert SNAKE.findall(text) == []
    assert "Final test accuracy" in text and "FAILED: training diverged" in text
    page.close()


def test_a_hostile_folder_name_is_text(browser, report):
    page, _, dialogs = _open(browser, report, 1280)
    assert HOSTILE in page.evaluate("document.body.innerText")
    assert page.evaluate("[...document.images].filter(i => i.getAttribute('src') === 'x')"
                         ".length") == 0
    assert dialogs == []
    page.close()
