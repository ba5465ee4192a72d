"""End to end in real Chromium (P10): the town's staff member, on a phone, starts following a household the ledger
made safe by living with relatives, then a migrant worker's household back home and living in its old D-grade house;
the policy is explained, the household signs that it wants its house renovated (no signature, nothing recorded) and
the re-application's ledger case is opened, which puts it into the county's plan. Another county's manager cannot
open the record."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll, refused, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_p10_returning_household_followed_until_its_reapplication_case(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    from anju.cases.models import CaseSource
    from anju.returns.models import Tracking
    from anju.returns.tests import builders
    from anju.testing.scope import ensure_base_divisions

    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    f.user("gl_zhenganbu", f.YUYANG_TOWN, "town_staff")
    f.user("sm_admin", f.SHENMU, "county_manager")
    secured = builders.secured_case(village)  # a D house's household now living with relatives
    owner = f.household(village, head_name="刘返乡")
    house = f.house(owner, grade="D", graded_on=dt.date(2025, 1, 10))
    f.household(village, head_name="王守家")
    builders.returned(f.village(f.SHENMU_TOWN, 1, "神木测试村"))
    today = dt.date.today()
    base = live_server.url

    page = new_page(viewport=PHONE)
    log_in(page, base, "gl_zhenganbu", f.PASSWORD)
    page.goto(f"{base}/returns/")
    expect(page.locator("#empty-state")).to_be_visible()
    no_horizontal_scroll(page)
    submit(page, "#tracking-add")
    expect(page.locator("#secured-cases tbody tr")).to_have_count(1)
    expect(page.locator(f"#case-{secured.pk}")).to_contain_text("投亲靠友")
    no_horizontal_scroll(page)
    submit(page, f"#case-{secured.pk} a")
    expect(page.locator("#tracking-summary")).to_contain_text(f"台账#{secured.pk}（投亲靠友）")
    submit(page)  # how it lives and since when come from the ledger case
    expect(page.locator("main .alert-success")).to_contain_text("已登记跟踪")
    expect(page.locator("main")).to_contain_text("投亲靠友")

    page.goto(f"{base}/returns/new/")
    expect(page.locator("#empty-state")).to_contain_text("没有尚未跟踪")
    page.fill("#household-search input[name=q]", "刘返")
    submit(page, "#household-search button[type=submit]")
    expect(page.locator("#found li")).to_have_count(1)
    submit(page, "#found a:has-text('登记跟踪')")
    expect(page.locator("#id_kind")).to_have_value("returned")
    page.select_option("#id_housing", "own_dangerous")
    page.fill("#id_housed_since", "2025-03-01")
    page.fill("#id_returned_on", "2025-03-01")
    page.select_option("#id_followed_by_code", f.YUYANG_TOWN)
    page.fill("#id_follower_name", "镇干部张某")
    page.fill("#id_notes", "外出务工返乡，仍住原D级窑洞")
    no_horizontal_scroll(page)
    screenshot(page, "return-start-phone")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已登记跟踪")
    tracking = Tracking.objects.get(household=owner)
    assert page.url.endswith(f"/returns/{tracking.pk}/")
    expect(page.locator("#tracking-state")).to_have_text("跟踪中")
    expect(page.locator("#tracking-actions a:has-text('确认改造意愿')")).to_have_count(0)  # explanation first

    submit(page, "#tracking-actions a:has-text('登记政策解释')")
    page.fill("#id_explanation", "D级危房拆除重建补助标准、自筹部分和申请程序")
    submit(page)
    expect(page.locator("#tracking-state")).to_have_text("已解释政策")
    submit(page, "#tracking-actions a:has-text('确认改造意愿')")
    expect(page.locator("#id_signed_by")).to_have_value("刘返乡")
    page.fill("#id_note", "希望拆除重建，可自筹两万元")
    no_horizontal_scroll(page)
    submit(page)
    expect(page.locator("main form")).to_contain_text("须由农户签字确认改造意愿")  # P10: the household confirms
    page.check("#id_signed")
    submit(page)
    expect(page.locator("#tracking-state")).to_have_text("已确认改造意愿")
    expect(page.locator("#reapplication")).to_contain_text("由刘返乡签字确认")

    submit(page, "#open-case-link")
    page.select_option("#id_house", str(house.pk))
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已登记台账，纳入改造计划")
    expect(page.locator("#tracking-state")).to_have_text("已纳入台账")
    expect(page.locator("#tracking-actions")).to_have_count(0)
    tracking.refresh_from_db()
    expect(page.locator("#case-link")).to_have_text(f"台账#{tracking.case_id}")

    page.goto(f"{base}/returns/")
    expect(page.locator("#tracking-table tbody tr")).to_have_count(2)
    expect(page.locator("[data-count=case_opened]")).to_have_text("1")
    expect(page.locator("[data-count=secured]")).to_have_text("1")
    page.select_option("#id_kind", "returned")
    submit(page, "#filters button[type=submit]")
    expect(page.locator("#tracking-table tbody tr")).to_have_count(1)
    expect(page.locator(f"#tracking-{tracking.pk}")).to_contain_text("已纳入台账")
    no_horizontal_scroll(page)
    screenshot(page, "return-list-phone")

    case = tracking.case
    assert (tracking.kind, tracking.housing, tracking.followed_by_id) == ("returned", "own_dangerous", f.YUYANG_TOWN)
    assert (tracking.explained_on, tracking.wish_confirmed_on, tracking.wish_signed_by) == (today, today, "刘返乡")
    assert (case.source, case.source_ref) == (CaseSource.REAPPLICATION, f"重新申请#{tracking.pk}")
    assert (case.household_id, case.house_id) == (owner.pk, house.pk)
    from_case = Tracking.objects.get(household=secured.household)
    assert (from_case.kind, from_case.origin_case_id, from_case.housing) == ("secured", secured.pk, "relatives")

    other = new_page()
    log_in(other, base, "sm_admin", f.PASSWORD)
    refused(other, f"{base}/returns/{tracking.pk}/")
    other.goto(f"{base}/returns/")
    expect(other.locator("#tracking-table tbody tr")).to_have_count(1)
    expect(other.locator("#tracking-table")).to_contain_text("神木测试村")
