"""End to end in real Chromium (P14): the county's complaint desk receives a hotline complaint about a cave house,
with the 15-day reply deadline of the hotline; it is given to the town's staff member, who answers the complainant
from a phone; the county closes it with the complainant's satisfaction (a dissatisfied close must say what was done)
and finds it again in the list by state. Another county's manager cannot open it."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll, refused, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_p14_complaint_received_assigned_answered_and_closed(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    from anju.audit.actions import Action
    from anju.audit.models import Event
    from anju.complaints import services
    from anju.complaints.models import Complaint
    from anju.core import idnumber
    from anju.testing.scope import ensure_base_divisions

    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    county = f.user("yy_xinfang", f.YUYANG, "county_manager")
    town = f.user("gl_zhenyuan", f.YUYANG_TOWN, "town_staff")
    shenmu = f.user("sm_xinfang", f.SHENMU, "county_manager")
    owner = f.household(village, head_name="白窑洞")
    f.house(owner)
    today = dt.date.today()
    letter = services.complaint_register(
        actor=county,
        division_code=village.code,
        channel="letter",
        received_on=today,
        complainant_name="李来信",
        content="询问补助资金何时发放",
        category="subsidy",
    )
    services.complaint_register(
        actor=shenmu,
        division_code=f.SHENMU_TOWN,
        channel="visit",
        received_on=today,
        complainant_name="神木来访",
        content="反映危房改造质量问题",
        category="quality",
    )
    base = live_server.url

    page = new_page()
    log_in(page, base, "yy_xinfang", f.PASSWORD)
    page.goto(f"{base}/complaints/")
    expect(page.locator("#complaint-table tbody tr")).to_have_count(1)  # the 神木 complaint is not listed
    submit(page, "#complaint-add")
    page.select_option("#id_division_code", village.code)
    page.select_option("#id_channel", "hotline")
    page.fill("#id_complainant_name", "白某某")
    page.fill("#id_phone", "138 0000 1234")
    page.select_option("#id_category", "housing_safety")
    page.fill("#id_content", "窑洞后墙开裂，去年申请改造至今无人答复")
    page.fill("#id_household", str(owner.pk))
    submit(page)
    due = today + dt.timedelta(days=15)  # P14: a hotline complaint is answered within 15 days
    expect(page.locator("main .alert-success")).to_contain_text(f"答复期限{due.isoformat()}")
    complaint = Complaint.objects.exclude(pk=letter.pk).get(division_id=village.code)
    assert page.url.endswith(f"/complaints/{complaint.pk}/")
    expect(page.locator("#complaint-state")).to_have_text("受理")
    expect(page.locator("main")).to_contain_text("白窑洞")
    expect(page.locator("#complaint-phone")).to_have_text("138****1234")
    page.click("button:has-text('显示完整号码')")  # htmx: the full number in place, audited
    expect(page.locator("#complaint-phone")).to_have_text("13800001234")

    submit(page, "#moves a:has-text('交办')")
    page.select_option("#id_handler", str(town.pk))
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已交办")
    expect(page.locator("#complaint-state")).to_have_text("办理中")

    phone = new_page(viewport=PHONE)
    log_in(phone, base, "gl_zhenyuan", f.PASSWORD)
    phone.goto(f"{base}/complaints/")
    expect(phone.locator("#complaint-table tbody tr")).to_have_count(2)
    no_horizontal_scroll(phone)
    phone.check("#id_mine")  # htmx swaps the rows: only what this user handles
    expect(phone.locator("#complaint-table tbody tr")).to_have_count(1)
    expect(phone.locator(f"#complaint-{complaint.pk}")).to_contain_text("办理中")
    screenshot(phone, "complaint-list-phone")
    submit(phone, f"#complaint-{complaint.pk} a >> nth=0")
    submit(phone, "#moves a:has-text('答复')")
    phone.fill("#id_reply_text", "经镇村核实，该户已列入今年改造计划，已电话告知")
    phone.select_option("#id_reply_method", "phone")
    no_horizontal_scroll(phone)
    screenshot(phone, "complaint-reply-phone")
    submit(phone)
    expect(phone.locator("main .alert-success")).to_contain_text("已记录答复")
    expect(phone.locator("#complaint-state")).to_have_text("已答复")
    phone.goto(f"{base}/complaints/new/")
    expect(phone.locator("#id_division_code")).to_be_visible()
    no_horizontal_scroll(phone)

    page.reload()
    submit(page, "#moves a:has-text('办结')")
    radios = page.locator("input[name=satisfaction]")
    expect(radios).to_have_count(3)  # 满意, 基本满意, 不满意: no radio labelled 请选择
    for n in range(3):
        expect(radios.nth(n)).to_have_class("form-check-input")  # a radio button, not an empty text box
    screenshot(page, "complaint-close")
    page.check("input[name=satisfaction][value=dissatisfied]")
    submit(page)
    expect(page.locator("main form")).to_contain_text("请说明后续处理情况")  # P14: no silent dissatisfied close
    page.check("input[name=satisfaction][value=satisfied]")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已办结")
    expect(page.locator("#complaint-state")).to_have_text("已办结")
    expect(page.locator("#complaint-satisfaction")).to_have_text("满意")
    for label in ("受理信访件", "交办信访件", "答复信访人", "信访件办结"):
        expect(page.locator("#history")).to_contain_text(label)

    page.goto(f"{base}/complaints/")
    expect(page.locator("#complaint-table tbody tr")).to_have_count(2)
    page.select_option("#id_state", "closed")  # htmx
    expect(page.locator("#complaint-table tbody tr")).to_have_count(1)
    expect(page.locator(f"#complaint-{complaint.pk}")).to_contain_text("已办结")
    expect(page.locator("#state-counts [data-state=closed] .badge")).to_have_text("1")
    assert "state=closed" in page.url
    page.check("#id_open")  # closed and still open: nothing
    expect(page.locator("#empty-state")).to_contain_text("没有符合条件的信访件")

    complaint.refresh_from_db()
    assert (complaint.state, complaint.channel, complaint.reply_due_on) == ("closed", "hotline", due)
    assert (complaint.handler_id, complaint.reply_method, complaint.satisfaction) == (town.pk, "phone", "satisfied")
    assert complaint.household_id == owner.pk
    assert "13800001234" not in complaint.phone_cipher and idnumber.decrypt(complaint.phone_cipher) == "13800001234"
    events = Event.objects.filter(object_type="complaints.complaint", object_id=str(complaint.pk)).order_by("id")
    assert list(events.values_list("action", flat=True)) == [
        Action.COMPLAINT_RECEIVED,
        Action.COMPLAINT_PHONE_VIEWED,
        Action.COMPLAINT_ASSIGNED,
        Action.COMPLAINT_REPLIED,
        Action.COMPLAINT_CLOSED,
    ]

    other = new_page()
    log_in(other, base, "sm_xinfang", f.PASSWORD)
    refused(other, f"{base}/complaints/{complaint.pk}/")
    other.goto(f"{base}/complaints/")
    expect(other.locator("#complaint-table tbody tr")).to_have_count(1)
    expect(other.locator("#complaint-table")).to_contain_text("神木来访")
