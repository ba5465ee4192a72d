"""End to end in real Chromium, on a phone: a county manager uploads a households workbook with one bad row, sees
the dry run's preview and the error, imports the good rows with "跳过错误行导入", watches the job finish (a real
background thread of the live server) and finds both runs in the history (issue 5 deliver 6)."""

from __future__ import annotations

import pytest

from anju.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def test_upload_preview_skip_invalid_and_history(live_server, new_page, screenshot, settings, tmp_path):
    from playwright.sync_api import expect

    from anju.exchange.models import ImportRun
    from anju.exchange.tests.test_import_views import bad_checksum, good_row, households_xlsx
    from anju.registry.models import Household
    from anju.testing.scope import ensure_base_divisions

    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_base_divisions()
    f.village(f.YUYANG_TOWN, 1, "高家沟村")
    f.user("yy_importer", f.YUYANG, "county_manager")
    bad = ["榆阳区", "鼓楼街道", "高家沟村", "错号户", bad_checksum(9), "3", "砖混"]
    workbook = tmp_path / "高家沟村农户.xlsx"
    workbook.write_bytes(households_xlsx([good_row(1), good_row(2), bad, good_row(3)]))
    base = live_server.url

    page = new_page(viewport=PHONE)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "yy_importer")
    page.fill("#id_password", f.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")

    page.click(".navbar-toggler")
    page.click("text=数据交换")
    with page.expect_navigation():
        page.click("text=数据导入")
    expect(page.locator("#import-empty")).to_be_visible()
    with page.expect_navigation():
        page.click("#import-new")
    page.check("input[name=kind][value=households]")
    page.set_input_files("#id_file", str(workbook))
    screenshot(page, "import-upload-phone")
    with page.expect_navigation():
        page.click("#import-form button[type=submit]")

    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "done")  # polled every second until the dry run finished
    expect(page.locator("[data-count=created]")).to_have_text("3")
    expect(page.locator("[data-count=invalid]")).to_have_text("1")
    expect(page.locator("#import-errors")).to_contain_text("校验位错误")
    expect(page.locator("#import-errors tbody tr")).to_have_count(1)
    expect(page.locator("#import-errors tbody td").first).to_have_text("5")  # title, header, two good rows, the bad
    expect(page.locator("#import-confirm button[value=all]")).to_be_disabled()
    assert not Household.objects.exists()
    screenshot(page, "import-preview-phone")

    with page.expect_navigation():
        page.click("#import-confirm button[value=skip_invalid]")
    expect(page.locator("#import-status")).to_have_attribute("data-status", "done")
    expect(page.locator("#import-message")).to_contain_text("导入完成")
    expect(page.locator("[data-count=created]")).to_have_text("3")
    assert sorted(Household.objects.values_list("head_name", flat=True)) == ["王1", "王2", "王3"]

    with page.expect_navigation():
        page.click("text=返回导入记录")
    rows = page.locator("#import-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("正式导入")
    expect(rows.first).to_contain_text("高家沟村农户.xlsx")
    expect(rows.nth(1)).to_contain_text("预览校验")
    assert ImportRun.objects.filter(dry_run=False, created=3, invalid=1).count() == 1
    screenshot(page, "import-history-phone")
