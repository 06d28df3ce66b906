"""Debian's Chromium driven by Playwright's Python API, for the tests that open a page.

A test module's ``browser`` fixture is ``yield from launch(...)``: one browser per module,
skipped with how to get what is missing (Chromium at /usr/bin/chromium, Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def launch(*args: str):
    """Yields a launched Chromium (``args``: its command-line flags), then closes it."""
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium: `sudo apt-get install chromium`")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="no Playwright: pip install -e '.[browser]'")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        yield chromium
        chromium.close()
