"""Department comparison pages (P6, issue 5 deliver 4) and the villages' registration tasks.

Thin views over compare.comparison_run, the apply services and the scoped selectors. Everything is scoped to the
user's subtree: a comparison, finding or task outside it answers 404, a role without the action 403. Findings and
tasks show masked ID numbers only (PIPL).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.core.scope import scope_q
from anju.registry.models import Grade, Household, TargetCategory
from anju.web.forms import add_domain_error, paginate

from . import compare, jobs, selectors, services
from .forms_compare import ComparisonForm, TaskCloseForm, TaskFilterForm
from .models import Comparison, ComparisonSet, RegistrationTask, RunStatus, TaskStatus

PAGE_SIZE = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: the result sets a county manager may apply, the service that applies each, and the button's words
APPLY = {
    ComparisonSet.CATEGORY_MISSING: (services.comparison_apply_categories, _("补录类型")),
    ComparisonSet.NO_LONGER_LISTED: (services.comparison_apply_ended, _("终止类型")),
    ComparisonSet.NOT_IN_REGISTRY: (services.comparison_apply_tasks, _("生成待登记任务")),
}


def _comparison(request: HttpRequest, pk: int) -> Comparison:
    """The comparison in the user's scope, marked (`_mark`)."""
    stages = dict(compare.LIVE_STAGES)  # before the record: see _mark
    try:
        comparison = selectors.comparison_get(actor=request.user, pk=pk)
    except Comparison.DoesNotExist:
        raise Http404(_("比对记录不存在或不在您的管辖范围内")) from None
    _mark([comparison], stages)
    return comparison


def _task(request: HttpRequest, pk: int) -> RegistrationTask:
    try:
        return selectors.task_get(actor=request.user, pk=pk)
    except RegistrationTask.DoesNotExist:
        raise Http404(_("任务不存在或不在您的管辖范围内")) from None


def _mark(comparisons: Any, stages: dict[int, compare.Stage]) -> None:
    """Whether each comparison still runs here (its findings, or after them its workbook: `stage` says which
    step), or died with a restarted process (jobs.interrupted). `stages`: LIVE_STAGES as it was before the records
    were read — read after, a workbook finished in between would leave a DONE record without its file, not active."""
    for comparison in comparisons:
        comparison.interrupted = jobs.interrupted(comparison, comparison.created_at)
        comparison.stage = stages.get(comparison.pk)
        running = comparison.status in (RunStatus.PENDING, RunStatus.RUNNING) and not comparison.interrupted
        comparison.active = running or comparison.stage is not None


def _may_apply(user: Any) -> bool:
    """The apply services' own rule (exchange.apply at county level or above), to show the buttons."""
    return (
        has_action(user, "exchange.apply") and bool(user.division_id) and user.division.level in services.APPLY_LEVELS
    )


def _category_names() -> dict[str, str]:
    return dict(TargetCategory.objects.values_list("code", "name"))


# -- comparisons ----------------------------------------------------------------------------------------------------


@login_required
def compare_list(request: HttpRequest) -> HttpResponse:
    """The history of comparisons in the user's subtree: who compared which list when, and what it found."""
    require_action(request.user, "exchange.view")
    stages = dict(compare.LIVE_STAGES)
    page, query = paginate(request, selectors.comparison_list(actor=request.user), PAGE_SIZE)
    sets = [(value, label) for value, label in ComparisonSet.choices]
    _mark(page.object_list, stages)
    for comparison in page.object_list:
        comparison.set_counts = [comparison.counts.get(value, 0) for value, _label in sets]
    return render(
        request,
        "exchange/compare_list.html",
        {
            "page": page,
            "query": query,
            "sets": sets,
            "can_compare": has_action(request.user, "exchange.compare"),
            "title": _("部门数据比对"),
        },
    )


def _save_upload(upload: UploadedFile, folder: Path) -> tuple[Path, str]:
    """The upload under its own extension (the reader tells the file type by it), written in chunks; its SHA-256."""
    target = folder / f"list{Path(upload.name or '').suffix.lower()}"
    digest = hashlib.sha256()
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
    return target, digest.hexdigest()


def compare_job(pk: int, path: str) -> None:
    """The background job of one comparison: the engine on the saved upload, as the person who started it; the
    upload (personal data) is deleted afterwards whatever happens."""
    folder = Path(path).parent
    try:
        comparison = Comparison.objects.select_related("created_by").get(pk=pk)
        if comparison.created_by is None:  # never the system actor (no scope) for a web upload
            raise PermissionDenied(_("比对人账号已不存在"))
        Comparison.objects.filter(pk=pk, status=RunStatus.PENDING).update(status=RunStatus.RUNNING)
        compare.comparison_run(
            actor=comparison.created_by,
            path=Path(path),
            source=comparison.source,
            division_code=comparison.division_id,
            file_name=comparison.file_name,
            output=folder / "report.xlsx",
            comparison=comparison,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@login_required
def compare_new(request: HttpRequest) -> HttpResponse:
    """Upload a department's list; the comparison runs in the background (jobs) and its page follows it (P6)."""
    require_action(request.user, "exchange.compare")
    if request.user.division_id is None:
        return render(request, "web/no_division.html", status=403)  # no subtree to compare with: fail closed
    form = ComparisonForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            scope = compare.comparison_scope(actor=request.user, division_code=form.cleaned_data["division"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            folder = Path(tempfile.mkdtemp(prefix="anju-compare-"))
            path, digest = _save_upload(upload, folder)
            comparison = Comparison.objects.create(
                division=scope,
                source=form.cleaned_data["source"],
                file_name=Path(upload.name).name[:255],
                file_sha256=digest,
                status=RunStatus.PENDING,
                created_by=request.user,
            )
            jobs.start("compare", compare_job, comparison.pk, str(path), record=comparison)
            return redirect("exchange:compare_detail", pk=comparison.pk)
    return render(request, "exchange/compare_new.html", {"form": form, "title": _("新建部门数据比对")})


def _decorate(items: list[Any]) -> None:
    """Worst house grade of each finding's household (one query for the page) and its category's name."""
    grades = compare.worst_grades([item.household_id for item in items if item.household_id])
    labels = dict(Grade.choices)
    names = _category_names()
    for item in items:
        grade = grades.get(item.household_id) if item.household_id else None
        item.grade = grade or ""
        item.grade_label = labels.get(grade, _("未登记房屋")) if item.household_id else ""
        item.category_names = "、".join(names.get(code, code) for code in item.category_code.split("、") if code)


@login_required
def compare_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The counts per set with what each set means, and a tab per set listing its findings in the user's scope."""
    require_action(request.user, "exchange.view")
    comparison = _comparison(request, pk)
    if comparison.status != RunStatus.DONE or comparison.active:
        return render(request, "exchange/compare_detail.html", {"comparison": comparison, "title": _("部门数据比对")})
    current = request.GET.get("set") or ComparisonSet.NOT_IN_REGISTRY
    if current not in ComparisonSet.values:
        current = ComparisonSet.NOT_IN_REGISTRY
    items = selectors.comparison_items(actor=request.user, comparison=comparison, result=current)
    page, query = paginate(request, items.select_related("division__parent"), PAGE_SIZE)
    _decorate(page.object_list)
    pending = dict(
        selectors.comparison_items(actor=request.user, comparison=comparison)
        .filter(result__in=list(APPLY), applied_at__isnull=True)
        .order_by()
        .values_list("result")
        .annotate(n=Count("id"))
    )
    definitions = compare.set_definitions()
    may_apply = _may_apply(request.user)
    sets = [
        {
            "value": value,
            "label": label,
            "count": comparison.counts.get(value, 0),
            "definition": definitions[value],
            "appliable": value in APPLY,
            "pending": pending.get(value, 0),
            "action": APPLY[value][1] if value in APPLY and may_apply else "",
        }
        for value, label in ComparisonSet.choices
    ]
    return render(
        request,
        "exchange/compare_detail.html",
        {
            "comparison": comparison,
            "sets": sets,
            "current": next(s for s in sets if s["value"] == current),
            "page": page,
            "query": query,
            "title": _("部门数据比对结果"),
        },
    )


@login_required
def compare_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The status the result page polls while the comparison runs; once done, the page reloads with the results."""
    require_action(request.user, "exchange.view")
    comparison = _comparison(request, pk)
    response = render(request, "exchange/compare_status.html", {"comparison": comparison})
    if comparison.status == RunStatus.DONE and not comparison.active:
        response["HX-Refresh"] = "true"
    return response


def _applied_message(result: str, done: dict[str, int]) -> str:
    if result == ComparisonSet.CATEGORY_MISSING:
        text = _("已补录类型：处理{items}条结果，新增类型认定{added}条（已有该类型的不重复添加）。")
    elif result == ComparisonSet.NO_LONGER_LISTED:
        text = _("已终止类型：处理{items}条结果，终止类型认定{ended}条。")
    else:
        text = _("已生成待登记任务：处理{items}条结果，新建任务{tasks}条（已登记或已有待处理任务的不重复生成）。")
    return text.format(**done)


@login_required
def compare_apply(request: HttpRequest, pk: int, result: str) -> HttpResponse:
    """Confirm, then apply one result set (P6): one batch and one audit event; applying again finds nothing left."""
    require_action(request.user, "exchange.apply")
    comparison = _comparison(request, pk)
    if result not in APPLY:
        raise Http404(_("这类比对结果不能自动处理"))
    apply, action = APPLY[result]
    if request.method == "POST":
        try:
            done = apply(actor=request.user, comparison=comparison)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if done["items"]:
                messages.success(request, _applied_message(result, done))
            else:
                messages.info(request, _("没有待处理的结果，无需再次处理。"))
        return redirect(f"{reverse('exchange:compare_detail', kwargs={'pk': comparison.pk})}?set={result}")
    pending = comparison.items.filter(result=result, applied_at__isnull=True).count()
    return render(
        request,
        "exchange/compare_apply.html",
        {
            "comparison": comparison,
            "result": result,
            "label": ComparisonSet(result).label,
            "definition": compare.set_definitions()[result],
            "pending": pending,
            "action": action,
            "title": action,
        },
    )


@login_required
def compare_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The comparison's workbook (汇总, a sheet per set, 问题行; masked IDs), as written when it ran."""
    require_action(request.user, "exchange.view")
    comparison = _comparison(request, pk)
    if not comparison.report_file:
        raise Http404(_("该比对没有结果文件"))
    try:
        handle = comparison.report_file.open("rb")
    except FileNotFoundError:
        raise Http404(_("结果文件已不存在")) from None
    day = timezone.localtime(comparison.created_at).strftime("%Y%m%d")
    filename = _("部门比对_{source}_{day}.xlsx").format(source=comparison.get_source_display(), day=day)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX)


# -- registration tasks ---------------------------------------------------------------------------------------------


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """People on a department's list and not in the registry, for their village to register or dismiss (P6)."""
    require_action(request.user, "exchange.view")
    form = TaskFilterForm(request.GET, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {"status": TaskStatus.OPEN}
    tasks = selectors.task_list(actor=request.user, status=filters.get("status") or None)
    if filters.get("division"):
        tasks = tasks.filter(scope_q("division_id", filters["division"].prefix))
    page, query = paginate(request, tasks.select_related("division__parent"), PAGE_SIZE)
    names = _category_names()
    for task in page.object_list:
        task.category_name = names.get(task.category_code, task.category_code)
    return render(
        request,
        "exchange/task_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "can_close": has_action(request.user, "exchange.task"),
            "title": _("待登记农户"),
        },
    )


@login_required
def task_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Registered (linked to the household with the task's ID number) or dismissed with the reason."""
    require_action(request.user, "exchange.task")
    task = _task(request, pk)
    households = Household.objects.visible_to(request.user).filter(id_hash=task.id_hash).select_related("division")
    form = TaskCloseForm(request.POST or None, households=households)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_close(actor=request.user, task=task, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已处理{name}（{masked}）：{status}。").format(
                    name=task.name, masked=task.id_masked, status=TaskStatus(form.cleaned_data["status"]).label
                ),
            )
            return redirect("exchange:task_list")
    return render(
        request,
        "exchange/task_close.html",
        {
            "form": form,
            "task": task,
            "households": list(households),
            "category_name": _category_names().get(task.category_code, task.category_code),
            "title": _("处理待登记农户"),
        },
    )


urlpatterns: list[URLPattern] = [
    path("comparisons/", compare_list, name="compare_list"),
    path("comparisons/new/", compare_new, name="compare_new"),
    path("comparisons/<int:pk>/", compare_detail, name="compare_detail"),
    path("comparisons/<int:pk>/progress/", compare_progress, name="compare_progress"),
    path("comparisons/<int:pk>/apply/<str:result>/", compare_apply, name="compare_apply"),
    path("comparisons/<int:pk>/report.xlsx", compare_report, name="compare_report"),
    path("registration-tasks/", task_list, name="task_list"),
    path("registration-tasks/<int:pk>/close/", task_close, name="task_close"),
]
