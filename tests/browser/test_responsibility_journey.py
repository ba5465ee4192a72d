"""End to end in real Chromium (P18 县包镇、镇包村户): the county manager names the person of a town (and is told the
village is the town's to name); that person, on a phone, names a village's person and a household's; the village's
chain page shows who answers at each level; each person's page lists the open alerts the chain now gives them; ending
the household's assignment hands its alert back to the village's person and keeps the ended row in the history.
Another county's manager cannot open the chain."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll, refused, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_p18_town_village_and_household_named_alerts_follow_history_kept(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    from anju.policy.models import Alert, AlertStatus
    from anju.policy.services import alerts_refresh
    from anju.responsibility.models import Assignment
    from anju.testing.scope import ensure_base_divisions

    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    manager = f.user("yy_admin", f.YUYANG, "county_manager")
    town_person = f.user("gl_baozhen", f.YUYANG_TOWN, "town_staff")
    village_person = f.user("gl_baocun", f.YUYANG_TOWN, "town_staff")
    officer = f.user("ljg_xinxiyuan", village.code, "village_staff")
    f.user("sm_admin", f.SHENMU, "county_manager")
    graded = dt.date(2025, 5, 14)
    bai = f.household(village, head_name="白二户")
    li = f.household(village, head_name="李三户")
    for owner in (bai, li):
        f.house(owner, structure="earth_wood", grade="B", graded_on=graded)
    alerts_refresh()  # as the nightly refresh does: each household's alerts, and P18.unassigned for the chain
    bai_alerts = Alert.objects.filter(household=bai, status=AlertStatus.OPEN)
    assert bai_alerts.exists() and Alert.objects.filter(household=li, status=AlertStatus.OPEN).exists()
    base = live_server.url

    # 县包镇: the county manager names the town's person
    desk = new_page()
    log_in(desk, base, "yy_admin", f.PASSWORD)
    desk.goto(f"{base}/responsibility/")
    expect(desk).to_have_url(f"{base}/responsibility/divisions/{f.YUYANG}/")  # one's own division's chain
    town_row = desk.locator("#chain-table tbody tr", has_text="鼓楼街道")
    expect(town_row).to_contain_text("未指定")
    submit(desk, "#chain-table tbody tr:has-text('鼓楼街道') a:has-text('指定')")
    expect(desk.locator("main p").first).to_contain_text("鼓楼街道")
    desk.select_option("#id_person", str(town_person.pk))
    desk.fill("#id_phone", "13800000001")
    desk.fill("#id_reason", "2026年度包镇")
    submit(desk)
    expect(desk.locator("main .alert-success")).to_contain_text("已指定包抓责任人")
    assert desk.url.endswith(f"/responsibility/divisions/{f.YUYANG}/")
    expect(town_row).to_contain_text("gl_baozhen")
    expect(town_row).not_to_contain_text("未指定")

    # 镇包村 is the town's to name: no buttons on the town's page, and the form refuses the county manager
    submit(desk, "#chain-table a:has-text('鼓楼街道')")
    expect(desk.locator("#chain-table")).to_contain_text("刘家沟村")
    expect(desk.locator("#chain-table a:has-text('指定')")).to_have_count(0)
    desk.goto(f"{base}/responsibility/divisions/{village.code}/assign/")
    desk.select_option("#id_person", str(village_person.pk))
    submit(desk)
    expect(desk.locator("main form")).to_contain_text("由乡镇人员指定")

    # 镇包村户: the town's person, on a phone, names the village's person and one household's
    page = new_page(viewport=PHONE)
    log_in(page, base, "gl_baozhen", f.PASSWORD)
    page.goto(f"{base}/responsibility/")
    expect(page.locator("h1")).to_contain_text("鼓楼街道")
    village_row = page.locator("#chain-table tbody tr", has_text="刘家沟村")
    expect(village_row).to_contain_text("未指定")
    no_horizontal_scroll(page)
    screenshot(page, "chain-town-phone")
    submit(page, "#chain-table tbody tr:has-text('刘家沟村') a:has-text('指定')")
    page.select_option("#id_person", str(village_person.pk))
    page.fill("#id_reason", "包刘家沟村")
    no_horizontal_scroll(page)
    screenshot(page, "chain-assign-phone")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已指定包抓责任人")
    expect(village_row).to_contain_text("gl_baocun")

    submit(page, "#chain-table a:has-text('刘家沟村')")
    expect(page.locator("h1")).to_contain_text("刘家沟村")
    above = page.locator("#chain-above > div")
    expect(above).to_have_count(3)  # the county, the town, the village
    expect(above.nth(0)).to_contain_text("未指定")  # the county is the city's to name (市包县)
    expect(above.nth(1)).to_contain_text("gl_baozhen")
    expect(above.nth(1)).to_contain_text("13800000001")
    expect(above.nth(2)).to_contain_text("gl_baocun")
    expect(page.locator("#chain-table tbody tr")).to_have_count(2)
    no_horizontal_scroll(page)
    submit(page, "#chain-table tbody tr:has-text('白二户') a:has-text('指定')")
    expect(page.locator("main p").first).to_contain_text("白二户")
    page.select_option("#id_person", str(officer.pk))
    page.fill("#id_phone", "13900000002")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已指定包抓责任人")
    assert page.url.endswith(f"/responsibility/divisions/{village.code}/")
    bai_row = page.locator("#chain-table tbody tr", has_text="白二户")
    expect(bai_row).to_contain_text("ljg_xinxiyuan")
    screenshot(page, "chain-village-phone")

    # each person's page lists the open alerts the chain gives them: the household's own person first
    submit(page, "#chain-table tbody tr:has-text('白二户') a:has-text('ljg_xinxiyuan')")
    expect(page.locator("h1")).to_have_text("ljg_xinxiyuan")
    expect(page.locator("#current-list")).to_contain_text("白二户")
    expect(page.locator("#alert-table tbody tr")).to_have_count(bai_alerts.count())
    expect(page.locator("#alert-table")).to_contain_text("白二户")
    expect(page.locator("#alert-table")).not_to_contain_text("李三户")
    no_horizontal_scroll(page)
    page.goto(f"{base}/responsibility/people/{village_person.pk}/")
    expect(page.locator("#current-list")).to_contain_text("刘家沟村")
    expect(page.locator("#alert-table")).to_contain_text("李三户")
    expect(page.locator("#alert-table")).not_to_contain_text("白二户")
    assert set(bai_alerts.values_list("responsible_id", flat=True)) == {officer.pk}

    # ending the household's assignment: the alert goes back to the village's person, the history keeps the row
    page.goto(f"{base}/responsibility/divisions/{village.code}/")
    submit(page, "#chain-table tbody tr:has-text('白二户') a:has-text('解除')")
    submit(page)
    expect(page.locator("main form")).to_contain_text("请填写解除原因")
    page.fill("#id_reason", "调离本村")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已解除包抓责任人")
    expect(bai_row).to_contain_text("未指定")
    page.goto(f"{base}/responsibility/people/{officer.pk}/")
    expect(page.locator("#no-current")).to_be_visible()
    expect(page.locator("#no-alerts")).to_be_visible()
    expect(page.locator("#history-table tbody tr")).to_have_count(1)
    expect(page.locator("#history-table")).to_contain_text("解除：调离本村")
    page.goto(f"{base}/responsibility/households/{bai.pk}/assign/")
    expect(page.locator("#history-table tbody tr")).to_have_count(1)
    expect(page.locator("#history-table")).to_contain_text("ljg_xinxiyuan")
    page.goto(f"{base}/responsibility/people/{village_person.pk}/")
    expect(page.locator("#alert-table")).to_contain_text("白二户")
    expect(page.locator("#alert-table")).to_contain_text("李三户")

    rows = Assignment.objects.order_by("id")
    assert [(a.level, a.division_id, a.household_id, a.person_id, a.ended_at is None) for a in rows] == [
        ("town", f.YUYANG_TOWN, None, town_person.pk, True),
        ("village", village.code, None, village_person.pk, True),
        ("household", village.code, bai.pk, officer.pk, False),
    ]
    town, cun, own = rows
    assert (town.assigned_by_id, town.phone, town.reason) == (manager.pk, "13800000001", "2026年度包镇")
    assert (cun.assigned_by_id, cun.phone) == (town_person.pk, town_person.phone)
    assert (own.phone, own.ended_by_id, own.end_reason) == ("13900000002", town_person.pk, "调离本村")
    assert set(bai_alerts.values_list("responsible_id", flat=True)) == {village_person.pk}

    # scope: Shenmu's manager sees nothing of Yuyang's chain
    other = new_page()
    log_in(other, base, "sm_admin", f.PASSWORD)
    refused(other, f"{base}/responsibility/divisions/{village.code}/")
    refused(other, f"{base}/responsibility/people/{officer.pk}/")
    refused(other, f"{base}/responsibility/assignments/{cun.pk}/end/")
