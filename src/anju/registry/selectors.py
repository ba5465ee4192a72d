"""Reads on the registry; each starts from `.visible_to(actor)` and owns its query budget."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Substr
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


def household_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    qs = Household.objects.visible_to(actor)
    qs = filter_households(qs, filters or {})
    return (
        qs.select_related("division__parent__parent")
        .prefetch_related(_active_categories())
        .order_by("division_id", "id")
    )


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
    return qs.select_related("household", "division__parent__parent").order_by("division_id", "id")


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

    Grouping by the children's code prefix keeps this at a fixed number of queries whatever the size.
    """
    level_index = LEVEL_ORDER.index(division.level)
    child_level = LEVEL_ORDER[level_index + 1] if level_index + 1 < len(LEVEL_ORDER) else None
    child_len = PREFIX_LENGTH[child_level] if child_level else 12
    scope = scope_q("division_id", division.prefix)
    key = Substr("division_id", 1, child_len)

    households = Household.objects.visible_to(actor).filter(scope)
    target = Exists(HouseholdCategory.objects.filter(household=OuterRef("pk"), ended_on__isnull=True))
    rows: dict[str, dict[str, int]] = {}

    def bucket(prefix: str) -> dict[str, int]:
        return rows.setdefault(prefix, _empty_counts())

    for item in households.annotate(k=key).values("k").annotate(n=Count("id"), t=Count("id", filter=Q(target))):
        b = bucket(item["k"])
        b["households"], b["target"] = item["n"], item["t"]
    houses = House.objects.visible_to(actor).filter(scope)
    for item in houses.annotate(k=key).values("k", "grade").annotate(n=Count("id")):
        b = bucket(item["k"])
        b[item["grade"]] += item["n"]
        b["houses"] += item["n"]
        if item["grade"] in DANGEROUS_GRADES:
            b["dangerous"] += item["n"]

    children = []
    if child_level:
        for child in Division.objects.visible_to(actor).filter(parent=division).order_by("code"):
            children.append((child, bucket(child.code[:child_len])))
    total = {k: sum(b[k] for b in rows.values()) for k in _empty_counts()}
    return {"division": division, "total": total, "children": children, "child_level": child_level}
