"""End to end in real Chromium (P3, P24): a city supervision team records an unannounced visit (暗访) to 榆阳区 and,
on a phone at the village, feeds back a finding about a household, due one week after the visit ends; the county
reports its rectification from a phone with a photo, the team returns it (a return must say why), the county reports
again and the team accepts it. A finding past its week shows as late. Another county's manager sees none of it."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll, refused, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_p3_visit_finding_rectified_returned_and_accepted(live_server, new_page, screenshot, tmp_path, settings):
    from PIL import Image
    from playwright.sync_api import expect

    from anju.supervision import services
    from anju.supervision.models import Finding, Visit
    from anju.testing.scope import CITY, ensure_base_divisions

    settings.MEDIA_ROOT = tmp_path
    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    team = f.user("city_dudao", CITY, "city_supervisor")
    partner = f.user("city_dudao2", CITY, "city_supervisor")
    f.user("yy_admin", f.YUYANG, "county_manager")
    f.user("sm_admin", f.SHENMU, "county_manager")
    owner = f.household(village, head_name="白督导")
    today = dt.date.today()
    earlier = services.visit_record(
        actor=team,
        county_code=f.YUYANG,
        starts_on=today - dt.timedelta(days=20),
        ends_on=today - dt.timedelta(days=15),
        member_names="市住建局督导组",
    )
    late = services.finding_record(
        actor=team,
        visit=earlier,
        division_code=f.YUYANG_TOWN,
        description="镇级农房安全档案不全",
        fed_back_on=today - dt.timedelta(days=15),
    )
    photo = tmp_path / "rectified.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "green").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    due = today + dt.timedelta(days=7)  # P3: rectified within one week after the visit ends
    base = live_server.url

    page = new_page(viewport=PHONE)
    log_in(page, base, "city_dudao", f.PASSWORD)
    page.goto(f"{base}/supervision/visits/")
    expect(page.locator("#visit-table tbody tr")).to_have_count(1)
    no_horizontal_scroll(page)
    submit(page, "main a:has-text('登记督导检查')")
    page.select_option("#id_county", f.YUYANG)
    page.select_option("#id_mode", "unannounced")
    page.fill("#id_starts_on", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#id_ends_on", today.isoformat())
    page.fill("#id_places", village.code)
    page.select_option("#id_members", [str(team.pk), str(partner.pk)])
    page.fill("#id_scope_note", "暗访危房改造质量和档案")
    no_horizontal_scroll(page)
    screenshot(page, "supervision-visit-phone")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已保存督导检查")
    visit = Visit.objects.exclude(pk=earlier.pk).get()
    expect(page.locator("#rectify-due")).to_contain_text(due.isoformat())
    expect(page.locator("main")).to_contain_text("刘家沟村")

    submit(page, "main a:has-text('反馈问题')")
    expect(page.locator("main")).to_contain_text(f"整改期限为督导结束后一周：{due.isoformat()}")
    expect(page.locator("#id_division_code")).to_have_value(village.code)  # the places visited come first
    page.fill("#id_household", "白督导")
    page.fill("#id_description", "改造户档案缺少竣工验收表")
    page.select_option("#id_severity", "serious")
    no_horizontal_scroll(page)
    screenshot(page, "supervision-finding-phone")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text(f"已反馈，整改期限为{due.isoformat()}")
    finding = Finding.objects.get(visit=visit)
    expect(page.locator(f"#finding-{finding.pk}")).to_contain_text("白督导")
    expect(page.locator(f"#finding-{finding.pk}")).to_contain_text("待整改")

    county = new_page(viewport=PHONE)
    log_in(county, base, "yy_admin", f.PASSWORD)
    county.goto(f"{base}/supervision/findings/")
    expect(county.locator("#finding-table tbody tr")).to_have_count(2)
    expect(county.locator(f"#finding-{late.pk}")).to_contain_text("逾期")
    no_horizontal_scroll(county)
    county.check("#id_late")
    submit(county, "main form button[type=submit]")
    expect(county.locator("#finding-table tbody tr")).to_have_count(1)
    expect(county.locator(f"#finding-{late.pk}")).to_be_visible()
    county.goto(f"{base}/supervision/findings/{late.pk}/")
    expect(county.locator("#due-on")).to_contain_text("已逾期")
    expect(county.locator("h1 .text-bg-danger")).to_have_text("逾期")  # P3: the title says late as the list does

    county.goto(f"{base}/supervision/findings/{finding.pk}/")
    expect(county.locator("#review-form")).to_have_count(0)  # the county reports; only the team accepts
    county.fill("#rectify-form #id_description", "已补齐竣工验收表并归档")
    county.set_input_files("#rectify-form #id_evidence", str(photo))
    no_horizontal_scroll(county)
    screenshot(county, "supervision-rectify-phone")
    submit(county, "#rectify-form button[type=submit]")
    expect(county.locator("main .alert-success")).to_contain_text("整改情况已报送")
    expect(county.locator("h1")).to_contain_text("整改待验收")

    page.goto(f"{base}/supervision/findings/{finding.pk}/")
    expect(page.locator(".card:has-text('已补齐竣工验收表') a")).to_have_text("佐证材料")
    page.check("#review-form input[name=verdict][value=returned]")
    submit(page, "#review-form button[type=submit]")
    expect(page.locator("main form")).to_contain_text("退回时请写明意见")
    page.check("input[name=verdict][value=returned]")
    page.fill("#id_note", "验收表缺少村级签字")
    submit(page)
    expect(page.locator("h1")).to_contain_text("整改被退回")

    county.reload()
    county.fill("#rectify-form #id_description", "已补村级签字")
    submit(county, "#rectify-form button[type=submit]")
    expect(county.locator("h1")).to_contain_text("整改待验收")

    page.reload()
    page.check("#review-form input[name=verdict][value=accepted]")
    submit(page, "#review-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("已整改")
    expect(page.locator("main")).to_contain_text("验收通过")
    expect(page.locator("main .card .badge:has-text('退回')")).to_have_count(1)  # the returned attempt stays

    page.goto(f"{base}/supervision/findings/")
    page.select_option("#id_state", "accepted")
    submit(page, "main form button[type=submit]")
    expect(page.locator("#finding-table tbody tr")).to_have_count(1)
    expect(page.locator(f"#finding-{finding.pk}")).to_contain_text("已整改")
    no_horizontal_scroll(page)

    finding.refresh_from_db()
    assert (finding.division_id, finding.household_id, finding.severity) == (village.code, owner.pk, "serious")
    assert (finding.fed_back_on, finding.due_on, finding.state) == (today, due, "accepted")
    assert (finding.rectified_on, finding.accepted_on) == (today, today)
    assert list(finding.rectifications.order_by("id").values_list("verdict", "review_note")) == [
        ("returned", "验收表缺少村级签字"),
        ("accepted", ""),
    ]
    assert finding.rectifications.first().evidence.name.endswith(".jpg")
    assert (visit.level, visit.mode, visit.places) == ("city", "unannounced", [village.code])
    assert set(visit.members.values_list("username", flat=True)) == {"city_dudao", "city_dudao2"}

    other = new_page()
    log_in(other, base, "sm_admin", f.PASSWORD)
    for url in (f"/supervision/findings/{finding.pk}/", f"/supervision/visits/{visit.pk}/"):
        refused(other, base + url)
    other.goto(f"{base}/supervision/findings/")
    expect(other.locator("#finding-table tbody")).to_have_text("没有督导问题。")
