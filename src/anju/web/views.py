"""The home page: counts for the user's division with drill-down to its children."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from anju.accounts.permissions import has_action, require_action
from anju.complaints.selectors import dashboard_counts
from anju.divisions.selectors import division_get, division_path
from anju.registry.models import Grade
from anju.registry.selectors import registry_summary


@login_required
def home(request: HttpRequest, code: str | None = None) -> HttpResponse:
    require_action(request.user, "registry.view")
    if request.user.division_id is None:
        return render(request, "web/no_division.html", status=403)
    division = division_get(actor=request.user, code=code or request.user.division_id)
    summary = registry_summary(actor=request.user, division=division)
    chart = {
        "names": [child.name for child, _ in summary["children"]],
        "series": [
            {"name": label, "data": [counts[value] for _, counts in summary["children"]]}
            for value, label in Grade.choices
        ],
    }
    own_prefix = request.user.scope_prefix
    path = [d for d in division_path(division) if d.code.startswith(own_prefix)]
    return render(
        request,
        "web/home.html",
        {
            "summary": summary,
            "division": division,
            "path": path,
            "chart": chart,
            "grades": Grade.choices,
            # P14, P15 at a glance, for the user's own scope (not for a drilled-down division)
            "complaint_counts": dashboard_counts(request.user)
            if division.code == request.user.division_id and has_action(request.user, "complaints.view")
            else None,
        },
    )
