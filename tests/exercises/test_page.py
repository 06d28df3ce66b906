"""The exercises as a document: docs/exercises.md is what ``shallowlab exercises --markdown``
writes, and ``exercises.html`` renders in a real browser (Debian's Chromium, through
Playwright) with every exercise, its answer folded, and no console error."""

from __future__ import annotations

from pathlib import Path

import pytest

from shallowlab.exercises import catalog, page
from tests.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def test_the_docs_page_is_the_catalog_as_written_now():
    """Regenerate with `shallowlab exercises --markdown docs/exercises.md`."""
    assert (ROOT / "docs" / "exercises.md").read_text() == page.markdown(catalog.select())


def test_the_markdown_folds_every_answer():
    text = page.markdown(catalog.select())
    assert text.count("<details><summary>") == len(catalog.exercises())
    assert text.count("\n### ") == len(catalog.exercises())
    assert "| en-5.6 | Dropout | 7 | 4 | 2 | 0 | 1 | 7 |" in text


@pytest.fixture(scope="module")
def html_page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exercises")
    result = cli("exercises", "--html", folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {folder / 'exercises.html'}"
    return folder / "exercises.html"


def test_the_html_holds_every_exercise_escaped_and_without_scripts(html_page):
    text = html_page.read_text()
    assert "<script" not in text and "http" not in text.split("<body>")[0]
    assert text.count("<article id=") == len(catalog.exercises())
    assert text.count("<details>") == len(catalog.exercises())
    assert "&lt;" in text or "&gt;" in text or "&#x27;" in text  # answers are escaped


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


@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_renders_with_answers_folded_and_no_console_error(browser, html_page, width):
    page_ = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page_.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page_.on("pageerror", lambda err: errors.append(str(err)))
    page_.goto(html_page.as_uri())
    page_.wait_for_load_state("load")
    assert errors == []
    articles = page_.eval_on_selector_all("article", "a => a.length")
    assert articles == len(catalog.exercises())
    wide, view = page_.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert wide <= view, f"{wide} px of page in a {view} px window"
    answer = page_.locator("#en-4\\.4\\.1c details p")
    assert not answer.is_visible()
    page_.locator("#en-4\\.4\\.1c summary").click()
    assert answer.is_visible() and "maximum" in answer.inner_text()
    assert errors == []
    page_.close()
