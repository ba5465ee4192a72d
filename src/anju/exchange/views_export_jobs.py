"""The pages of large exports (`export_jobs`): a job's progress, its file, and the list of my recent exports.

A job's page (and the partial it polls every second while the job runs) is shown to its creator and to holders of
the kind's read action whose scope covers the creator's division; anyone else gets a 404, as for any row outside
the subtree. The file follows `export_jobs.may_download`: whole ID numbers only for the creator. The list shows the
user's own exports and, on the way, deletes files older than seven days (`export_jobs.cleanup`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from anju.web.forms import paginate

from . import export_jobs
from .models import ExportJob, RunStatus

PAGE_SIZE = 30


def _mark(job: ExportJob, user: Any) -> ExportJob:
    """What the templates need: interrupted (a restart killed it), active (to poll), the file still there."""
    job.rows_done = max(job.rows_done, export_jobs.LIVE_ROWS.get(job.pk, 0))  # the larger: the job may end meanwhile
    job.interrupted = export_jobs.is_interrupted(job)
    job.active = job.status in (RunStatus.PENDING, RunStatus.RUNNING) and not job.interrupted
    job.ready = job.status == RunStatus.DONE and bool(job.file)
    job.expired = job.status == RunStatus.DONE and not job.file
    job.expires_at = export_jobs.expires_at(job)
    job.percent = min(100, job.rows_done * 100 // job.rows_total) if job.rows_total else None
    job.may_download = job.ready and export_jobs.may_download(user, job)
    return job


def _get(request: HttpRequest, pk: int) -> ExportJob:
    job = ExportJob.objects.select_related("created_by").filter(pk=pk).first()
    if job is None or not export_jobs.may_view(request.user, job):
        raise Http404(_("导出任务不存在或不在您的管辖范围内"))
    return _mark(job, request.user)


@login_required
def export_job_list(request: HttpRequest) -> HttpResponse:
    """My recent exports, newest first; old files are deleted here."""
    export_jobs.cleanup()
    mine = ExportJob.objects.filter(created_by=request.user).order_by("-created_at", "-id")
    page, query = paginate(request, mine, PAGE_SIZE)
    for job in page.object_list:
        _mark(job, request.user)
    return render(
        request,
        "exchange/export_job_list.html",
        {"page": page, "query": query, "keep_days": export_jobs.KEEP_FOR.days, "title": _("我的导出")},
    )


@login_required
def export_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get(request, pk)
    return render(
        request,
        "exchange/export_job_detail.html",
        {"job": job, "keep_days": export_jobs.KEEP_FOR.days, "title": job.file_name},
    )


@login_required
def export_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The partial the job's page polls every second while the job runs."""
    job = _get(request, pk)
    return render(request, "exchange/export_job_progress.html", {"job": job, "keep_days": export_jobs.KEEP_FOR.days})


@login_required
def export_job_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The finished workbook (audited when it was written, not again here)."""
    job = _get(request, pk)
    if job.status != RunStatus.DONE:
        raise Http404(_("导出尚未完成"))
    if not job.file:
        raise Http404(_("文件已超过{days}天，已删除，请重新导出").format(days=export_jobs.KEEP_FOR.days))
    if not export_jobs.may_download(request.user, job):
        if job.full_id:
            raise PermissionDenied(_("此文件含完整身份证号码，只有导出人可以下载"))
        raise PermissionDenied(_("您的角色无权下载此文件"))
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("文件已不存在，请重新导出")) from exc
    kind = export_jobs.KINDS[job.kind]
    return FileResponse(handle, as_attachment=not kind.inline, filename=job.file_name, content_type=kind.content_type)


urlpatterns: list[URLPattern] = [
    path("exports/jobs/", export_job_list, name="export_job_list"),
    path("exports/jobs/<int:pk>/", export_job_detail, name="export_job_detail"),
    path("exports/jobs/<int:pk>/progress/", export_job_progress, name="export_job_progress"),
    path("exports/jobs/<int:pk>/file", export_job_file, name="export_job_file"),
]
