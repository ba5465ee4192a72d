"""End to end in real Chromium: a village reports a suspected cave dwelling (P8), the county assigns a trained
appraiser (P17), the appraiser grades it C on a phone, and the household page shows C with its history."""

from __future__ import annotations

import pytest

from anju.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_report_assign_appraise(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    from anju.testing.scope import ensure_base_divisions

    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    f.user("cun_xinxi", village.code, "village_staff")
    f.user("yy_admin", f.YUYANG, "county_manager")
    f.trained(f.user("yy_jianding", f.YUYANG, "appraiser"))
    f.user("yy_untrained", f.YUYANG, "appraiser")
    owner = f.household(village, head_name="白窑洞")
    house = f.house(owner, structure="earth_cave")
    base = live_server.url

    # the village reports from the household page
    page = new_page(viewport={"width": 375, "height": 740})
    _log_in(page, base, "cun_xinxi")
    page.goto(f"{base}/households/{owner.pk}/")
    page.click("text=上报疑似危房")
    page.fill("#id_description", "拱顶纵向开裂，雨后掉土")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("待指派")
    screenshot(page, "request-detail-phone")

    # the county assigns: only the trained appraiser is offered
    page = new_page()
    _log_in(page, base, "yy_admin")
    page.goto(f"{base}/requests/")
    expect(page.locator("#request-table")).to_contain_text("白窑洞")
    screenshot(page, "request-list")
    page.click("text=白窑洞")
    page.click("text=指派鉴定人员")
    # the click loads the form: wait for it (reading the options at once raced the page on a busy machine)
    expect(page.locator("#id_appraiser option", has_text="yy_jianding")).to_have_count(1)
    options = page.locator("#id_appraiser option").all_inner_texts()
    assert any("yy_jianding" in o for o in options) and not any("yy_untrained" in o for o in options)
    page.select_option("#id_appraiser", label=next(o for o in options if "yy_jianding" in o))
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("已指派")

    # the appraiser grades it on a phone; the computed grade follows each choice
    page = new_page(viewport={"width": 375, "height": 740})
    _log_in(page, base, "yy_jianding")
    page.goto(f"{base}/requests/mine/")
    with page.expect_navigation():
        page.click("text=开始鉴定")
    for label in page.locator("label[for$='_0'][for^='id_component_']").all():
        label.click()  # every component: a
    expect(page.locator("#computed-grade-value")).to_contain_text("A级")
    page.click("label[for='id_component_cave_arch_2']")  # arch: c
    expect(page.locator("#computed-grade-value")).to_contain_text("C级")
    expect(page.locator("#computed-grade")).to_contain_text("拱顶（拱券）（c级）")
    page.click("label[for='id_disaster_prevention_1']")
    page.fill("#id_conclusion", "局部危房，建议加固")
    screenshot(page, "appraisal-form-phone")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("C级")

    # the household page shows C with its history
    page.goto(f"{base}/households/{owner.pk}/")
    card = page.locator(f"#house-{house.pk}")
    expect(card.locator(".badge").first).to_contain_text("C")
    expect(card).to_contain_text("鉴定")
    expect(card).to_contain_text("yy_jianding")
    screenshot(page, "household-after-appraisal")
