"""End to end in real Chromium (P11): the village information officer, on a phone, puts an idle D-grade cave house on
the idle dangerous house list with a named watcher, records that it was sealed and the warning sign posted (with a
photo), visits it and finds someone living there (an incident must say what was done), visits it again, and ends
the listing when the house is demolished. Another county's manager cannot open the listing or its photo."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll, refused, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_p11_idle_house_listed_sealed_visited_and_ended(live_server, new_page, screenshot, tmp_path, settings):
    from PIL import Image
    from playwright.sync_api import expect

    from anju.idle import services
    from anju.idle.models import IdleHouse
    from anju.testing.scope import ensure_base_divisions

    settings.MEDIA_ROOT = tmp_path
    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    staff = f.user("ljg_xinxiyuan", village.code, "village_staff")
    shenmu = f.user("sm_admin", f.SHENMU, "county_manager")
    graded = dt.date(2025, 1, 10)
    house = f.house(f.household(village, head_name="白闲置"), grade="D", graded_on=graded, is_idle=True)
    f.house(f.household(village, head_name="李住人"), grade="C", graded_on=graded)
    shenmu_house = f.house(
        f.household(f.village(f.SHENMU_TOWN, 1, "神木测试村"), head_name="神木闲置"), grade="C", graded_on=graded
    )
    services.idle_list(
        actor=shenmu, house=shenmu_house, listed_on=dt.date.today(), watcher_name="王巡查", watcher_phone="13900000000"
    )
    photo = tmp_path / "sign.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "yellow").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    today = dt.date.today().isoformat()
    base = live_server.url

    page = new_page(viewport=PHONE)
    log_in(page, base, "ljg_xinxiyuan", f.PASSWORD)
    page.goto(f"{base}/idle-houses/")
    expect(page.locator("#empty-state")).to_be_visible()
    no_horizontal_scroll(page)
    submit(page, "#idle-add")
    expect(page.locator("#candidate-table tbody tr")).to_have_count(2)
    expect(page.locator("#candidate-table tbody tr").first).to_contain_text("白闲置")  # marked idle: listed first
    no_horizontal_scroll(page)
    submit(page, f"#house-{house.pk} a")
    expect(page.locator("#idle-summary")).to_contain_text("白闲置")
    page.select_option("#id_watcher", str(staff.pk))
    page.fill("#id_visit_interval_days", "30")
    page.fill("#id_note", "户主已搬入新房，老窑无人居住")
    no_horizontal_scroll(page)
    screenshot(page, "idle-list-form-phone")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已列入闲置危房名单")
    idle = IdleHouse.objects.get(house=house)
    assert page.url.endswith(f"/idle-houses/{idle.pk}/")
    expect(page.locator("#sealed")).to_contain_text("未封存")
    expect(page.locator("#sign")).to_contain_text("未张贴")
    expect(page.locator("#no-visits")).to_be_visible()

    submit(page, "#idle-actions a:has-text('封存与警示标识')")
    page.fill("#id_sealed_on", today)
    page.fill("#id_sealed_by", "村支书王某")
    page.fill("#id_sign_posted_on", today)
    page.set_input_files("#id_sign_photo", str(photo))
    no_horizontal_scroll(page)
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已登记封存与警示标识")
    expect(page.locator("#sealed")).to_contain_text(f"{today}，村支书王某")
    sign_photo = page.locator("#sign a")
    expect(sign_photo).to_have_text("查看照片")
    sign_url = base + sign_photo.get_attribute("href")
    response = page.request.get(sign_url)
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"

    submit(page, "#visit-link")
    page.check("input[name=result][value=occupied]")
    page.fill("#id_note", "发现一名外来务工人员借住")
    no_horizontal_scroll(page)
    screenshot(page, "idle-visit-phone")
    submit(page)
    expect(page.locator("main form")).to_contain_text("请填写处置措施")  # P11: an incident is handled, not noted
    page.fill("#id_action_taken", "已劝离，设置围挡并报告镇政府")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已登记巡查")
    expect(page.locator("#occupied-alert")).to_be_visible()
    expect(page.locator("#visits .list-group-item").first).to_contain_text("发现有人居住")
    expect(page.locator("#visits .list-group-item").first).to_contain_text("已劝离")

    page.goto(f"{base}/idle-houses/")
    expect(page.locator("[data-count=occupied]")).to_have_text("1")
    page.select_option("#id_problem", "occupied")
    submit(page, "#filters button[type=submit]")
    expect(page.locator("#idle-table tbody tr")).to_have_count(1)
    expect(page.locator(f"#idle-{idle.pk}")).to_contain_text("已封存")
    expect(page.locator(f"#idle-{idle.pk}")).to_contain_text("发现有人居住")
    no_horizontal_scroll(page)
    screenshot(page, "idle-list-phone")

    submit(page, f"#idle-{idle.pk} a >> nth=0")
    submit(page, "#visit-link")
    page.check("input[name=result][value=empty]")
    submit(page)
    expect(page.locator("#occupied-alert")).to_have_count(0)
    expect(page.locator("#visits .list-group-item")).to_have_count(2)

    submit(page, "#idle-actions a:has-text('销号')")
    page.select_option("#id_end_reason", "demolished")
    page.fill("#id_end_note", "老窑已拆除复垦")
    submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已销号")
    expect(page.locator("h1")).to_contain_text("已销号")
    expect(page.locator("#idle-actions")).to_have_count(0)  # an ended listing takes no more records
    page.goto(f"{base}/idle-houses/")
    expect(page.locator("#empty-state")).to_be_visible()  # the list shows listings still open
    page.select_option("#id_status", "ended")
    submit(page, "#filters button[type=submit]")
    expect(page.locator(f"#idle-{idle.pk}")).to_contain_text(f"{today}销号")

    idle.refresh_from_db()
    assert (idle.grade, idle.watcher_id, idle.watcher_name, idle.visit_interval_days) == (
        "D",
        staff.pk,
        staff.username,
        30,
    )
    assert (idle.sealed_by, idle.sign_posted_on.isoformat(), bool(idle.sign_photo)) == ("村支书王某", today, True)
    assert (idle.last_result, idle.ended_on.isoformat(), idle.end_reason) == ("empty", today, "demolished")
    assert idle.next_visit_due_on == dt.date.today() + dt.timedelta(days=30)
    assert list(idle.visits.order_by("id").values_list("result", "action_taken")) == [
        ("occupied", "已劝离，设置围挡并报告镇政府"),
        ("empty", ""),
    ]

    other = new_page()
    log_in(other, base, "sm_admin", f.PASSWORD)
    refused(other, f"{base}/idle-houses/{idle.pk}/")
    assert other.request.get(sign_url).status == 404
    other.goto(f"{base}/idle-houses/?status=all")
    expect(other.locator("#idle-table tbody tr")).to_have_count(1)
    expect(other.locator("#idle-table")).to_contain_text("神木闲置")
