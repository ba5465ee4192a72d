"""End to end in real Chromium: the county creates this year's annual check in one click (P5); a trained village
worker records a check on a phone — household picked by search, checklist ticked, location from the phone, a
photo — with the verdict "suspected", which reports the house for appraisal (P8); the county sees the progress,
assigns a trained appraiser (P17), who grades the house C on a phone; the household page shows C with its history."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from PIL import Image

from anju.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 740}


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _jpeg(tmp_path) -> str:
    path = tmp_path / "east-wall.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "brown").save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_annual_campaign_and_a_check_on_a_phone(live_server, new_page, screenshot, settings, tmp_path):
    from playwright.sync_api import expect

    from anju.testing.scope import ensure_base_divisions

    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    f.trained(f.user("cun_xinxi", village.code, "village_staff"))
    f.user("yy_admin", f.YUYANG, "county_manager")
    owner = f.household(village, head_name="白窑洞")
    house = f.house(owner, structure="earth_cave")
    f.household(village, head_name="李平房")
    base = live_server.url
    year = timezone.localdate().year

    # the county: an empty list offers this year's annual check, one click creates it
    page = new_page()
    _log_in(page, base, "yy_admin")
    page.goto(f"{base}/campaigns/")
    with page.expect_navigation():
        page.click("text=创建本年度年度核查")
    expect(page.locator("h1")).to_contain_text(f"{year}年度农村住房安全核查")
    expect(page.locator("[data-stat=targets]")).to_have_text("2")

    # the village worker, on a phone: search, tick, locate, photograph, suspected
    phone = new_page(
        viewport=PHONE, geolocation={"latitude": 38.285123, "longitude": 109.734567}, permissions=["geolocation"]
    )
    _log_in(phone, base, "cun_xinxi")
    phone.goto(f"{base}/checks/add/")
    phone.fill("#id_search", "白窑")
    expect(phone.locator("#household-choices")).to_contain_text("白窑洞")
    expect(phone.locator("#household-choices")).not_to_contain_text("李平房")
    with phone.expect_navigation():
        phone.click("#household-choices >> text=白窑洞")
    card = phone.locator(".house-card")
    expect(card).to_have_count(1)
    card.locator("text=窑洞拱顶开裂或塌落").click()
    card.locator("select").select_option("landslide")
    phone.click("label.verdict-option >> text=疑似危房")
    phone.fill("#id_checked_on", timezone.localdate().isoformat())
    phone.click("#use-location")
    expect(phone.locator("#id_latitude")).to_have_value("38.285123")
    phone.set_input_files("#id_photos", _jpeg(tmp_path))
    screenshot(phone, "check-entry-phone")
    with phone.expect_navigation():
        phone.click("text=保存核查记录")
    expect(phone.locator("h1")).to_contain_text("白窑洞")
    expect(phone.locator("h1")).to_contain_text("疑似危房")
    expect(phone.locator("#check-gps")).to_contain_text("38.285123, 109.734567")
    expect(phone.locator("#check-photos img")).to_have_count(1)
    phone.locator("#check-photos img").scroll_into_view_if_needed()  # lazy: loads when seen
    phone.wait_for_function("document.querySelector('#check-photos img').naturalWidth > 0")  # served, scoped
    expect(phone.locator("main")).to_contain_text("已上报鉴定申请")
    screenshot(phone, "check-detail-phone")
    phone.goto(f"{base}/checks/?mine=1")
    expect(phone.locator("#check-table")).to_contain_text("白窑洞")

    # the county's progress: one of two checked, one suspected
    page.reload()
    expect(page.locator("[data-stat=checked]")).to_have_text("1")
    expect(page.locator("[data-stat=suspected]")).to_have_text("1")
    expect(page.locator("[data-stat=coverage]")).to_have_text("50.0%")
    expect(page.locator("#progress-chart svg")).to_have_count(1)
    screenshot(page, "campaign-progress")

    # the county assigns the request this check opened to a trained appraiser (P8, P17) …
    f.trained(f.user("yy_jianding", f.YUYANG, "appraiser"))
    page.goto(f"{base}/requests/")
    page.click("#request-table >> text=白窑洞")
    page.click("text=指派鉴定人员")
    # the click loads the form: wait for it (reading the options at once raced the page on a busy machine)
    expect(page.locator("#id_appraiser option", has_text="yy_jianding")).to_have_count(1)
    options = page.locator("#id_appraiser option").all_inner_texts()
    page.select_option("#id_appraiser", label=next(o for o in options if "yy_jianding" in o))
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("已指派")

    # … who grades the cave C on a phone, and the household page shows C with its history
    appraiser = new_page(viewport=PHONE)
    _log_in(appraiser, base, "yy_jianding")
    appraiser.goto(f"{base}/requests/mine/")
    with appraiser.expect_navigation():
        appraiser.click("text=开始鉴定")
    for label in appraiser.locator("label[for$='_0'][for^='id_component_']").all():
        label.click()
    expect(appraiser.locator("#computed-grade-value")).to_contain_text("A级")
    appraiser.click("label[for='id_component_cave_arch_2']")  # arch: c
    expect(appraiser.locator("#computed-grade-value")).to_contain_text("C级")
    appraiser.click("label[for='id_disaster_prevention_1']")
    with appraiser.expect_navigation():
        appraiser.click("main button[type=submit]")
    expect(appraiser.locator("h1")).to_contain_text("C级")
    appraiser.goto(f"{base}/households/{owner.pk}/")
    card = appraiser.locator(f"#house-{house.pk}")
    expect(card.locator(".badge").first).to_contain_text("C")
    expect(card).to_contain_text("鉴定")
    screenshot(appraiser, "household-after-check-and-appraisal")
