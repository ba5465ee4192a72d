"""The web import (issue 5 deliver 6): upload → dry run → preview → confirm → progress → history.

An upload is stored under MEDIA_ROOT (ImportRun.upload, a random name; MEDIA_URL is not served) and checked by the
import engine as a background job (`jobs`) in dry-run mode; the detail page polls a small partial until the run
finishes, then shows the counts, the first errors and the error workbook. Confirming runs the engine again on the
same stored file as a new run (all-or-nothing, or skipping the bad rows), refused when the file's SHA-256 no longer
matches the preview or the preview is older than a day (the registry may have changed since).

Who: every role reads the runs of its subtree (`exchange.view`); importing needs the importer's own permissions
(the engine's check, e.g. registry.add + registry.change for households), 行政区划 only the administrator. The error
workbook repeats the file's cells, whole ID numbers included, so only the uploader and roles that may see whole IDs
(`registry.view_id`) download it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import uuid
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anju.accounts.permissions import has_action, require_action
from anju.policy.services import alerts_refresh
from anju.web.forms import paginate

from . import jobs
from .forms import ImportUploadForm
from .models import ImportKind, ImportMode, ImportRun, RunStatus
from .pipeline import LIVE_PROGRESS, run_import
from .reader import sha256_of

PAGE_SIZE = 30
PREVIEW_ERRORS = 20
#: a preview older than this is not confirmed: the registry it was checked against may have changed
PREVIEW_VALID_FOR = dt.timedelta(days=1)
ADMIN_ONLY = {ImportKind.DIVISIONS}


def _importers() -> dict[str, Any]:
    from .importers import IMPORTERS

    return IMPORTERS


def may_import(user: Any, kind: str) -> bool:
    """The engine's own permission check for the kind (and 行政区划 for the administrator only)."""
    importer = _importers().get(kind)
    if importer is None or (kind in ADMIN_ONLY and "admin" not in (user.roles or [])):
        return False
    return all(has_action(user, permission) for permission in importer.permissions)


def importable_kinds(user: Any) -> list[tuple[str, str]]:
    return [(kind, label) for kind, label in ImportKind.choices if may_import(user, kind)]


def _runs(user: Any) -> QuerySet[ImportRun]:
    return ImportRun.objects.visible_to(user).select_related("started_by", "division")


def _mark(runs: Any) -> None:
    """`interrupted` (a job killed by a restart) and `active` (still to poll) for the templates."""
    for run in runs:
        run.interrupted = jobs.interrupted(run, run.started_at)
        run.active = run.status in (RunStatus.PENDING, RunStatus.RUNNING) and not run.interrupted


def _get(request: HttpRequest, pk: int) -> ImportRun:
    require_action(request.user, "exchange.view")
    run = get_object_or_404(_runs(request.user), pk=pk)
    _mark([run])
    return run


def import_job(pk: int) -> None:
    """The background job of one run: the engine on the stored upload, as the person who started it."""
    run = ImportRun.objects.select_related("started_by").get(pk=pk)
    if run.started_by is None:  # never the system actor (no limits) for a web upload
        raise PermissionDenied(_("导入人账号已不存在"))
    result = run_import(
        kind=run.kind,
        path=run.upload.path,
        actor=run.started_by,
        dry_run=run.dry_run,
        mode=run.mode,
        store_errors=True,
        run=run,
        file_name=run.file_name,
    )
    if result.details.get("alerts_deferred"):  # P7: a city-wide import's alerts, recomputed after it, not in it
        jobs.start("alerts", alerts_refresh_job)


def alerts_refresh_job() -> None:
    """Every alert recomputed, as the daily `anju alerts refresh` does, once a large import has committed."""
    alerts_refresh()


def _start(run: ImportRun) -> None:
    jobs.start("import", import_job, run.pk, record=run)


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "exchange.view")
    page, query = paginate(request, _runs(request.user), PAGE_SIZE)
    _mark(page.object_list)
    return render(
        request,
        "exchange/import_list.html",
        {
            "page": page,
            "query": query,
            "can_import": bool(request.user.division_id and importable_kinds(request.user)),
            "title": _("数据导入"),
        },
    )


@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    """Upload a file; its dry run starts at once and the detail page follows it."""
    kinds = importable_kinds(request.user)
    if not kinds:
        raise PermissionDenied(_("您的角色不能导入数据"))
    if not request.user.division_id:
        raise PermissionDenied(_("您的账号未设置所属区划，不能导入数据"))
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        run = ImportRun(
            kind=form.cleaned_data["kind"],
            dry_run=True,
            status=RunStatus.PENDING,
            file_name=Path(upload.name).name[:255],
            file_size=upload.size,
            file_sha256=digest.hexdigest(),
            started_by=request.user,
            division_id=request.user.division_id,
        )
        run.upload.save(f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}", upload, save=False)
        run.save()
        _start(run)
        return redirect("exchange:import_detail", pk=run.pk)
    columns = {kind: _importers()[kind].spec.columns for kind, _label in kinds}
    return render(
        request,
        "exchange/import_new.html",
        {"form": form, "columns": [(label, columns[kind]) for kind, label in kinds], "title": _("上传文件导入")},
    )


def _first_errors(run: ImportRun) -> list[list[Any]]:
    """The first rows of the run's error workbook (行号, 列, 值, 原因)."""
    if not run.errors_file:
        return []
    from python_calamine import CalamineWorkbook

    with run.errors_file.open("rb") as handle:
        sheet = CalamineWorkbook.from_filelike(handle).get_sheet_by_index(0)
        rows = list(itertools.islice(sheet.iter_rows(), PREVIEW_ERRORS + 1))[1:]
    return [[int(r[0]) if isinstance(r[0], float) else r[0], *r[1:4]] for r in rows]


def _confirmed(run: ImportRun) -> ImportRun | None:
    """The real import made from this preview (same stored upload), if any."""
    if not run.dry_run or not run.upload:
        return None
    return ImportRun.objects.filter(upload=run.upload.name, dry_run=False).order_by("id").first()


def _preview_of(run: ImportRun) -> ImportRun | None:
    if run.dry_run or not run.upload:
        return None
    return ImportRun.objects.filter(upload=run.upload.name, dry_run=True).order_by("-id").first()


def confirm_problem(run: ImportRun, mode: str) -> str | None:
    """Why this preview cannot be imported in `mode` (None: it can)."""
    if not run.dry_run:
        return _("这是正式导入记录，不能再次确认")
    if run.status != RunStatus.DONE or getattr(run, "interrupted", False):
        return _("校验尚未完成或未通过，不能导入")
    if mode not in ImportMode.values:
        return _("未知的导入方式")
    if run.total - run.invalid <= 0:
        return _("没有可导入的数据行")
    if mode == ImportMode.ALL_OR_NOTHING and run.invalid:
        return _("文件有 {rows} 行错误：请修改后重新上传，或选择「跳过错误行导入」").format(rows=run.invalid)
    if (run.finished_at or run.started_at) < timezone.now() - PREVIEW_VALID_FOR:
        return _("预览已超过一天，数据可能已有变化，请重新上传校验")
    try:
        sha256 = sha256_of(run.upload.path)[0] if run.upload else ""
    except OSError:
        sha256 = ""
    if not sha256:
        return _("上传的文件已不存在，请重新上传")
    if sha256 != run.file_sha256:
        return _("文件在校验后被改动（SHA-256 摘要不一致），请重新上传校验")
    return None


def _context(request: HttpRequest, run: ImportRun) -> dict[str, Any]:
    finished = run.status in (RunStatus.DONE, RunStatus.REFUSED, RunStatus.FAILED)
    confirmed = _confirmed(run) if finished else None
    can_confirm = (
        finished
        and run.dry_run
        and run.status == RunStatus.DONE
        and confirmed is None
        and run.started_by_id == request.user.pk
        and may_import(request.user, run.kind)
        and run.total > run.invalid
    )
    expired = can_confirm and (run.finished_at or run.started_at) < timezone.now() - PREVIEW_VALID_FOR
    return {
        "run": run,
        "finished": finished,
        "errors": _first_errors(run) if finished else [],
        "can_download": finished and bool(run.errors_file) and _may_download(request.user, run),
        "can_confirm": can_confirm and not expired,
        "expired": expired,
        "confirmed": confirmed,
        "preview": _preview_of(run),
        "ImportMode": ImportMode,
    }


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _get(request, pk)
    return render(request, "exchange/import_detail.html", _context(request, run) | {"title": run.file_name})


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The partial the detail page polls every second while the run is going."""
    run = _get(request, pk)
    # a writing run's own updates are inside its transaction until the commit: its thread's count is current
    run.progress_done = LIVE_PROGRESS.get(run.pk, run.progress_done)
    return render(request, "exchange/_import_progress.html", _context(request, run))


def _may_download(user: Any, run: ImportRun) -> bool:
    return run.started_by_id == user.pk or has_action(user, "registry.view_id")


@login_required
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """Every bad row of the run (行号, 列, 值, 原因 and the row's cells)."""
    run = _get(request, pk)
    if not run.errors_file:
        raise Http404(_("此次导入没有错误清单"))
    if not _may_download(request.user, run):
        raise PermissionDenied(_("错误清单含完整身份证号码，只有上传人和可查看完整身份证号的角色可以下载"))
    return FileResponse(
        run.errors_file.open("rb"),
        as_attachment=True,
        filename=f"{Path(run.file_name).stem}_错误清单.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Import the previewed file for real, as a new run (one at a time per preview)."""
    run = _get(request, pk)
    if not may_import(request.user, run.kind):
        raise PermissionDenied(_("您的角色不能导入此类数据"))
    if run.started_by_id != request.user.pk:
        raise PermissionDenied(_("只有上传此文件的人可以确认导入"))
    mode = request.POST.get("mode", "")
    problem = confirm_problem(run, mode)
    if problem:
        messages.error(request, problem)
        return redirect("exchange:import_detail", pk=run.pk)
    with transaction.atomic():
        ImportRun.objects.select_for_update().filter(pk=run.pk).first()  # two clicks make one import
        existing = _confirmed(run)
        if existing is None:
            real = ImportRun.objects.create(
                kind=run.kind,
                dry_run=False,
                mode=mode,
                status=RunStatus.PENDING,
                file_name=run.file_name,
                file_size=run.file_size,
                file_sha256=run.file_sha256,
                upload=run.upload.name,
                started_by=request.user,
                division_id=request.user.division_id,
            )
    if existing is not None:
        messages.info(request, _("此文件已确认导入"))
        return redirect("exchange:import_detail", pk=existing.pk)
    _start(real)
    return redirect("exchange:import_detail", pk=real.pk)


urlpatterns: list[URLPattern] = [
    path("imports/", import_list, name="import_list"),
    path("imports/new/", import_new, name="import_new"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.xlsx", import_errors, name="import_errors"),
    path("imports/<int:pk>/confirm/", import_confirm, name="import_confirm"),
]
