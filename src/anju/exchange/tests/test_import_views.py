"""The web import (issue 5 deliver 6): upload → dry-run preview (counts, first errors, error workbook) → confirm
(all-or-nothing or skipping the bad rows) → history; refusals in Chinese with nothing stored or written.

Jobs run inline here (ANJU_JOBS_SYNC); test_jobs.py runs them in real threads."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core import idnumber
from anju.exchange.models import ImportMode, ImportRun, RunStatus
from anju.registry.models import Household
from anju.testing import factories

pytestmark = pytest.mark.django_db

HEADER = ["县（市、区）", "乡镇（街道）", "行政村", "户主姓名", "身份证号码", "家庭人口", "房屋结构"]


def person(n: int) -> str:
    return idnumber.compose("610802", dt.date(1970, 1, 1) + dt.timedelta(days=n), n % 1000)


def bad_checksum(n: int) -> str:
    valid = person(n)
    return valid[:-1] + ("1" if valid[-1] == "0" else "0")


def households_xlsx(rows: list[list[str]], title: str | None = "榆阳区农户花名册") -> bytes:
    """A workbook as people send it: a title row above the header."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet("农户")
    start = 0
    if title:
        sheet.write_row(0, 0, [title])
        start = 1
    sheet.write_row(start, 0, HEADER)
    for i, row in enumerate(rows, start=start + 1):
        sheet.write_row(i, 0, row)
    book.close()
    return output.getvalue()


def good_row(n: int, village: str = "高家沟村") -> list[str]:
    return ["榆阳区", "鼓楼街道", village, f"王{n}", person(n), "3", "砖混"]


@pytest.fixture(autouse=True)
def inline_jobs(settings, tmp_path):
    settings.ANJU_JOBS_SYNC = True
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1, name="高家沟村")


@pytest.fixture
def county(client, village):
    user = factories.user("yy_import", factories.YUYANG, "county_manager")
    client.force_login(user)
    return user


def upload(client, content: bytes, name: str = "农户.xlsx", kind: str = "households"):
    return client.post(reverse("exchange:import_new"), {"kind": kind, "file": SimpleUploadedFile(name, content)})


def test_upload_preview_confirm_households_exist(client, county, village):
    rows = [good_row(1), good_row(2), good_row(3)]
    rows.append(["榆阳区", "鼓楼街道", "高家沟村", "错号", bad_checksum(4), "3", "砖混"])
    rows.append(["榆阳区", "鼓楼街道", "没有这个村", "李四", person(5), "3", "砖混"])
    response = upload(client, households_xlsx(rows))
    preview = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exchange:import_detail", args=[preview.pk])
    assert (preview.dry_run, preview.status, preview.file_name) == (True, RunStatus.DONE, "农户.xlsx")
    assert (preview.total, preview.created, preview.invalid, preview.progress_done) == (5, 3, 2, 5)
    assert Path(preview.upload.path).is_file() and preview.upload.name.startswith("imports/")
    assert not Household.objects.exists()

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-count="created">3<' in html and 'data-count="invalid">2<' in html
    assert [e[0] for e in page.context["errors"]] == [6, 7]  # as the sheet numbers them: title, header, 5 rows
    assert page.context["errors"][0][1] == "身份证号码" and "校验位错误" in page.context["errors"][0][3]
    assert "没有这个村" in page.context["errors"][1][2]
    assert 'value="skip_invalid"' in html and "跳过错误行导入" in html
    assert 'value="all" disabled' in html  # all-or-nothing would write nothing: the button says so

    errors = client.get(reverse("exchange:import_errors", args=[preview.pk]))
    assert errors.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(errors.streaming_content)))
    sheet = book.get_sheet_by_index(0).to_python()
    assert sheet[0][:4] == ["行号", "列", "值", "原因"] and [r[0] for r in sheet[1:]] == [6, 7]

    refused = client.post(reverse("exchange:import_confirm", args=[preview.pk]), {"mode": ImportMode.ALL_OR_NOTHING})
    assert refused.status_code == 302 and ImportRun.objects.count() == 1
    assert "跳过错误行导入" in client.get(refused["Location"]).content.decode()  # the refusal's message, then the page

    confirmed = client.post(reverse("exchange:import_confirm", args=[preview.pk]), {"mode": ImportMode.SKIP_INVALID})
    real = ImportRun.objects.exclude(pk=preview.pk).get()
    assert confirmed["Location"] == reverse("exchange:import_detail", args=[real.pk])
    assert (real.dry_run, real.mode, real.status, real.created, real.invalid) == (
        False,
        ImportMode.SKIP_INVALID,
        RunStatus.DONE,
        3,
        2,
    )
    assert real.upload.name == preview.upload.name and real.file_sha256 == preview.file_sha256
    assert sorted(Household.objects.values_list("head_name", flat=True)) == ["王1", "王2", "王3"]
    event = Event.objects.get(action=Action.HOUSEHOLDS_IMPORTED)
    assert (event.actor_id, event.extra["sha256"], event.extra["created"]) == (county.pk, preview.file_sha256, 3)
    assert event.request_id == confirmed["X-Request-ID"]  # the job carries the confirming request's id

    again = client.post(reverse("exchange:import_confirm", args=[preview.pk]), {"mode": ImportMode.SKIP_INVALID})
    assert again["Location"] == reverse("exchange:import_detail", args=[real.pk])  # one preview, one import
    assert ImportRun.objects.count() == 2 and Household.objects.count() == 3

    history = client.get(reverse("exchange:import_list")).content.decode()
    assert history.count("农户.xlsx") == 2 and preview.file_sha256[:12] in history and "预览校验" in history
    detail = client.get(reverse("exchange:import_detail", args=[preview.pk])).content.decode()
    assert 'id="import-confirmed"' in detail and 'id="import-confirm"' not in detail


def test_a_clean_file_is_confirmed_all_or_nothing(client, county, village):
    upload(client, households_xlsx([good_row(1), good_row(2)], title=None), name="clean.xlsx")
    preview = ImportRun.objects.get()
    html = client.get(reverse("exchange:import_detail", args=[preview.pk])).content.decode()
    assert "校验通过" in html and "跳过错误行导入" not in html and 'value="all" disabled' not in html
    client.post(reverse("exchange:import_confirm", args=[preview.pk]), {"mode": ImportMode.ALL_OR_NOTHING})
    assert ImportRun.objects.filter(dry_run=False, status=RunStatus.DONE, created=2).exists()
    assert Household.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("农户.pdf", b"%PDF-1.4", "不支持的文件类型「.pdf」"),
        ("农户.xlsx", b"not a workbook at all", "内容不是Excel表格"),
        ("农户.xlsx", b"", "空文件"),
    ],
)
def test_a_bad_file_is_refused_in_chinese_and_nothing_stored(client, county, settings, name, content, message):
    response = upload(client, content, name=name)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not ImportRun.objects.exists()
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_too_large_a_file_is_refused(client, county, monkeypatch):
    monkeypatch.setattr("anju.exchange.forms.MAX_UPLOAD_MB", 0)
    response = upload(client, households_xlsx([good_row(1)]))
    assert "文件过大" in response.context["form"].errors["file"][0]
    assert not ImportRun.objects.exists()


def test_an_unreadable_workbook_shows_the_engines_refusal(client, county):
    """A header without the required columns: the dry run is refused with the engine's message, nothing to confirm."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    book.add_worksheet().write_row(0, 0, ["姓名", "地址"])
    book.close()
    upload(client, output.getvalue())
    run = ImportRun.objects.get()
    assert run.status == RunStatus.REFUSED
    html = client.get(reverse("exchange:import_detail", args=[run.pk])).content.decode()
    assert run.message and run.message in html and 'id="import-confirm"' not in html


def test_confirm_refused_when_the_file_changed_or_the_preview_is_old(client, county, village):
    upload(client, households_xlsx([good_row(1)]))
    preview = ImportRun.objects.get()
    url = reverse("exchange:import_confirm", args=[preview.pk])

    ImportRun.objects.filter(pk=preview.pk).update(finished_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    response = client.post(url, {"mode": ImportMode.ALL_OR_NOTHING}, follow=True)
    assert "预览已超过一天" in response.content.decode()
    ImportRun.objects.filter(pk=preview.pk).update(finished_at=timezone.now())

    Path(preview.upload.path).write_bytes(households_xlsx([good_row(1), good_row(2)]))
    response = client.post(url, {"mode": ImportMode.ALL_OR_NOTHING}, follow=True)
    assert "文件在校验后被改动" in response.content.decode()
    assert ImportRun.objects.count() == 1 and not Household.objects.exists()


def test_only_the_uploader_confirms_and_only_with_the_importers_roles(client, county, village):
    upload(client, households_xlsx([good_row(1)]))
    preview = ImportRun.objects.get()
    url = reverse("exchange:import_confirm", args=[preview.pk])
    colleague = factories.user("yy_colleague", factories.YUYANG, "county_manager")
    client.force_login(colleague)
    assert client.post(url, {"mode": ImportMode.ALL_OR_NOTHING}).status_code == 403
    assert (
        'id="import-confirm"' not in client.get(reverse("exchange:import_detail", args=[preview.pk])).content.decode()
    )
    assert client.get(url).status_code == 405
    assert ImportRun.objects.count() == 1 and not Household.objects.exists()


def test_kinds_offered_by_role(client, village):
    """行政区划 for the administrator only; 问题清单 when its importer exists; roles that cannot write get a 403."""
    from anju.exchange.importers import IMPORTERS

    client.force_login(factories.user("yy_c", factories.YUYANG, "county_manager"))
    kinds = [k for k, _ in client.get(reverse("exchange:import_new")).context["form"].fields["kind"].choices]
    assert kinds == ["households", *(["problems"] if "problems" in IMPORTERS else [])]
    assert upload(client, b"code,name,level\n", name="d.csv", kind="divisions").context["form"].errors["kind"]
    client.force_login(factories.user("city_admin", "610800000000", "admin"))
    kinds = [k for k, _ in client.get(reverse("exchange:import_new")).context["form"].fields["kind"].choices]
    assert "divisions" in kinds
    client.force_login(factories.user("city_sup", "610800000000", "city_supervisor"))
    assert client.get(reverse("exchange:import_new")).status_code == 403
    page = client.get(reverse("exchange:import_list"))
    assert page.status_code == 200 and 'id="import-new"' not in page.content.decode()
    assert 'id="import-empty"' in page.content.decode()


def test_progress_partial_polls_while_running_and_stops_when_done(client, county, village):
    upload(client, households_xlsx([good_row(1)]))
    run = ImportRun.objects.get()
    url = reverse("exchange:import_progress", args=[run.pk])
    done = client.get(url).content.decode()
    assert 'data-status="done"' in done and "hx-trigger" not in done
    ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, progress_done=4000, finished_at=None)
    running = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in running and "已检查 4000 行" in running and "progress-bar" in running


def test_a_run_left_running_before_a_restart_shows_as_interrupted(client, county, village):
    upload(client, households_xlsx([good_row(1)]))
    run = ImportRun.objects.get()
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=3), finished_at=None
    )
    html = client.get(reverse("exchange:import_detail", args=[run.pk])).content.decode()
    assert 'data-status="interrupted"' in html and "导入已中断" in html and "hx-trigger" not in html
    assert "中断" in client.get(reverse("exchange:import_list")).content.decode()


def test_a_city_wide_web_import_refreshes_the_alerts_in_a_job_of_its_own(client, county, village, monkeypatch):
    """P7: the import does not refresh every alert inside its run; its job queues the full refresh after it."""
    from anju.exchange.importers import households as households_importer

    monkeypatch.setattr(households_importer, "INCREMENTAL_MAX", 1)
    upload(client, households_xlsx([good_row(1), good_row(2)], title=None), name="clean.xlsx")
    assert not Event.objects.filter(action=Action.ALERTS_REFRESHED).exists()
    client.post(
        reverse("exchange:import_confirm", args=[ImportRun.objects.get().pk]), {"mode": ImportMode.ALL_OR_NOTHING}
    )
    assert Household.objects.count() == 2
    assert Event.objects.filter(action=Action.ALERTS_REFRESHED).count() == 1
