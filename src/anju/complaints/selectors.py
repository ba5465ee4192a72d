"""Reads of complaints (P14), publicity and public opinion (P15), always scoped.

The list page, the API, the export and the dashboard narrow complaints through `complaint_filter`, so "overdue"
means the same everywhere, and the same as the alert `P14.reply_overdue`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from anju.audit.models import Event
from anju.core.scope import code_prefix, scope_q
from anju.divisions.services import level_of_code

from .models import AWAITING_REPLY, Complaint, ComplaintState, Hotline, OpinionIncident, PublicityActivity

#: P15: an incident must be answered within this many days of being found.
INCIDENT_RESPONSE_DAYS = 1


@dataclass(frozen=True)
class ComplaintFilters:
    """What the complaint list can be narrowed by; every field optional. `overdue` is relative to `today`."""

    division: str = ""  # a code: the complaint lies in its subtree
    state: str = ""
    channel: str = ""
    category: str = ""
    overdue: bool = False
    open_only: bool = False
    review: bool = False  # 回头看 complaints only
    handler: int | None = None
    q: str = ""  # complainant's name, prefix


def overdue_q(today: dt.date) -> Q:
    """P14: the reply deadline has passed without a reply (the deadline day itself is not late)."""
    return Q(state__in=AWAITING_REPLY, reply_due_on__lt=today)


def is_overdue(complaint: Complaint, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    return complaint.state in AWAITING_REPLY and complaint.reply_due_on < today


def incident_unanswered_q(today: dt.date) -> Q:
    """P15: found more than a day ago, not answered and not closed."""
    return Q(
        responded_on__isnull=True,
        closed_on__isnull=True,
        found_on__lt=today - dt.timedelta(days=INCIDENT_RESPONSE_DAYS),
    )


def is_unanswered(incident: OpinionIncident, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    due = incident.found_on + dt.timedelta(days=INCIDENT_RESPONSE_DAYS)
    return incident.responded_on is None and incident.closed_on is None and due < today


def complaints_visible(user: Any) -> QuerySet[Complaint]:
    return Complaint.objects.visible_to(user)


def _in_division(qs: QuerySet, code: str) -> QuerySet:
    return qs.filter(scope_q("division_id", code_prefix(code, level_of_code(code)))) if code else qs


def complaint_filter(
    qs: QuerySet[Complaint], filters: ComplaintFilters, today: dt.date | None = None
) -> QuerySet[Complaint]:
    today = today or dt.date.today()
    qs = _in_division(qs, filters.division)
    if filters.state in ComplaintState.values:
        qs = qs.filter(state=filters.state)
    if filters.open_only:
        qs = qs.exclude(state=ComplaintState.CLOSED)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.overdue:
        qs = qs.filter(overdue_q(today))
    if filters.review:
        qs = qs.filter(is_review=True)
    if filters.handler:
        qs = qs.filter(handler_id=filters.handler)
    if filters.q.strip():
        qs = qs.filter(complainant_name__startswith=filters.q.strip())
    return qs


def complaint_list(user: Any, filters: ComplaintFilters | None = None) -> QuerySet[Complaint]:
    """The user's complaints, filtered, with what a list row shows (no query per row)."""
    return (
        complaint_filter(complaints_visible(user), filters or ComplaintFilters())
        .select_related("division__parent__parent", "household")
        .order_by("-received_on", "-id")
    )


def complaint_state_counts(user: Any, filters: ComplaintFilters) -> dict[str, int]:
    """Complaints per state under every filter but the state (one GROUP BY), for the list's count strip."""
    rows = (
        complaint_filter(complaints_visible(user), replace(filters, state=""))
        .order_by()
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return dict(rows)


def complaint_get(user: Any, pk: int) -> Complaint:
    """One complaint of the user's subtree with what its page shows, or 404 (out of scope looks like absent)."""
    complaint = (
        complaints_visible(user)
        .select_related("division__parent__parent", "household", "case", "handler")
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise Http404
    return complaint


def complaint_history(complaint: Complaint) -> QuerySet[Event]:
    """Every event of the complaint, oldest first (phone views included: who looked is part of its story)."""
    return Event.objects.filter(object_type="complaints.complaint", object_id=str(complaint.pk)).order_by("id")


# -- hotlines -----------------------------------------------------------------------------------------------------


def hotline_list(user: Any) -> QuerySet[Hotline]:
    """The hotlines the user may see: those of the counties in their subtree, and their own county's."""
    return Hotline.objects.visible_to(user).select_related("division").order_by("division_id")


def hotline_for(county_code: str) -> str:
    """P14, P13: the complaint hotline published for the county of `county_code` (any code in the county), or ""
    — printed on the policy cards (明白卡). Public information, so not scoped."""
    if not county_code or len(county_code) != 12:
        return ""
    number = Hotline.objects.filter(division_id=county_code[:6] + "000000").values_list("number", flat=True).first()
    return number or ""


# -- publicity and public opinion ---------------------------------------------------------------------------------


def publicity_list(user: Any, *, division: str = "", year: int | None = None, kind: str = "") -> QuerySet:
    qs = _in_division(PublicityActivity.objects.visible_to(user), division)
    if year:
        qs = qs.filter(held_on__gte=dt.date(year, 1, 1), held_on__lte=dt.date(year, 12, 31))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("division__parent").order_by("-held_on", "-id")


def incident_list(user: Any, *, division: str = "", open_only: bool = False, unanswered: bool = False) -> QuerySet:
    qs = _in_division(OpinionIncident.objects.visible_to(user), division)
    if open_only:
        qs = qs.filter(closed_on__isnull=True)
    if unanswered:
        qs = qs.filter(incident_unanswered_q(dt.date.today()))
    return qs.select_related("division__parent").order_by("-found_on", "-id")


def incident_history(incident: OpinionIncident) -> QuerySet[Event]:
    return Event.objects.filter(object_type="complaints.opinionincident", object_id=str(incident.pk)).order_by("id")


# -- the home dashboard -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardCounts:
    open_complaints: int
    overdue_complaints: int
    publicity_this_year: int
    open_incidents: int


def dashboard_counts(user: Any, today: dt.date | None = None) -> DashboardCounts:
    """P14, P15 at a glance for the user's scope: open and overdue complaints, this year's publicity activities,
    open public-opinion incidents (three queries)."""
    today = today or dt.date.today()
    complaints = complaints_visible(user).aggregate(
        open=Count("id", filter=~Q(state=ComplaintState.CLOSED)),
        overdue=Count("id", filter=overdue_q(today)),
    )
    publicity = PublicityActivity.objects.visible_to(user).filter(held_on__gte=dt.date(today.year, 1, 1)).count()
    incidents = OpinionIncident.objects.visible_to(user).filter(closed_on__isnull=True).count()
    return DashboardCounts(
        open_complaints=complaints["open"],
        overdue_complaints=complaints["overdue"],
        publicity_this_year=publicity,
        open_incidents=incidents,
    )
