"""Ledger pages (exports): the ledger (台账) and the P1 rectification summary as .xlsx downloads.

Both go through `anju.exchange.export_jobs.respond`: a small export is written to a temporary file in the user's
scope and streamed from it, a large one becomes a background job with a progress page. The filename names the
division and the day (FileResponse encodes the Chinese name per RFC 5987).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.divisions.models import Division
from anju.exchange import export_jobs
from anju.exchange.models import ExportKind

from ..filters import CaseFilterForm
from ..selectors import CaseFilters

TRUE = {"1", "on", "true", "yes"}


def _division(user: Any, code: str) -> Division:
    """A division of the user's subtree, or 404: an unknown or foreign code looks the same (DESIGN "Jurisdiction")."""
    division = Division.objects.visible_to(user).filter(code=code.strip()).first() if code.strip() else None
    if division is None:
        raise Http404(_("区划不存在或不在您的管辖范围内"))
    return division


def export_filters(request: HttpRequest) -> CaseFilters:
    """The ledger page's own filter form (division, state, source, grade, late, due_soon, responsible, q), so a
    download holds what the page lists. A bad or foreign division is a 404, never a file of the whole subtree;
    other fields that do not parse narrow nothing, as on the page."""
    form = CaseFilterForm(request.GET or None, actor=request.user)
    filters = form.filters()
    if "division" in form.errors:
        raise Http404(_("区划不存在或不在您的管辖范围内"))
    if filters.division:
        _division(request.user, filters.division)
    return filters


def _filename(name: str, division: Division) -> str:
    return f"{name}_{division.name}_{timezone.localdate():%Y%m%d}.xlsx"


@login_required
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The ledger under the page's filters; `full_id=1` gives whole ID numbers only to roles with
    `registry.view_id` (the export's audit event counts them)."""
    require_action(request.user, "cases.view")
    filters = export_filters(request)
    full_id = request.GET.get("full_id", "").strip().lower() in TRUE and has_action(request.user, "registry.view_id")
    division = _division(request.user, filters.division or request.user.division_id or "")
    return export_jobs.respond(
        request,
        ExportKind.LEDGER,
        {"filters": filters, "full_id": full_id, "today": timezone.localdate()},
        filename=_filename(_("危房台账"), division),
        division=division,
    )


@login_required
def rectification_export(request: HttpRequest) -> HttpResponse:
    """P1: the rectification summary of `division` (default: the user's own) per child division."""
    require_action(request.user, "cases.view")
    division = _division(request.user, request.GET.get("division", "") or request.user.division_id or "")
    return export_jobs.respond(
        request,
        ExportKind.RECTIFICATION,
        {"division": division, "today": timezone.localdate()},
        filename=_filename(_("整改情况汇总"), division),
        division=division,
    )


urlpatterns: list[URLPattern] = [
    path("cases/export/ledger.xlsx", ledger_export, name="ledger_export"),
    path("cases/export/rectification.xlsx", rectification_export, name="rectification_export"),
]
