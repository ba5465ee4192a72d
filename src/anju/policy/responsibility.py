"""Who answers for an alert (P18): the responsibility chain of app `responsibility`, nearest named person first.

The household's own person, else its village's, its town's, its county's (市包县、县包镇、镇包村户). Where nobody
up the chain is named yet — a county still filling in its chain — the rule from before the chain answers, so no
alert loses its person: the nearest user up the tree whose role works at that level (village staff for a village,
town staff for a town, the county manager for a county, the admin for the city). A deactivated person is skipped.

No query per alert. A full refresh loads every active user and every active assignment once (two queries); the
household assignments, up to one per household, are held as two sorted integer arrays (16 bytes a household
instead of a dict of Python objects at a million households). An incremental refresh loads its households'
assignments once and the chain of each division it meets once.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from anju.accounts.models import User
from anju.accounts.permissions import Role
from anju.core.scope import ancestor_codes, scope_q
from anju.divisions.models import Level
from anju.divisions.services import level_of_code
from anju.responsibility.models import Assignment

LEVEL_ROLE = {
    Level.VILLAGE: Role.VILLAGE_STAFF,
    Level.TOWN: Role.TOWN_STAFF,
    Level.COUNTY: Role.COUNTY_MANAGER,
    Level.CITY: Role.ADMIN,
}
PERSON = ("person_id", "person__full_name", "person__username", "person__is_active")


@dataclass(frozen=True)
class Responsible:
    name: str
    user_id: int | None


NOBODY = Responsible("", None)


class ResponsibilityMap:
    """P18: `for_code(code, household_id)` is the person who answers for an object there; cached per code."""

    def __init__(
        self,
        codes: Iterable[str] | None = None,
        *,
        household_ids: Iterable[int] | None = None,
        prefix: str | None = None,
    ) -> None:
        """Everything (no argument: a full refresh); everything but only the household assignments under `prefix`
        (re-naming the alerts of one division); or lazily, starting with `codes` and `household_ids` (an
        incremental refresh, one case)."""
        self._people: dict[int, Responsible] = {}  # active named persons (everyone active, when all is loaded)
        self._named: dict[str, int] = {}  # division code → person id
        self._fallback: dict[str, Responsible] = {}  # division code → the nearest-role user
        self._answers: dict[str, Responsible] = {}
        self._household_keys: array | None = None
        self._household_people: array | None = None
        self._households: dict[int, int] = {}
        self._households_loaded: set[int] = set()
        self._pending_households: set[int] = set()
        self._loaded: set[str] | None = None
        if codes is None and household_ids is None:
            self._load_all(prefix)
        else:
            self._loaded = set()
            self._pending_households = {int(pk) for pk in household_ids or ()}
            if codes:
                self.preload(codes)

    # -- loading --------------------------------------------------------------------------------------------------

    def _add_user(self, pk: int, full_name: str, username: str, division_id: str | None, roles: list) -> None:
        person = Responsible(full_name or username, pk)
        self._people[pk] = person
        role = LEVEL_ROLE.get(level_of_code(division_id)) if division_id else None
        if role and role in (roles or []):
            self._fallback.setdefault(division_id, person)

    def _add_person(self, pk: int, full_name: str, username: str, is_active: bool) -> None:
        if is_active:
            self._people.setdefault(pk, Responsible(full_name or username, pk))

    def _load_all(self, prefix: str | None) -> None:
        users = User.objects.filter(is_active=True).order_by("id")
        for row in users.values_list("pk", "full_name", "username", "division_id", "roles"):
            self._add_user(*row)
        active = Assignment.objects.active().order_by("household_id")
        if prefix:  # the division rows everywhere (a few thousand), the household rows under `prefix` only
            active = active.filter(scope_q("division_id", prefix) | Q(household__isnull=True))
        keys, people = array("q"), array("q")
        rows = active.values_list("division_id", "household_id", "person_id").iterator(chunk_size=5000)
        for division_id, household_id, person_id in rows:
            if household_id is None:
                self._named[division_id] = person_id
            else:
                keys.append(household_id)
                people.append(person_id)
        self._household_keys, self._household_people = keys, people

    def preload(self, codes: Iterable[str]) -> None:
        """The chain of `codes` and their ancestors (named persons, then nearest-role users), with the assignments
        of the households asked for since the last load: two queries."""
        if self._loaded is None:
            return
        wanted = set()
        for code in codes:
            wanted.update([code, *ancestor_codes(code)])
        wanted -= self._loaded
        households, self._pending_households = self._pending_households - self._households_loaded, set()
        if not wanted and not households:
            return
        where = Q(household__isnull=True, division_id__in=sorted(wanted)) if wanted else Q(pk__in=[])
        if households:
            where |= Q(household_id__in=sorted(households))
        rows = Assignment.objects.active().filter(where).values_list("division_id", "household_id", *PERSON)
        for division_id, household_id, *person in rows:
            if household_id is None:
                self._named[division_id] = person[0]
            else:
                self._households[household_id] = person[0]
            self._add_person(*person)
        self._households_loaded |= households
        if wanted:
            users = User.objects.filter(division_id__in=sorted(wanted), is_active=True).order_by("id")
            for row in users.values_list("pk", "full_name", "username", "division_id", "roles"):
                self._add_user(*row)
            self._loaded |= wanted

    # -- answers --------------------------------------------------------------------------------------------------

    def _household_person(self, household_id: int) -> int | None:
        keys = self._household_keys
        if keys is not None:
            i = bisect_left(keys, household_id)
            return self._household_people[i] if i < len(keys) and keys[i] == household_id else None
        return self._households.get(household_id)

    def for_code(self, code: str, household_id: int | None = None) -> Responsible:
        """The household's named person, else the nearest named person up from `code`, else the nearest-role
        user (before the chain is filled in)."""
        if self._loaded is not None:  # lazy: this household's assignment and this chain, in one round
            if household_id is not None and household_id not in self._households_loaded:
                self._pending_households.add(household_id)
            self.preload([code])
        if household_id is not None:
            person = self._people.get(self._household_person(household_id))
            if person is not None:
                return person
        found = self._answers.get(code)
        if found is None:
            chain = [code, *reversed(ancestor_codes(code))]
            found = next((self._people[p] for c in chain if (p := self._named.get(c)) in self._people), None)
            if found is None:
                found = next((self._fallback[c] for c in chain if c in self._fallback), NOBODY)
            self._answers[code] = found
        return found
