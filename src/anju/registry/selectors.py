"""Reads on the registry; each starts from `.visible_to(actor)` and owns its query budget."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from anju.core.scope import PREFIX_LENGTH, scope_q
from anju.divisions.models import LEVEL_ORDER, Division

from .filters import filter_households, filter_houses
from .models import DANGEROUS_GRADES, Grade, GradeRecord, House, Household, HouseholdCategory


def _active_categories() -> Prefetch:
    return Prefetch(
        "categories",
        queryset=HouseholdCategory.objects.filter(ended_on__isnull=True).select_related("category"),
        to_attr="active_categories",
    )


def _divisions_with_ancestors() -> Prefetch:
    """Village, town and county names in one extra query per page. Joining them into the list query let
    PostgreSQL pick a nested loop over the division table when it misjudged a filter's selectivity."""
    return Prefetch("division", queryset=Division.objects.select_related("parent__parent"))


def household_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    qs = Household.objects.visible_to(actor)
    qs = filter_households(qs, filters or {})
    return qs.prefetch_related(_divisions_with_ancestors(), _active_categories()).order_by("division_id", "id")


def household_get(*, actor: Any, pk: int) -> Household:
    """404 outside the actor's subtree (not 403: the row's existence is not disclosed)."""
    qs = (
        Household.objects.visible_to(actor)
        .select_related("division__parent__parent")
        .prefetch_related(
            _active_categories(),
            Prefetch(
                "categories",
                queryset=HouseholdCategory.objects.select_related("category").order_by("-certified_on"),
                to_attr="all_categories",
            ),
            Prefetch(
                "houses",
                queryset=House.objects.order_by("id").prefetch_related(
                    Prefetch("grade_history", queryset=GradeRecord.objects.order_by("-graded_on", "-id"))
                ),
            ),
            "members",
        )
    )
    return get_object_or_404(qs, pk=pk)


def house_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[House]:
    qs = House.objects.visible_to(actor)
    qs = filter_houses(qs, filters or {})
    return qs.select_related("household").prefetch_related(_divisions_with_ancestors()).order_by("division_id", "id")


def house_get(*, actor: Any, pk: int) -> House:
    qs = (
        House.objects.visible_to(actor)
        .select_related("household", "division__parent__parent")
        .prefetch_related(Prefetch("grade_history", queryset=GradeRecord.objects.order_by("-graded_on", "-id")))
    )
    return get_object_or_404(qs, pk=pk)


def _empty_counts() -> dict[str, int]:
    return {"households": 0, "target": 0, "houses": 0, "dangerous": 0, **{g: 0 for g in Grade.values}}


def registry_summary(*, actor: Any, division: Division) -> dict[str, Any]:
    """Counts for one division and for each of its children (the home page and its drill-down).

    Each count is grouped by the row's own `division_code` (an index-only scan), then rolled up to the
    children in Python: three grouped queries whatever the number of households.
    """
    level_index = LEVEL_ORDER.index(division.level)
    child_level = LEVEL_ORDER[level_index + 1] if level_index + 1 < len(LEVEL_ORDER) else None
    child_len = PREFIX_LENGTH[child_level] if child_level else 12
    scope = scope_q("division_id", division.prefix)
    rows: dict[str, dict[str, int]] = {}

    def add(code: str, key: str, n: int) -> None:
        rows.setdefault(code[:child_len], _empty_counts())[key] += n

    for code, n in (
        Household.objects.visible_to(actor).filter(scope).order_by().values_list("division_id").annotate(Count("id"))
    ):
        add(code, "households", n)
    for code, n in (
        HouseholdCategory.objects.visible_to(actor)
        .filter(scope, ended_on__isnull=True)
        .order_by()
        .values_list("division_id")
        .annotate(Count("household_id", distinct=True))
    ):
        add(code, "target", n)
    for code, grade, n in (
        House.objects.visible_to(actor)
        .filter(scope)
        .order_by()
        .values_list("division_id", "grade")
        .annotate(Count("id"))
    ):
        add(code, grade, n)
        add(code, "houses", n)
        if grade in DANGEROUS_GRADES:
            add(code, "dangerous", n)

    children = []
    if child_level:
        for child in Division.objects.visible_to(actor).filter(parent=division).order_by("code"):
            children.append((child, rows.get(child.code[:child_len], _empty_counts())))
    total = {k: sum(b[k] for b in rows.values()) for k in _empty_counts()}
    return {"division": division, "total": total, "children": children, "child_level": child_level}
