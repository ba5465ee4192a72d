"""Reads on suspected dangers and appraisals; each starts from `.visible_to(actor)` and owns its query budget."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from anju.accounts.models import User
from anju.accounts.permissions import Role
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.scope import ancestor_codes
from anju.divisions.models import Division
from anju.training.selectors import trained_exists

from .filters_appraisals import PENDING_STATUSES, filter_appraisals, filter_requests, overdue_q
from .models import Appraisal, AppraisalComponent, AppraisalRequest, ComponentSpec, RequestStatus
from .services.appraisals import county_code


def _divisions_with_ancestors() -> Prefetch:
    """Village, town and county names in one extra query per page (as the registry lists do)."""
    return Prefetch("division", queryset=Division.objects.select_related("parent__parent"))


def request_list(*, actor: Any, filters: dict[str, Any] | None = None, today: dt.date | None = None) -> QuerySet:
    qs = AppraisalRequest.objects.visible_to(actor)
    qs = filter_requests(qs, filters or {}, today=today or dt.date.today())
    return (
        qs.select_related("house__household", "appraiser", "reported_by")
        .prefetch_related(_divisions_with_ancestors())
        .order_by("due_on", "id")
    )


def request_counts(*, actor: Any, filters: dict[str, Any] | None = None, today: dt.date | None = None) -> dict:
    """Counts per status and overdue, under the list's division filter (one query)."""
    today = today or dt.date.today()
    division_only = {"division": (filters or {}).get("division")}
    qs = filter_requests(AppraisalRequest.objects.visible_to(actor), division_only, today=today)
    counts = qs.aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status__in=PENDING_STATUSES)),
        overdue=Count("id", filter=overdue_q(today)),
        **{status: Count("id", filter=Q(status=status)) for status in RequestStatus.values},
    )
    return counts


def request_get(*, actor: Any, pk: int) -> AppraisalRequest:
    """404 outside the actor's subtree."""
    qs = AppraisalRequest.objects.visible_to(actor).select_related(
        "house__household", "appraiser", "reported_by", "assigned_by", "check_record", "division__parent__parent"
    )
    return get_object_or_404(qs, pk=pk)


def request_cancel_reason(request: AppraisalRequest) -> str:
    """The written reason of a cancelled request, kept in its audit event."""
    event = (
        Event.objects.filter(
            action=Action.REQUEST_CANCELLED, object_type="inspections.appraisalrequest", object_id=str(request.pk)
        )
        .order_by("-id")
        .first()
    )
    return (event.extra or {}).get("reason", "") if event else ""


def request_queue(*, actor: Any) -> QuerySet:
    """The appraiser's own tasks ("我的鉴定任务"): assigned to them and not yet appraised, soonest due first."""
    return request_list(actor=actor).filter(appraiser=actor, status=RequestStatus.ASSIGNED)


def appraiser_choices(*, actor: Any, request: AppraisalRequest, on: dt.date | None = None) -> list[User]:
    """Appraisers the county may assign: appraiser role, their division covers the house's county, trained in the
    year of `on` (P17). Few rows: filtered by division in SQL and by role in Python (roles are a JSON list)."""
    on = on or dt.date.today()
    county = county_code(request.division_id)
    people = (
        User.objects.filter(trained_exists(on.year), is_active=True, division_id__in=[county, *ancestor_codes(county)])
        .select_related("division")
        .order_by("division_id", "full_name", "username")
    )
    return [p for p in people if Role.APPRAISER in (p.roles or [])]


def appraisal_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    qs = Appraisal.objects.visible_to(actor)
    qs = filter_appraisals(qs, filters or {})
    return (
        qs.select_related("house__household", "lead_appraiser")
        .prefetch_related(_divisions_with_ancestors())
        .order_by("-appraised_on", "-id")
    )


def appraisal_get(*, actor: Any, pk: int) -> Appraisal:
    qs = (
        Appraisal.objects.visible_to(actor)
        .select_related("house__household", "lead_appraiser", "reviewed_by", "request", "division__parent__parent")
        .prefetch_related(
            Prefetch("components", queryset=AppraisalComponent.objects.select_related("spec")),
            "photos",
        )
    )
    return get_object_or_404(qs, pk=pk)


def component_list() -> QuerySet:
    """Every component of the grading engine (the configuration page; not scoped: one list for the city)."""
    return ComponentSpec.objects.order_by("sort_order", "code")
