"""Reads of the training ledger, always scoped: sessions in the user's subtree, and the ledger of people in it.

"Trained in a year" is one condition everywhere — signed in at a session held that year (`trained_q`) — so the
P17 gate, the craftsmen registry, the ledger page and the P17.untrained alert never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import Role, require_action
from anju.cases.models import Craftsman
from anju.core.scope import code_prefix, scope_q
from anju.divisions.services import level_of_code

from .models import Attendance, Session

#: P17: the roles whose people check, appraise or build and so must be trained every year (the county manager
#: checks too: `inspections.check`). Craftsmen are people of the ledger as well, without a role.
TRAINED_ROLES = (Role.VILLAGE_STAFF, Role.TOWN_STAFF, Role.APPRAISER, Role.COUNTY_MANAGER)
CRAFTSMAN = "craftsman"


def attended_in(year: int, prefix: str = "") -> Q:
    """On `Attendance`: signed in at a session held in `year` (`prefix` for a lookup through a relation)."""
    return Q(**{f"{prefix}signed_in": True, f"{prefix}session__held_on__year": year})


def user_is_trained(user: Any, year: int) -> bool:
    """P17: the staff user signed in at a training session of `year`."""
    if not getattr(user, "pk", None):
        return False
    return Attendance.objects.filter(attended_in(year), user=user).exists()


def craftsman_is_trained(craftsman: Craftsman, year: int) -> bool:
    """P17, P22: the craftsman signed in at a training session of `year`."""
    return Attendance.objects.filter(attended_in(year), craftsman=craftsman).exists()


def trained_exists(year: int, person: str = "user") -> Exists:
    """An `Exists` to annotate users (`person="user"`) or craftsmen with "trained in `year`"."""
    return Exists(Attendance.objects.filter(attended_in(year), **{person: OuterRef("pk")}))


# -- sessions ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFilters:
    division: str = ""
    year: int | None = None
    kind: str = ""
    q: str = ""


def session_list(*, actor: Any, filters: SessionFilters | None = None) -> QuerySet[Session]:
    filters = filters or SessionFilters()
    require_action(actor, "training.view")
    qs = (
        Session.objects.visible_to(actor)
        .select_related("division")
        .annotate(
            attendee_count=Count("attendances"),
            signed_count=Count("attendances", filter=Q(attendances__signed_in=True)),
        )
    )
    if filters.division:
        qs = qs.filter(scope_q("division_id", code_prefix(filters.division, level_of_code(filters.division))))
    if filters.year:
        qs = qs.filter(held_on__year=filters.year)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.q:
        qs = qs.filter(topic__contains=filters.q.strip())
    return qs.order_by("-held_on", "-id")


def session_get(*, actor: Any, pk: int) -> Session:
    """The session with its attendees, if in the actor's subtree (404 otherwise)."""
    require_action(actor, "training.view")
    attendees = Attendance.objects.select_related("user__division", "craftsman__division").order_by(
        "craftsman_id", "user__division_id", "user__full_name", "craftsman__name", "id"
    )
    qs = Session.objects.visible_to(actor).select_related("division", "created_by")
    return get_object_or_404(qs.prefetch_related(Prefetch("attendances", queryset=attendees)), pk=pk)


# -- the ledger -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFilters:
    year: int
    division: str = ""
    kind: str = ""  # a role (`TRAINED_ROLES`) or "craftsman"
    status: str = ""  # "trained", "untrained" or "" (both)
    q: str = ""


@dataclass
class LedgerRow:
    """One person of the ledger for one year."""

    kind: str  # "user" or "craftsman"
    pk: int
    name: str
    roles: list[str]
    division_code: str
    division_name: str
    phone: str
    sessions: int
    hours: Decimal
    last_on: Any
    topics: list[str] = field(default_factory=list)

    @property
    def trained(self) -> bool:
        return self.sessions > 0


def kind_choices() -> list[tuple[str, str]]:
    return [(str(r.value), str(r.label)) for r in TRAINED_ROLES] + [(CRAFTSMAN, _("建筑工匠"))]


def _year_aggregates(year: int) -> dict[str, Any]:
    where = attended_in(year, "attendances__")
    return {
        "sessions": Count("attendances", filter=where),
        "hours": Sum("attendances__session__hours", filter=where),
        "last_on": Max("attendances__session__held_on", filter=where),
    }


def ledger_rows(*, actor: Any, filters: LedgerFilters) -> list[LedgerRow]:
    """P17: everyone in the actor's subtree who must be trained — active staff of `TRAINED_ROLES` and active
    craftsmen — with their sessions, hours and last training in the year. Two queries whatever the size."""
    require_action(actor, "training.view")
    if not actor.division_id:
        return []
    where = scope_q("division_id", actor.scope_prefix)
    if filters.division:
        where &= scope_q("division_id", code_prefix(filters.division, level_of_code(filters.division)))
    q = filters.q.strip()
    rows: list[LedgerRow] = []
    if filters.kind != CRAFTSMAN:
        wanted = {filters.kind} if filters.kind else {str(r) for r in TRAINED_ROLES}
        users = User.objects.filter(where, is_active=True).select_related("division")
        if q:
            users = users.filter(full_name__contains=q)
        labels = dict(Role.choices)
        for u in users.annotate(**_year_aggregates(filters.year)).order_by("division_id", "full_name", "id"):
            if not wanted.intersection(u.roles or []):
                continue
            rows.append(
                LedgerRow(
                    kind="user",
                    pk=u.pk,
                    name=u.get_full_name(),
                    roles=[str(labels[r]) for r in u.roles if r in labels],
                    division_code=u.division_id,
                    division_name=u.division.name,
                    phone=u.phone,
                    sessions=u.sessions,
                    hours=u.hours or Decimal(0),
                    last_on=u.last_on,
                )
            )
    if filters.kind in ("", CRAFTSMAN):
        craftsmen = Craftsman.objects.filter(where, is_active=True).select_related("division")
        if q:
            craftsmen = craftsmen.filter(name__contains=q)
        for c in craftsmen.annotate(**_year_aggregates(filters.year)).order_by("division_id", "name", "id"):
            rows.append(
                LedgerRow(
                    kind="craftsman",
                    pk=c.pk,
                    name=c.name,
                    roles=[str(c.get_kind_display())],
                    division_code=c.division_id,
                    division_name=c.division.name,
                    phone=c.phone,
                    sessions=c.sessions,
                    hours=c.hours or Decimal(0),
                    last_on=c.last_on,
                )
            )
    if filters.status == "trained":
        rows = [r for r in rows if r.trained]
    elif filters.status == "untrained":
        rows = [r for r in rows if not r.trained]
    return rows


def craftsman_trainings(craftsman: Craftsman) -> QuerySet[Attendance]:
    """The craftsman's sessions, newest first (the craftsmen registry shows them from the ledger)."""
    return (
        Attendance.objects.filter(craftsman=craftsman)
        .select_related("session__division")
        .order_by("-session__held_on", "-id")
    )
