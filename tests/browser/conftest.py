"""Real Chromium for the end-to-end tests: Debian's /usr/bin/chromium driven by Playwright (never a downloaded build).

CI (CI=true) must have the browser, so a missing one fails there; on a developer's machine the tests skip.
Set ANJU_SCREENSHOTS=DIR to keep screenshots of the pages the journeys visit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("ANJU_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 860}
PHONE = {"width": 375, "height": 740}
LEAVES_SERVER = re.compile(r"^(?!https?://(localhost|127\.0\.0\.1)(:\d+)?/)")


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        message = f"找不到 Chromium（{CHROMIUM}）：apt-get install chromium"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # Pages answer htmx requests one after another; on a busy 2-core CI machine 5 s is too tight.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium):
    """Opens pages in fresh contexts (own cookies, Chinese locale).

    A script error, or a request that leaves the test server (intranets have no internet), fails the test.
    """
    contexts, script_errors, outside = [], [], []

    def block_outside(route) -> None:
        outside.append(route.request.url)
        route.abort()

    def open_page(viewport: dict[str, int] = DESKTOP, **options):
        context = chromium.new_context(viewport=viewport, locale="zh-CN", **options)
        context.set_default_timeout(15_000)
        context.route(LEAVES_SERVER, block_outside)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not outside, "页面请求了外部地址：\n" + "\n".join(outside)
    assert not script_errors, "页面脚本出错：\n" + "\n".join(script_errors)


@pytest.fixture
def screenshot() -> Iterator:
    folder = os.environ.get("ANJU_SCREENSHOTS")

    def take(page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    yield take
