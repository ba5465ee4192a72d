"""Reads of the idle dangerous house list (P11), always scoped. The list filters, the counts and the alerts use the
same conditions (`visit_missed_q`, `not_secured_q`, `occupied_q`), so the page and the alert never disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.shortcuts import get_object_or_404

from anju.core.scope import PREFIX_LENGTH, code_prefix, scope_q
from anju.divisions.models import Division
from anju.divisions.services import level_of_code

from .models import IdleHouse, VisitResult

#: P11: days after listing within which the house must be sealed and carry a warning sign.
SECURE_GRACE_DAYS = 7
#: The level whose rows a user's list is counted by: the level below the user's own.
CHILD_LEVEL = {"province": "city", "city": "county", "county": "town", "town": "village", "village": "village"}


@dataclass(frozen=True)
class IdleFilters:
    division: str = ""  # a code: the listing lies in its subtree
    status: str = "open"  # open | ended | all
    problem: str = ""  # visit_missed | not_secured | occupied
    q: str = ""  # owner's name, prefix


def visit_missed_q(today: dt.date) -> Q:
    """P11: no visit within the interval since the last visit (or since listing): due on day N, missed from N+1."""
    return Q(ended_on__isnull=True, next_visit_due_on__lt=today)


def not_secured_q(today: dt.date) -> Q:
    """P11: listed more than SECURE_GRACE_DAYS days ago (day 7 is still in time, day 8 is not) and not sealed or
    without a warning sign."""
    return Q(ended_on__isnull=True, listed_on__lt=today - dt.timedelta(days=SECURE_GRACE_DAYS)) & (
        Q(sealed_on__isnull=True) | Q(sign_posted_on__isnull=True)
    )


def occupied_q() -> Q:
    """P11 "nobody lives there": the latest visit found someone living in the house."""
    return Q(ended_on__isnull=True, last_result=VisitResult.OCCUPIED)


PROBLEMS = {
    "visit_missed": visit_missed_q,
    "not_secured": not_secured_q,
    "occupied": lambda today: occupied_q(),
}


def idle_visible(user: Any) -> QuerySet[IdleHouse]:
    return IdleHouse.objects.visible_to(user)


def idle_filter(qs: QuerySet[IdleHouse], filters: IdleFilters, today: dt.date | None = None) -> QuerySet[IdleHouse]:
    today = today or dt.date.today()
    if filters.division:
        qs = qs.filter(scope_q("division_id", code_prefix(filters.division, level_of_code(filters.division))))
    if filters.status == "open":
        qs = qs.filter(ended_on__isnull=True)
    elif filters.status == "ended":
        qs = qs.filter(ended_on__isnull=False)
    if filters.problem in PROBLEMS:
        qs = qs.filter(PROBLEMS[filters.problem](today))
    if filters.q.strip():
        qs = qs.filter(household__head_name__startswith=filters.q.strip())
    return qs


def idle_list(user: Any, filters: IdleFilters | None = None) -> QuerySet[IdleHouse]:
    """The user's listings, filtered, with what a row shows (no query per row)."""
    return (
        idle_filter(idle_visible(user), filters or IdleFilters())
        .select_related("household", "house", "division", "division__parent")
        .order_by("division_id", "-listed_on", "-id")
    )


def idle_get(user: Any, pk: int) -> IdleHouse:
    qs = idle_visible(user).select_related("household", "house", "division", "division__parent", "watcher")
    return get_object_or_404(qs, pk=pk)


def idle_counts(user: Any, filters: IdleFilters, today: dt.date | None = None) -> dict[str, int]:
    """Open listings and each P11 problem under the division and name filters (one query)."""
    today = today or dt.date.today()
    qs = idle_filter(idle_visible(user), IdleFilters(division=filters.division, status="all", q=filters.q), today)
    return qs.aggregate(
        open=Count("id", filter=Q(ended_on__isnull=True)),
        ended=Count("id", filter=Q(ended_on__isnull=False)),
        visit_missed=Count("id", filter=visit_missed_q(today)),
        not_secured=Count("id", filter=not_secured_q(today)),
        occupied=Count("id", filter=occupied_q()),
    )


def idle_problems(idle: IdleHouse, today: dt.date | None = None) -> dict[str, bool]:
    """The P11 problems of one listing, by the same conditions as the alerts (one query)."""
    today = today or dt.date.today()
    found = IdleHouse.objects.filter(pk=idle.pk).aggregate(
        **{name: Count("id", filter=condition(today)) for name, condition in PROBLEMS.items()}
    )
    return {name: bool(n) for name, n in found.items()}


def by_division(qs: QuerySet, user: Any, base: str = "", **counts: Any) -> list[dict[str, Any]]:
    """Rows of `qs` counted per division one level below `base` (a code) or below the user's division: county by
    county for the city, town by town for a county, village by village for a town. Two queries."""
    code = base or user.division_id
    level = CHILD_LEVEL[level_of_code(code)] if code else "county"
    width = PREFIX_LENGTH[level]
    rows = (
        qs.order_by()
        .annotate(part=Substr("division_id", 1, width))
        .values("part")
        .annotate(n=Count("id"), **counts)
        .order_by("part")
    )
    rows = list(rows)
    names = dict(Division.objects.filter(code__in=[r["part"].ljust(12, "0") for r in rows]).values_list("code", "name"))
    for row in rows:
        row["code"] = row["part"].ljust(12, "0")
        row["name"] = names.get(row["code"], row["code"])
    return rows


def visits_of(idle: IdleHouse) -> QuerySet:
    return idle.visits.select_related("visitor").order_by("-visited_on", "-id")
