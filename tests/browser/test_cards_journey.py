"""End to end in real Chromium (P13): the city's administrator opens the policy cards, sees the village that still
owes cards, prints the village's batch (a PDF of A4 sheets) and records that the cards were handed out and signed."""

from __future__ import annotations

import pytest

from anju.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_city_prints_a_batch_and_records_the_distribution(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    from anju.cards.models import CardDistribution
    from anju.cases.models import CaseState
    from anju.testing import cases
    from anju.testing.scope import CITY, ensure_base_divisions

    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    for name in ("白改造", "常验收"):
        case = cases.dangerous_case(f.house(f.household(village, head_name=name)))
        cases.advance(case, CaseState.COMPLETED)
    f.user("city_admin", CITY, "admin")
    base = live_server.url

    page = new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "city_admin")
    page.fill("#id_password", f.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{base}/cards/")
    expect(page.locator("[data-stat=households-missing]")).to_have_text("2")
    with page.expect_navigation():
        page.click("#coverage-table a:has-text('榆阳区')")
    page.goto(f"{base}/cards/recipients/?audience=household&division={village.code}&missing=1")
    expect(page.locator("#recipient-table tbody tr")).to_have_count(2)
    screenshot(page, "cards-recipients")

    href = page.locator("#print-batch").get_attribute("href")
    pdf = page.request.get(f"{base}{href}")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.check("#recipient-table thead input[type=checkbox]")
    with page.expect_navigation():
        page.click("#distribute-form button")
    expect(page.locator(".alert-success")).to_contain_text("已登记2张明白卡的发放")
    expect(page.locator("#empty-state")).to_be_visible()  # nobody left without a card
    assert CardDistribution.objects.filter(signed=True).count() == 2
