"""Reads of P10's tracking, always scoped. The list filter and the P10 alert share `stalled_q`, so the page and the
alert never disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from anju.core.scope import code_prefix, scope_q
from anju.divisions.services import level_of_code
from anju.registry.models import Household

from .models import OPEN_STATES, Tracking, TrackingKind, TrackingState

#: P10 "once the household confirms it wants renovation, the county puts it into the plan": days from the signed
#: wish within which the re-application's ledger case should be opened.
REAPPLICATION_DAYS = 30


@dataclass(frozen=True)
class TrackingFilters:
    division: str = ""  # a code: the household lies in its subtree
    kind: str = ""
    state: str = ""  # a TrackingState, or "open"
    housing: str = ""
    stalled: bool = False
    q: str = ""  # household head's name, prefix


def stalled_q(today: dt.date) -> Q:
    """P10: the wish was confirmed more than REAPPLICATION_DAYS days ago (day 30 in time, day 31 not) and no case
    has been opened."""
    return Q(state=TrackingState.WISH_CONFIRMED, wish_confirmed_on__lt=today - dt.timedelta(days=REAPPLICATION_DAYS))


def tracking_visible(user: Any) -> QuerySet[Tracking]:
    return Tracking.objects.visible_to(user)


def tracking_filter(qs: QuerySet[Tracking], filters: TrackingFilters, today: dt.date | None = None) -> QuerySet:
    today = today or dt.date.today()
    if filters.division:
        qs = qs.filter(scope_q("division_id", code_prefix(filters.division, level_of_code(filters.division))))
    if filters.kind in TrackingKind.values:
        qs = qs.filter(kind=filters.kind)
    if filters.state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif filters.state in TrackingState.values:
        qs = qs.filter(state=filters.state)
    if filters.housing:
        qs = qs.filter(housing=filters.housing)
    if filters.stalled:
        qs = qs.filter(stalled_q(today))
    if filters.q.strip():
        qs = qs.filter(household__head_name__startswith=filters.q.strip())
    return qs


def tracking_list(user: Any, filters: TrackingFilters | None = None) -> QuerySet[Tracking]:
    """The user's tracked households, filtered, with what a row shows (no query per row)."""
    return (
        tracking_filter(tracking_visible(user), filters or TrackingFilters())
        .select_related("household", "division", "division__parent", "followed_by")
        .order_by("division_id", "-housed_since", "-id")
    )


def tracking_get(user: Any, pk: int) -> Tracking:
    qs = tracking_visible(user).select_related(
        "household", "division", "division__parent", "followed_by", "origin_case", "case"
    )
    return get_object_or_404(qs, pk=pk)


def tracking_counts(user: Any, filters: TrackingFilters, today: dt.date | None = None) -> dict[str, int]:
    """Per kind and per step of the re-application, under the division and name filters (one query)."""
    today = today or dt.date.today()
    qs = tracking_filter(tracking_visible(user), TrackingFilters(division=filters.division, q=filters.q), today)
    return qs.aggregate(
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        secured=Count("id", filter=Q(state__in=OPEN_STATES, kind=TrackingKind.SECURED)),
        returned=Count("id", filter=Q(state__in=OPEN_STATES, kind=TrackingKind.RETURNED)),
        explained=Count("id", filter=Q(state=TrackingState.EXPLAINED)),
        wish_confirmed=Count("id", filter=Q(state=TrackingState.WISH_CONFIRMED)),
        case_opened=Count("id", filter=Q(state=TrackingState.CASE_OPENED)),
        stalled=Count("id", filter=stalled_q(today)),
    )


def untracked_secured(user: Any) -> QuerySet:
    """P10: ledger cases of the user's subtree whose household was made safe by other means and is not followed yet
    (the candidates to start tracking)."""
    from anju.cases.models import Case

    from .services import secured_case_q

    tracked = Tracking.objects.filter(household=OuterRef("household_id"), state__in=OPEN_STATES)
    return (
        Case.objects.visible_to(user)
        .filter(secured_case_q())
        .filter(~Exists(tracked))
        .select_related("household", "division", "division__parent")
        .order_by("division_id", "-secured_on", "-id")
    )


def households_named(user: Any, q: str) -> QuerySet[Household]:
    """Households of the user's subtree whose head's name starts with `q` (to record one directly)."""
    return (
        Household.objects.visible_to(user)
        .filter(head_name__startswith=q.strip())
        .select_related("division", "division__parent")
        .order_by("division_id", "head_name", "id")
    )
