"""P13: who should have a policy card and who has one. Households: those that had a renovation (works completed,
accepted, or closed as renovated). Staff: active users with a division and a housing-construction role (not the
other departments' users)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from anju.accounts.models import User
from anju.accounts.permissions import Role
from anju.cases.models import Case, CaseOutcome, CaseState
from anju.core.scope import PREFIX_LENGTH, scope_q
from anju.divisions.models import Division
from anju.registry.models import Household

from .models import Audience, CardDistribution

STAFF_ROLES = frozenset(
    {Role.ADMIN, Role.CITY_SUPERVISOR, Role.COUNTY_MANAGER, Role.APPRAISER, Role.TOWN_STAFF, Role.VILLAGE_STAFF}
)
CHILD_LEVEL = {"city": "county", "county": "town", "town": "village", "province": "city"}


def renovated_q(prefix: str = "") -> Q:
    """Cases whose household had a renovation (P13's households)."""
    done = Q(state__in=[CaseState.COMPLETED, CaseState.ACCEPTED]) | Q(
        state=CaseState.CLOSED, outcome=CaseOutcome.RENOVATED
    )
    return done & scope_q("division_id", prefix) if prefix else done


def renovated_household_ids(ids: Iterable[int]) -> set[int]:
    return set(Case.objects.filter(renovated_q(), household_id__in=list(ids)).values_list("household_id", flat=True))


def is_staff(user: User) -> bool:
    return bool(user.is_active and user.division_id and STAFF_ROLES.intersection(user.roles or []))


def staff_in(prefix: str) -> list[User]:
    """Active staff whose division lies under `prefix` (users are thousands, not millions: roles filter in Python)."""
    users = User.objects.filter(scope_q("division_id", prefix), is_active=True).order_by("division_id", "username")
    return [u for u in users if is_staff(u)]


def households_due(prefix: str) -> QuerySet[Household]:
    """Households in the subtree that had a renovation, each once."""
    ids = Case.objects.filter(renovated_q(prefix)).values("household_id")
    return Household.objects.filter(pk__in=ids)


@dataclass
class Coverage:
    """Cards due and handed out in one division's subtree."""

    division: Division
    households: int = 0
    households_covered: int = 0
    staff: int = 0
    staff_covered: int = 0

    @property
    def households_missing(self) -> int:
        return self.households - self.households_covered

    @property
    def staff_missing(self) -> int:
        return self.staff - self.staff_covered


def coverage(division: Division) -> tuple[Coverage, list[Coverage]]:
    """The division's totals and one row per child division, in a few grouped queries (any number of households)."""
    child_level = CHILD_LEVEL.get(division.level)
    prefix = division.code[: PREFIX_LENGTH[division.level]]
    total = Coverage(division)
    children = {d.code: Coverage(d) for d in Division.objects.filter(parent=division).order_by("code")}
    width = PREFIX_LENGTH[child_level] if child_level else 12

    def child_of(code: str) -> Coverage | None:
        return children.get(code[:width].ljust(12, "0")) if child_level else None

    def tally(rows: Iterable[tuple[str, int]], field: str) -> None:
        for code, n in rows:
            setattr(total, field, getattr(total, field) + n)
            if (row := child_of(code)) is not None:
                setattr(row, field, getattr(row, field) + n)

    due = households_due(prefix).annotate(part=Substr("division_id", 1, width)).values("part")
    tally(due.annotate(n=Count("pk")).values_list("part", "n").order_by(), "households")
    given = CardDistribution.objects.filter(scope_q("division_id", prefix), audience=Audience.HOUSEHOLD)
    given = given.annotate(part=Substr("division_id", 1, width)).values("part").annotate(n=Count("pk")).order_by()
    tally(given.values_list("part", "n"), "households_covered")
    covered_people = set(
        CardDistribution.objects.filter(audience=Audience.STAFF, person__isnull=False).values_list(
            "person_id", flat=True
        )
    )
    for user in staff_in(prefix):
        tally([(user.division_id, 1)], "staff")
        if user.pk in covered_people:
            tally([(user.division_id, 1)], "staff_covered")
    return total, list(children.values())


@dataclass
class Recipient:
    pk: int
    name: str
    division_id: str
    detail: str
    card: CardDistribution | None


def recipients(actor: Any, audience: str, prefix: str, *, missing_only: bool = False) -> list[Recipient]:
    """The people of `prefix` (within the actor's subtree) who should get `audience`'s card, with their card."""
    if not prefix.startswith(actor.scope_prefix):
        return []
    if audience == Audience.HOUSEHOLD:
        rows = households_due(prefix).order_by("division_id", "head_name", "pk")
        cards = {c.household_id: c for c in CardDistribution.objects.filter(household__in=rows)}
        found = [
            Recipient(h.pk, h.head_name, h.division_id, h.id_masked, cards.get(h.pk))
            for h in rows.only("pk", "head_name", "division_id", "id_masked")
        ]
    else:
        people = staff_in(prefix)
        cards = {c.person_id: c for c in CardDistribution.objects.filter(person__in=[u.pk for u in people])}
        found = [
            Recipient(u.pk, u.get_full_name(), u.division_id, "、".join(u.role_labels), cards.get(u.pk)) for u in people
        ]
    return [r for r in found if r.card is None] if missing_only else found
