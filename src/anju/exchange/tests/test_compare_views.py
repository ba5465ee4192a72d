"""The department comparison through the web (P6, issue 5 deliver 4): upload a list, read the counts and findings,
download the report, apply the sets, and the village closes its registration tasks."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from anju.audit.models import Event
from anju.core import idnumber
from anju.exchange.compare import LIVE_STAGES, Stage, comparison_run
from anju.exchange.models import (
    Comparison,
    ComparisonItem,
    ComparisonSet,
    RegistrationTask,
    RunStatus,
    TaskStatus,
)
from anju.exchange.tests.test_compare import build_case, typo_digit, write_list
from anju.registry.models import HouseholdCategory
from anju.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ANJU_JOBS_SYNC = True  # the job runs inline in the request; test_jobs.py covers the threads
    return build_case()


def upload(tmp_path, case, name: str = "低保名单.xlsx") -> SimpleUploadedFile:
    path = write_list(tmp_path / "list.xlsx", case.rows)
    return SimpleUploadedFile(name, path.read_bytes())


def run(client, tmp_path, case, **data):
    return client.post(
        reverse("exchange:compare_new"), {"file": upload(tmp_path, case), "source": "civil_affairs"} | data
    )


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_compare_through_the_page_then_apply_and_the_village_closes_a_task(client, case, tmp_path):
    """P6 end to end: counts per set, findings per tab, the report, apply with confirmation, tasks for the village."""
    client.force_login(case.manager)
    page = client.get(reverse("exchange:compare_new"))
    assert page.status_code == 200
    assert 'name="source"' in page.content.decode() and 'enctype="multipart/form-data"' in page.content.decode()

    response = run(client, tmp_path, case)
    comparison = Comparison.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/comparisons/{comparison.pk}/"
    assert (comparison.created_by, comparison.division_id, comparison.file_name) == (
        case.manager,
        f.YUYANG,
        "低保名单.xlsx",
    )
    assert Event.objects.filter(action="exchange.comparison.run", actor=case.manager).count() == 1

    detail = client.get(response["Location"])
    assert detail.status_code == 200
    counts = {s["value"]: s["count"] for s in detail.context["sets"]}
    assert counts == {
        ComparisonSet.NOT_IN_REGISTRY: 2,
        ComparisonSet.CATEGORY_MISSING: 1,
        ComparisonSet.NO_LONGER_LISTED: 2,
        ComparisonSet.NAME_DIFFERS: 1,
        ComparisonSet.HOUSE_UNSAFE: 2,
        ComparisonSet.LIKELY_TYPO: 2,
    }
    html = detail.content.decode()
    assert "名单上有此人，但本辖区系统内没有" in html  # the definitions are on the page
    for value in (ComparisonSet.CATEGORY_MISSING, ComparisonSet.NO_LONGER_LISTED, ComparisonSet.NOT_IN_REGISTRY):
        assert f'id="apply-{value}"' in html
    assert 'id="apply-name_differs"' not in html
    assert [i.name for i in detail.context["page"].object_list] == ["新人", "冯九"]  # the first tab

    typos = client.get(response["Location"], {"set": ComparisonSet.LIKELY_TYPO})
    html = typos.content.decode()
    listed, registered = idnumber.mask(typo_digit(case.ids["typo_digit"])), idnumber.mask(case.ids["typo_digit"])
    assert listed != registered and listed in html and registered in html  # both masked IDs, never a full one
    assert case.ids["typo_digit"] not in html
    unsafe = client.get(response["Location"], {"set": ComparisonSet.HOUSE_UNSAFE})
    assert {i.name: i.grade_label for i in unsafe.context["page"].object_list} == {"钱二": "C级", "王八": "未鉴定"}

    report = client.get(reverse("exchange:compare_report", kwargs={"pk": comparison.pk}))
    assert report.status_code == 200 and "spreadsheetml" in report["Content-Type"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(report.streaming_content)))
    assert book.sheet_names[0] == "汇总" and "问题行" in book.sheet_names
    missing_sheet = book.get_sheet_by_name("名单有、系统无").to_python()
    assert sorted(r[2] for r in missing_sheet[1:]) == ["冯九", "新人"]

    # Apply "生成待登记任务": a confirmation page, then the POST with a message naming the counts.
    apply_url = reverse("exchange:compare_apply", kwargs={"pk": comparison.pk, "result": "not_in_registry"})
    confirm = client.get(apply_url)
    assert confirm.status_code == 200 and confirm.context["pending"] == 2
    assert not RegistrationTask.objects.exists()
    done = client.post(apply_url, follow=True)
    assert "已生成待登记任务：处理2条结果，新建任务1条" in texts(done)[0]
    assert Event.objects.filter(action="exchange.comparison.applied").count() == 1
    again = client.post(apply_url, follow=True)
    assert texts(again) == ["没有待处理的结果，无需再次处理。"]
    assert Event.objects.filter(action="exchange.comparison.applied").count() == 1

    categories = client.post(
        reverse("exchange:compare_apply", kwargs={"pk": comparison.pk, "result": "category_missing"}), follow=True
    )
    assert "新增类型认定1条" in texts(categories)[0]
    assert HouseholdCategory.objects.filter(household=case.households["missing_category"]).exists()
    ended = client.post(
        reverse("exchange:compare_apply", kwargs={"pk": comparison.pk, "result": "no_longer_listed"}), follow=True
    )
    assert "终止类型认定2条" in texts(ended)[0]
    after = client.get(reverse("exchange:compare_detail", kwargs={"pk": comparison.pk}))
    assert {s["value"]: s["pending"] for s in after.context["sets"] if s["appliable"]} == dict.fromkeys(
        ("not_in_registry", "category_missing", "no_longer_listed"), 0
    )

    # The village sees its task, cannot close it as registered before registering, then does.
    village_staff = f.user("village", case.village.code, "village_staff")
    client.force_login(village_staff)
    home = client.get("/").content.decode()
    assert 'href="/registration-tasks/"' in home and 'href="/comparisons/"' in home  # the menu
    tasks = client.get(reverse("exchange:task_list"))
    task = RegistrationTask.objects.get()
    assert [t.pk for t in tasks.context["page"].object_list] == [task.pk]
    assert task.id_masked in tasks.content.decode() and "低保" in tasks.content.decode()
    close_url = reverse("exchange:task_close", kwargs={"pk": task.pk})
    refused = client.post(close_url, {"status": TaskStatus.DONE})
    assert refused.status_code == 200 and "请先登记该农户" in refused.context["form"].errors["household"]
    refused = client.post(close_url, {"status": TaskStatus.DISMISSED})
    assert "请填写无需登记的原因" in refused.context["form"].errors["note"]
    household = f.household(case.village, head_name="新人", id_number=case.ids["new"])
    page = client.get(close_url)
    assert list(page.context["form"].fields["household"].queryset) == [household]
    closed = client.post(close_url, {"status": TaskStatus.DONE, "note": "已入户登记"}, follow=True)
    assert "已处理新人" in texts(closed)[0]
    task.refresh_from_db()
    assert (task.status, task.household, task.note) == (TaskStatus.DONE, household, "已入户登记")
    assert Event.objects.get(action="exchange.task.closed").actor == village_staff
    assert not client.get(reverse("exchange:task_list")).context["page"].object_list  # open ones by default
    shown = client.get(reverse("exchange:task_list"), {"status": ""}).context["page"].object_list
    assert [t.pk for t in shown] == [task.pk]
    assert client.post(close_url, {"status": TaskStatus.DISMISSED, "note": "重复"}).context["form"].errors


def test_a_bad_file_is_refused_and_stores_no_findings(client, case, tmp_path):
    """A wrong type is a form error; a damaged workbook is a refused comparison with the reader's message."""
    client.force_login(case.manager)
    wrong = client.post(
        reverse("exchange:compare_new"), {"file": SimpleUploadedFile("名单.txt", b"hello"), "source": "civil_affairs"}
    )
    assert wrong.status_code == 200 and "不支持的文件类型" in wrong.context["form"].errors["file"][0]
    missing = client.post(reverse("exchange:compare_new"), {"source": "civil_affairs"})
    assert missing.status_code == 200 and "file" in missing.context["form"].errors
    assert not Comparison.objects.exists()

    damaged = client.post(
        reverse("exchange:compare_new"),
        {"file": SimpleUploadedFile("名单.xlsx", b"not a workbook at all"), "source": "civil_affairs"},
        follow=True,
    )
    comparison = Comparison.objects.get()
    assert (comparison.status, comparison.file_name) == (RunStatus.REFUSED, "名单.xlsx")
    assert "不是Excel表格" in comparison.message and comparison.message in damaged.content.decode()
    assert not ComparisonItem.objects.exists() and not comparison.report_file
    assert not Event.objects.filter(action="exchange.comparison.run").exists()
    listed = client.get(reverse("exchange:compare_list")).content.decode()
    assert 'data-status="refused"' in listed


def test_the_page_follows_a_running_comparison_then_reloads(client, case):
    """While the job runs the page polls its status; once done the partial asks htmx to reload the page; a job
    killed with its process shows as interrupted."""
    client.force_login(case.manager)
    comparison = Comparison.objects.create(
        division_id=f.YUYANG, source="civil_affairs", file_name="名单.xlsx", file_sha256="0" * 64,
        status=RunStatus.RUNNING, created_by=case.manager,
    )  # fmt: skip
    progress = reverse("exchange:compare_progress", kwargs={"pk": comparison.pk})
    detail = client.get(reverse("exchange:compare_detail", kwargs={"pk": comparison.pk})).content.decode()
    assert f'hx-get="{progress}"' in detail and "正在比对" in detail and "set-counts" not in detail
    assert "HX-Refresh" not in client.get(progress)
    Comparison.objects.filter(pk=comparison.pk).update(status=RunStatus.DONE)
    assert client.get(progress)["HX-Refresh"] == "true"
    Comparison.objects.filter(pk=comparison.pk).update(
        status=RunStatus.RUNNING, created_at=timezone.now() - dt.timedelta(hours=3)
    )
    stale = client.get(progress).content.decode()
    assert 'data-status="interrupted"' in stale and "hx-get" not in stale


def test_the_page_waits_for_the_workbook_and_shows_each_step(client, case, tmp_path):
    """The findings are committed (DONE) before the workbook is written: while it is, the page polled from that
    moment names the step with its rows and does not reload yet (it would show no download); after it, it does."""
    client.force_login(case.manager)
    seen: list[tuple[str, int, str, bool]] = []

    def progress(stage: Stage) -> None:
        comparison = Comparison.objects.order_by("-pk").first()
        page = client.get(reverse("exchange:compare_progress", kwargs={"pk": comparison.pk}))
        seen.append((stage.label, stage.done, comparison.status, "HX-Refresh" in page))
        if stage.label == "生成结果表" and stage.done == stage.total:
            assert f"生成结果表：{stage.done} / {stage.total} 行" in page.content.decode()
            detail = client.get(reverse("exchange:compare_detail", kwargs={"pk": comparison.pk})).content.decode()
            assert "set-counts" not in detail and "生成结果表" in detail
            listed = client.get(reverse("exchange:compare_list")).content.decode()
            assert 'data-status="running"' in listed and 'data-status="done"' not in listed

    path = write_list(tmp_path / "list.xlsx", case.rows)
    report = tmp_path / "r.xlsx"
    outcome = comparison_run(actor=case.manager, path=path, source="民政", output=report, progress=progress)
    labels = list(dict.fromkeys(label for label, *_rest in seen))
    assert labels == ["读取名单和登记数据", "比对", "生成结果表"]
    assert all(not refresh for *_rest, refresh in seen)
    assert ("生成结果表", 10, RunStatus.DONE, False) in seen  # the ten findings of the case, all written
    assert outcome.comparison.pk not in LIVE_STAGES
    progress_url = reverse("exchange:compare_progress", kwargs={"pk": outcome.comparison.pk})
    assert client.get(progress_url)["HX-Refresh"] == "true"


def test_a_workbook_that_cannot_be_written_keeps_the_findings_and_says_so(client, case, tmp_path):
    """The findings are committed before the workbook: when it fails (here: its folder does not exist) the
    comparison stays done, its page shows the findings and why there is no download."""
    client.force_login(case.manager)
    path = write_list(tmp_path / "list.xlsx", case.rows)
    with pytest.raises(Exception, match="missing"):
        comparison_run(actor=case.manager, path=path, source="民政", output=tmp_path / "missing" / "r.xlsx")
    comparison = Comparison.objects.get()
    assert comparison.status == RunStatus.DONE and comparison.items.count() == 10 and not comparison.report_file
    assert comparison.message.startswith("比对结果已保存，但结果表生成失败")
    detail = client.get(reverse("exchange:compare_detail", kwargs={"pk": comparison.pk})).content.decode()
    assert 'id="compare-message"' in detail and "set-counts" in detail and "report-download" not in detail
    assert comparison.pk not in LIVE_STAGES


def test_a_town_chosen_as_scope_narrows_the_registry(client, case, tmp_path):
    """Only households of the chosen division count as registered (P6 scope)."""
    client.force_login(case.manager)
    run(client, tmp_path, case, division=f.YUYANG_TOWN)
    comparison = Comparison.objects.get()
    assert comparison.division_id == f.YUYANG_TOWN
    # 孙三 and 王八 live in another town: on the list but not in this town's registry
    names = set(comparison.items.filter(result=ComparisonSet.NOT_IN_REGISTRY).values_list("name", flat=True))
    assert {"王八"} <= names
    foreign = run(client, tmp_path, case, division=f.SHENMU_TOWN)
    assert "division" in foreign.context["form"].errors
    assert Comparison.objects.count() == 1


def test_a_department_compares_but_does_not_apply(client, case, tmp_path):
    department = f.user("mz", f.YUYANG, "department")
    client.force_login(department)
    response = run(client, tmp_path, case, source="civil_affairs")
    assert response.status_code == 302
    comparison = Comparison.objects.get()
    html = client.get(response["Location"]).content.decode()
    assert 'id="apply-' not in html and 'id="report-download"' in html
    url = reverse("exchange:compare_apply", kwargs={"pk": comparison.pk, "result": "not_in_registry"})
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert client.get(reverse("exchange:task_close", kwargs={"pk": 1})).status_code == 403
    assert not Event.objects.filter(action="exchange.comparison.applied").exists()


def test_sets_that_cannot_be_applied_are_404(client, case, tmp_path):
    client.force_login(case.manager)
    run(client, tmp_path, case)
    comparison = Comparison.objects.get()
    url = reverse("exchange:compare_apply", kwargs={"pk": comparison.pk, "result": "name_differs"})
    assert client.post(url).status_code == 404
    detail = client.get(reverse("exchange:compare_detail", kwargs={"pk": comparison.pk}), {"set": "bogus"})
    assert detail.status_code == 200 and detail.context["current"]["value"] == ComparisonSet.NOT_IN_REGISTRY
