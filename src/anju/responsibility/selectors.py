"""Reads of the responsibility chain (P18), always scoped: a user sees the chain of their subtree and the persons
named above it (`Assignment.scope_includes_ancestors`); anything else answers 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from anju.accounts.models import User
from anju.core.scope import ancestor_codes, code_prefix, scope_q
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code
from anju.policy.models import Alert, AlertStatus
from anju.registry.models import Household

from .models import Assignment, TargetLevel


@dataclass
class ChainRow:
    """One child of a division (a division, or a household of a village) and who answers for it now."""

    target: Division | Household
    assignment: Assignment | None


def assignments_visible(actor: Any) -> QuerySet[Assignment]:
    return Assignment.objects.visible_to(actor)


def assignment_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Assignment]:
    """Assignments under `division` (its subtree), of a `level`, of a `person`, active only unless `history`."""
    filters = filters or {}
    qs = assignments_visible(actor)
    division = filters.get("division")
    if division:
        code = division.code if isinstance(division, Division) else division
        qs = qs.filter(scope_q("division_id", code_prefix(code, level_of_code(code))))
    if filters.get("level"):
        qs = qs.filter(level=filters["level"])
    if filters.get("person"):
        qs = qs.filter(person_id=filters["person"])
    if filters.get("household"):
        qs = qs.filter(household_id=filters["household"])
    if not filters.get("history"):
        qs = qs.active()
    return qs.select_related("division", "household").order_by("division_id", "household_id", "-started_at", "-id")


def assignment_get(*, actor: Any, pk: int) -> Assignment:
    return get_object_or_404(assignments_visible(actor).select_related("division", "household", "person"), pk=pk)


def division_get(*, actor: Any, code: str) -> Division:
    """A division of the actor's subtree (404 otherwise)."""
    return get_object_or_404(Division.objects.visible_to(actor, "view").select_related("parent"), code=code)


def chain_above(division: Division) -> list[tuple[Division, Assignment | None]]:
    """The division's county, town (and itself) with their active persons, top down: who answers above."""
    codes = [c for c in [*ancestor_codes(division.code), division.code] if level_of_code(c) in TargetLevel.values]
    found = {a.division_id: a for a in Assignment.objects.active().of_divisions().filter(division_id__in=codes)}
    divisions = Division.objects.in_bulk(codes)
    return [(divisions[c], found.get(c)) for c in codes if c in divisions]


def division_history(division: Division) -> QuerySet[Assignment]:
    """Every person who answered for the division, newest first (P18 archives)."""
    return Assignment.objects.of_divisions().filter(division=division).order_by("-started_at", "-id")


def household_history(household: Household) -> QuerySet[Assignment]:
    return Assignment.objects.filter(household=household).order_by("-started_at", "-id")


def chain_children(*, actor: Any, division: Division, unassigned_only: bool = False) -> QuerySet:
    """The children of `division` the actor sees — towns of a county, villages of a town, households of a village —
    each with `current` (its active assignment, or None). Unassigned ones can be asked for alone."""
    active = Assignment.objects.active()
    if division.level == Level.VILLAGE:
        qs = Household.objects.visible_to(actor).filter(division=division)
        current = active.filter(household=OuterRef("pk"))
        order = ("head_name", "id")
    else:
        qs = Division.objects.visible_to(actor).filter(parent=division)
        current = active.of_divisions().filter(division_id=OuterRef("code"))
        order = ("code",)
    qs = qs.annotate(assigned=Exists(current))
    if unassigned_only:
        qs = qs.filter(assigned=False)
    return qs.order_by(*order)


def attach_current(rows: list[Any]) -> list[ChainRow]:
    """One page of `chain_children`, each with its active assignment: one query for the page."""
    if not rows:
        return []
    if isinstance(rows[0], Household):
        found = {a.household_id: a for a in Assignment.objects.active().filter(household__in=rows)}
        return [ChainRow(r, found.get(r.pk)) for r in rows]
    found = {
        a.division_id: a
        for a in Assignment.objects.active().of_divisions().filter(division_id__in=[r.code for r in rows])
    }
    return [ChainRow(r, found.get(r.code)) for r in rows]


def person_get(*, actor: Any, pk: int) -> User:
    """A person the actor may look up: a user of the actor's subtree, or someone who answers (now or before) for
    something the actor sees (the persons named above included). 404 otherwise."""
    answers_here = assignments_visible(actor).filter(person_id=OuterRef("pk"))
    people = User.objects.filter(scope_q("division_id", actor.scope_prefix) | Q(Exists(answers_here)))
    return get_object_or_404(people.select_related("division"), pk=pk)


def person_assignments(*, actor: Any, person: User, history: bool = False) -> QuerySet[Assignment]:
    """What the person answers for (and answered for, with `history`), as far as the actor sees."""
    qs = assignments_visible(actor).filter(person=person).select_related("division", "household")
    if not history:
        qs = qs.active()
    return qs.order_by("level", "division_id", "household_id", "-started_at")


def person_alerts(*, actor: Any, person: User) -> QuerySet[Alert]:
    """The open alerts naming the person as responsible (P18), in the actor's subtree, earliest due first."""
    return (
        Alert.objects.visible_to(actor)
        .filter(responsible=person, status=AlertStatus.OPEN)
        .select_related("division", "household")
        .order_by("due_on", "id")
    )


def eligible_people(code: str) -> QuerySet[User]:
    """P18: who may answer for the division `code`: the active users of it and of the division just above."""
    parent = Division.objects.filter(code=code).values_list("parent_id", flat=True).first()
    return User.objects.filter(is_active=True, division_id__in=[c for c in (code, parent) if c]).order_by(
        "division_id", "full_name", "username"
    )
