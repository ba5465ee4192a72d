"""Steps the journeys share: logging in, submitting a form, checking that a page fits a phone's width, and that
another county's user is refused a record."""

from __future__ import annotations

from .conftest import PHONE

# The elements that reach past the viewport's right edge, widest first: named in the failure message.
_WIDE = """(width) => [...document.querySelectorAll('body *')]
    .map((e) => [e, e.getBoundingClientRect().right])
    .filter(([e, right]) => right > width + 0.5 && e.offsetParent !== null && !e.closest('.table-responsive'))
    .sort((a, b) => b[1] - a[1]).slice(0, 5)
    .map(([e, right]) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`
        + ` → ${Math.round(right)}px`)
"""


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def submit(page, selector: str = "main form button[type=submit]") -> None:
    with page.expect_navigation():
        page.click(selector)


def no_horizontal_scroll(page) -> None:
    """The page scrolls only vertically on a phone: wide tables scroll inside their `.table-responsive` box."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        wide = page.evaluate(_WIDE, PHONE["width"])
        raise AssertionError(f"{page.url} is {width}px wide on a {PHONE['width']}px phone: " + "; ".join(wide))


def refused(page, url: str) -> None:
    """`url` (a record outside the user's subtree) answers 404 with the Chinese scope message."""
    from playwright.sync_api import expect

    response = page.goto(url)
    assert response.status == 404, url
    expect(page.locator("main")).to_contain_text("不在您的管辖范围内")
