"""End to end in real Chromium (P9, P23): after a rainstorm the village information officer, on a phone, reports a
collapsed house of the county's event with a photo, records the household's transitional resettlement and who
confirmed the place safe; the county manager sees the house on the event dashboard (reported, resettled) and the
house waiting for its appraisal."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM_BUTTON = "main form.card button[type=submit]"


def test_village_reports_damage_and_resettlement_county_sees_the_dashboard(
    live_server, new_page, screenshot, tmp_path, settings
):
    from django.urls import reverse
    from PIL import Image
    from playwright.sync_api import expect

    from anju.disasters import services
    from anju.disasters.models import DamageReport, Resettlement
    from anju.inspections.models import RequestSource
    from anju.testing.scope import ensure_base_divisions

    settings.MEDIA_ROOT = tmp_path
    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    county = f.user("yy_admin", f.YUYANG, "county_manager")
    f.user("ljg_xinxiyuan", village.code, "village_staff")
    owner = f.household(village, head_name="白窑洞")
    house = f.house(owner, structure="earth_cave")
    f.house(f.household(village, head_name="李四"))
    event = services.event_declare(
        actor=county,
        kind="flood",
        name="7·15强降雨",
        started_on=dt.date.today() - dt.timedelta(days=1),
        affected_codes=[f.YUYANG_TOWN],
    )
    photo = tmp_path / "damage.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "brown").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    base = live_server.url

    page = new_page(viewport=PHONE)
    log_in(page, base, "ljg_xinxiyuan", f.PASSWORD)
    page.goto(f"{base}/disasters/")
    with page.expect_navigation():
        page.click(f"#event-{event.pk}")
    with page.expect_navigation():
        page.click("#report-damage")
    page.fill("#id_q", "白窑")
    with page.expect_navigation():
        page.click("#house-search button[type=submit]")
    page.select_option("#id_house", str(house.pk))
    page.click("label[for=id_level_3]")  # 倒塌
    page.fill("#id_people_affected", "4")
    page.check("#id_needs_resettlement")
    page.fill("#id_description", "窑顶坍塌，后墙开裂")
    page.set_input_files("#id_photos", str(photo))
    no_horizontal_scroll(page)
    screenshot(page, "disaster-report-phone")
    submit(page, FORM_BUTTON)
    expect(page.locator("main .alert-success")).to_contain_text("已上报灾损")
    expect(page.locator("#report-level")).to_have_text("倒塌")
    expect(page.locator("#resettlement-missing")).to_be_visible()
    expect(page.locator("#report-appraisal")).to_contain_text("已申请鉴定")
    expect(page.locator("#photo-list img")).to_have_count(1)

    with page.expect_navigation():
        page.click("#add-resettlement")
    page.select_option("#id_method", "relatives")
    page.fill("#id_place", "本村白某某家")
    page.check("#id_is_safe")
    page.fill("#id_confirmed_by", "村支书王某")
    no_horizontal_scroll(page)
    screenshot(page, "disaster-resettlement-phone")
    submit(page, FORM_BUTTON)
    expect(page.locator("main .alert-success")).to_contain_text("已登记过渡安置")
    expect(page.locator("#resettlement-list")).to_contain_text("投亲靠友")
    expect(page.locator("#resettlement-list")).to_contain_text("经村支书王某确认安全")

    report = DamageReport.objects.get()
    assert (report.house_id, report.level, report.people_affected) == (house.pk, "collapsed", 4)
    assert report.appraisal_request.source == RequestSource.DISASTER
    assert Resettlement.objects.get().is_safe

    county_page = new_page()
    log_in(county_page, base, "yy_admin", f.PASSWORD)
    county_page.goto(f"{base}/disasters/events/{event.pk}/")
    expect(county_page.locator("#total-reported")).to_have_text("1")
    expect(county_page.locator("#total-resettled")).to_have_text("1")
    expect(county_page.locator("#total-appraised")).to_have_text("0")
    expect(county_page.locator(f"#dashboard-{f.YUYANG_TOWN}")).to_contain_text("鼓楼")
    expect(county_page.locator("#dashboard-chart svg")).to_be_visible()
    expect(county_page.locator(f"#report-{report.pk}")).to_contain_text("白窑洞")
    screenshot(county_page, "disaster-dashboard")
    county_page.goto(base + reverse("inspections:request_list"))
    expect(county_page.locator("main")).to_contain_text("白窑洞")
