"""End to end in real Chromium (P17, P22): the county manager, on a phone, records this year's appraisal training
for an appraiser, a village information officer and a craftsman, registered in advance, then signs two of them in;
the yearly training ledger counts only those signed in, on the page and in its .xlsx download. The appraiser, not
offered for a suspected-danger request before (untrained people may not appraise, P17), is offered and assigned
after. Another county's manager neither lists the session nor opens it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll, refused, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOPIC = "农房安全鉴定技术培训"


def test_p17_session_recorded_signed_in_ledger_and_appraiser_assignable(live_server, new_page, screenshot):
    from playwright.sync_api import expect
    from python_calamine import CalamineWorkbook

    from anju.cases.models import Craftsman
    from anju.inspections.models import AppraisalRequest
    from anju.testing import appraisals
    from anju.testing.scope import ensure_base_divisions
    from anju.training import services
    from anju.training.models import Attendance, Session

    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    manager = f.user("yy_admin", f.YUYANG, "county_manager")
    officer = f.user("ljg_xinxiyuan", village.code, "village_staff")
    appraiser = f.user("yy_jianding", f.YUYANG, "appraiser")
    craftsman = Craftsman.objects.create(division_id=f.YUYANG, name="王工匠", phone="13700000001")
    house = f.house(f.household(village, head_name="白窑洞"), structure="earth_cave")
    request = appraisals.request(house, reported_by=officer, description="拱顶开裂")
    shenmu = f.user("sm_admin", f.SHENMU, "county_manager")
    shenmu_session = services.session_create(
        actor=shenmu,
        division_code=f.SHENMU,
        users=[shenmu],
        craftsmen=[],
        signed_in=True,
        held_on=dt.date.today(),
        topic="神木县核查培训",
        kind="check",
        trainer="",
        hours=Decimal(2),
        place="",
    )
    today = dt.date.today()
    base = live_server.url

    # P17: nobody in the county is trained yet, so the request has no appraiser to offer
    desk = new_page()
    log_in(desk, base, "yy_admin", f.PASSWORD)
    desk.goto(f"{base}/requests/{request.pk}/assign/")
    expect(desk.locator("main .alert-warning")).to_contain_text("暂无已参加本年度培训的鉴定人员")
    expect(desk.locator("#id_appraiser option", has_text="yy_jianding")).to_have_count(0)

    page = new_page(viewport=PHONE)
    log_in(page, base, "yy_admin", f.PASSWORD)
    page.goto(f"{base}/training/")
    expect(page.locator("#empty-state")).to_be_visible()
    expect(page.locator("#session-table")).to_have_count(0)  # Shenmu's session is not listed here
    no_horizontal_scroll(page)
    submit(page, "main a:has-text('登记培训')")
    expect(page.locator("#session-form")).to_be_visible()
    page.select_option("#id_division_code", f.YUYANG)
    page.fill("#id_topic", TOPIC)
    page.select_option("#id_kind", "appraisal")
    page.fill("#id_trainer", "省住建厅专家")
    page.fill("#id_hours", "3.5")
    page.fill("#id_place", "榆阳区住建局三楼会议室")
    for person in (appraiser, officer):
        page.check(f"input[name=users][value='{person.pk}']")
    page.check(f"input[name=craftsmen][value='{craftsman.pk}']")
    page.uncheck("#id_signed_in")  # registered in advance: sign-in at the session
    no_horizontal_scroll(page)
    screenshot(page, "training-form-phone")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text(f"已登记培训：{today:%Y-%m-%d} {TOPIC}")
    session = Session.objects.get(topic=TOPIC)
    assert page.url.endswith(f"/training/{session.pk}/")
    expect(page.locator("#session-facts")).to_contain_text("省住建厅专家")
    expect(page.locator("main h2")).to_contain_text("签到 0 / 名单 3")
    expect(page.locator("#attendee-table .badge", has_text="未签到")).to_have_count(3)
    no_horizontal_scroll(page)

    rows = {(a.user_id, a.craftsman_id): a for a in session.attendances.all()}
    for key in ((appraiser.pk, None), (None, craftsman.pk)):
        row = f"#attendance-{rows[key].pk}"
        submit(page, f"{row} button[value=sign]")
        expect(page.locator(row)).to_contain_text("已签到")
    expect(page.locator("main h2")).to_contain_text("签到 2 / 名单 3")
    expect(page.locator(f"#attendance-{rows[(officer.pk, None)].pk}")).to_contain_text("未签到")
    screenshot(page, "training-session-phone")

    # the ledger: being on the list is not enough, only signing in trains
    page.goto(f"{base}/training/ledger/")
    expect(page.locator("h1")).to_contain_text(f"{today.year}年度培训台账")
    # the county: yy_admin, the builders' county manager, the officer, the appraiser and the craftsman
    expect(page.locator("#ledger-summary")).to_contain_text("共 5 人：已培训 2 人，未培训 3 人")
    expect(page.locator(f"#user-{appraiser.pk}")).to_contain_text("已培训")
    expect(page.locator(f"#craftsman-{craftsman.pk}")).to_contain_text("已培训")
    expect(page.locator(f"#user-{officer.pk}")).to_contain_text("未培训")
    expect(page.locator(f"#user-{shenmu.pk}")).to_have_count(0)
    no_horizontal_scroll(page)
    screenshot(page, "training-ledger-phone")
    with page.expect_download() as download:
        page.click("#ledger-export")
    sheet = CalamineWorkbook.from_path(download.value.path()).get_sheet_by_name("培训台账").to_python()
    assert sheet[0][0] == f"{today.year}年度培训台账（榆阳区）"
    body = {row[1]: row for row in sheet[2:]}
    assert set(body) == {"yy_admin", "builder_610802", "ljg_xinxiyuan", "yy_jianding", "王工匠"}
    assert body["yy_jianding"][2:4] == ["鉴定人员", "榆阳区"]
    assert body["王工匠"][5] == "13700000001"
    trained = {name: (row[6], int(row[7]), float(row[8])) for name, row in body.items()}
    assert trained["yy_jianding"] == trained["王工匠"] == ("是", 1, 3.5)
    assert trained["ljg_xinxiyuan"] == ("否", 0, 0.0)
    page.select_option("#id_status", "untrained")
    submit(page, "main form button[type=submit]")
    expect(page.locator("#ledger-table tbody tr")).to_have_count(3)
    expect(page.locator(f"#user-{appraiser.pk}")).to_have_count(0)

    # P17: trained now, the appraiser is offered and assigned
    desk.goto(f"{base}/requests/{request.pk}/assign/")
    option = desk.locator("#id_appraiser option", has_text="yy_jianding")
    expect(option).to_have_count(1)
    expect(desk.locator("main .alert-warning")).to_have_count(0)
    desk.select_option("#id_appraiser", option.get_attribute("value"))
    submit(desk)
    expect(desk.locator("h1")).to_contain_text("已指派")
    request.refresh_from_db()
    assert (request.status, request.appraiser_id) == ("assigned", appraiser.pk)
    assert AppraisalRequest.objects.get(pk=request.pk).assigned_by_id == manager.pk

    session.refresh_from_db()
    assert (session.division_id, session.kind, session.hours, session.held_on) == (
        f.YUYANG,
        "appraisal",
        Decimal("3.5"),
        today,
    )
    assert session.created_by_id == manager.pk
    assert sorted(
        Attendance.objects.filter(session=session).values_list("user_id", "craftsman_id", "signed_in"),
        key=str,
    ) == sorted([(appraiser.pk, None, True), (officer.pk, None, False), (None, craftsman.pk, True)], key=str)

    # scope: Shenmu sees its own session only, and not Yuyang's
    other = new_page()
    log_in(other, base, "sm_admin", f.PASSWORD)
    other.goto(f"{base}/training/")
    expect(other.locator("#session-table tbody tr")).to_have_count(1)
    expect(other.locator(f"#session-{shenmu_session.pk}")).to_contain_text("神木县核查培训")
    refused(other, f"{base}/training/{session.pk}/")
    other.goto(f"{base}/training/ledger/")
    expect(other.locator("#ledger-summary")).to_contain_text("已培训 1 人")
    expect(other.locator(f"#user-{appraiser.pk}")).to_have_count(0)
