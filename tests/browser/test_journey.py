"""End to end in real Chromium: a county manager's day, and the login lockout (django-axes)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from anju.divisions.models import Division
from anju.registry import services as registry
from anju.registry.models import GradeSource
from anju.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ID_WANG = f.id_number("610802")


@pytest.fixture
def yuyang():
    """A 榆阳区 county manager, four households in two villages of two towns, and one 神木 household."""
    assert Division.objects.filter(code=f.YUYANG).exists(), "base divisions were not loaded"
    manager = f.user("yy_manager", f.YUYANG, "county_manager")
    liujiagou = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    wangjiamao = f.village(f.YUYANG_TOWN_2, 2, "王家峁村")

    wang = f.household(liujiagou, actor=manager, head_name="王大山", id_number=ID_WANG)
    cave = f.house(wang, actor=manager, grade="B", graded_on=dt.date(2019, 6, 1), appraiser="张工")
    registry.house_grade(
        actor=manager,
        house=cave,
        grade="C",
        graded_on=dt.date(2021, 5, 14),
        source=GradeSource.APPRAISAL,
        appraiser="李鉴定",
        note="窑顶裂缝",
    )
    f.house(
        f.household(liujiagou, actor=manager, head_name="王小川"),
        actor=manager,
        structure="brick_concrete",
        grade="A",
        graded_on=dt.date(2020, 4, 2),
    )
    f.house(
        f.household(wangjiamao, actor=manager, head_name="李秀兰"),
        actor=manager,
        structure="raw_earth",
        grade="D",
        graded_on=dt.date(2021, 3, 9),
    )
    f.household(wangjiamao, actor=manager, head_name="赵平安")

    shenmu = f.household(f.village(f.SHENMU_TOWN, 1, "神木测试村"), head_name="神木户甲")
    f.house(shenmu, grade="C", graded_on=dt.date(2021, 1, 5))
    return {"manager": manager, "wang": wang, "shenmu": shenmu}


def _log_in(page, base: str, username: str, password: str = f.PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_county_manager_journey(live_server, new_page, screenshot, yuyang):
    from playwright.sync_api import expect

    page = new_page()
    _log_in(page, live_server.url, "yy_manager")

    expect(page.locator("h1")).to_contain_text("榆阳区")
    expect(page.locator("[data-stat=households]")).to_have_text("4")
    expect(page.locator("[data-stat=houses]")).to_have_text("3")
    expect(page.locator("[data-stat=dangerous]")).to_have_text("2")
    expect(page.locator("#grade-chart svg")).to_contain_text("鼓楼街道")
    screenshot(page, "home-desktop")

    page.click("nav >> text=农户与房屋")
    page.wait_for_url("**/households/")
    rows = page.locator("#household-table tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("#household-table")).not_to_contain_text("神木户甲")
    screenshot(page, "list-desktop")

    page.select_option("select[name=grade]", "C")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("王大山")
    page.wait_for_url("**grade=C**")

    page.select_option("select[name=grade]", "")
    expect(rows).to_have_count(4)
    page.fill("input[name=q]", "王")
    page.press("input[name=q]", "Enter")
    expect(rows).to_have_count(2)
    expect(page.locator("#household-table")).not_to_contain_text("李秀兰")

    page.click("#household-table >> text=王大山")
    expect(page.locator("h1")).to_contain_text("王大山户")
    house = page.locator("[id^=house-]")
    expect(house).to_have_count(1)
    expect(house).to_contain_text("土窑洞")
    expect(house.locator(".card-header .badge")).to_have_text("C级")
    history = house.locator("table tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("2021-05-14")
    expect(history.nth(0)).to_contain_text("李鉴定")
    expect(history.nth(1)).to_contain_text("2019-06-01")

    id_number = page.locator("#id-number")
    expect(id_number).to_have_text(yuyang["wang"].id_masked)
    page.click("text=显示完整号码")
    expect(id_number).to_have_text(ID_WANG)

    page.goto(f"{live_server.url}/households/{yuyang['shenmu'].pk}/")
    expect(page.locator("h1")).to_have_text("未找到")

    phone = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    _log_in(phone, live_server.url, "yy_manager")
    expect(phone.locator("[data-stat=households]")).to_have_text("4")
    screenshot(phone, "home-phone")
    phone.goto(f"{live_server.url}/households/")
    expect(phone.locator("#household-table tbody tr")).to_have_count(4)
    expect(phone.locator(".navbar-toggler")).to_be_visible()
    overflow = phone.evaluate("() => [document.body.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"页面横向溢出：body {overflow[0]}px > 视口 {overflow[1]}px"
    screenshot(phone, "list-phone")
    phone.click(".navbar-toggler")
    expect(phone.locator("#nav >> text=农户与房屋")).to_be_visible()


def test_lockout_after_five_failures(live_server, new_page):
    from playwright.sync_api import expect

    f.user("yy_clerk", f.YUYANG, "town_staff")
    page = new_page()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(page, live_server.url, "yy_clerk", "wrong-password")
    _log_in(page, live_server.url, "yy_clerk")
    expect(page.locator("body")).to_contain_text("账号已暂时锁定")
    expect(page.locator(".navbar")).to_have_count(0)
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/accounts/login/**")


def test_api_docs_load_without_the_internet(live_server, new_page, yuyang):
    """Swagger UI's assets are served by the app itself (the fixture fails on any outside request)."""
    page = new_page()
    _log_in(page, live_server.url, "yy_manager")
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert "households" in page.content()
