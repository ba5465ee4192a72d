"""Export downloads: the households under the household list page's filters, and the statistics by division.

Both go through `export_jobs.respond`: a small export is written to a temporary file in the user's scope and
streamed from it, a large one becomes a background job with a progress page. The filename names the division and
the day. A bad or foreign division is a 404 (never a file of the whole subtree); the other filters that do not parse
narrow nothing, as on the list page.
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
from anju.registry.filters import HouseholdFilterForm

from . import export_jobs
from .models import ExportKind

TRUE = {"1", "on", "true", "yes"}


def _division(user: Any, code: str) -> Division:
    """A division of the user's subtree, or 404: an unknown or foreign code looks the same (DESIGN "Jurisdiction")."""
    division = Division.objects.visible_to(user).filter(code=code.strip()).first() if code.strip() else None
    if division is None:
        raise Http404(_("区划不存在或不在您的管辖范围内"))
    return division


def _filename(name: str, division: Division) -> str:
    return f"{name}_{division.name}_{timezone.localdate():%Y%m%d}.xlsx"


@login_required
def households_export(request: HttpRequest) -> HttpResponse:
    """The household list page's filters (its own form), one row per house; `full_id=1` gives whole ID numbers only
    to roles with `registry.view_id` (audited)."""
    require_action(request.user, "registry.view")
    form = HouseholdFilterForm(request.GET or None)
    valid = form.is_valid()
    if "division" in form.errors:
        raise Http404(_("区划不存在或不在您的管辖范围内"))
    filters = form.cleaned_data if valid else {}  # as the page: a filter that does not parse narrows nothing
    chosen = filters.get("division")
    division = _division(request.user, chosen.code if chosen else request.user.division_id or "")
    full_id = request.GET.get("full_id", "").strip().lower() in TRUE and has_action(request.user, "registry.view_id")
    return export_jobs.respond(
        request,
        ExportKind.HOUSEHOLDS,
        {"filters": filters, "full_id": full_id},
        filename=_filename(_("农户与房屋"), division),
        division=division,
    )


@login_required
def statistics_export(request: HttpRequest) -> HttpResponse:
    """The statistics of `division` (default: the user's own) per child division and for the whole subtree."""
    require_action(request.user, "registry.view")
    division = _division(request.user, request.GET.get("division", "") or request.user.division_id or "")
    return export_jobs.respond(
        request,
        ExportKind.STATISTICS,
        {"division": division, "today": timezone.localdate()},
        filename=_filename(_("分区划统计表"), division),
        division=division,
    )


urlpatterns: list[URLPattern] = [
    path("exports/households.xlsx", households_export, name="households_export"),
    path("exports/statistics.xlsx", statistics_export, name="statistics_export"),
]
