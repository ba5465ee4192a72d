"""Who answers for a division (P18), until the responsibility chain (issue 6) replaces this.

The nearest user up the tree whose role works at that level: village staff for a village, town staff for a
town, the county manager for a county, the admin for the city. A full refresh loads every such user once; an
incremental refresh loads only the users of the few divisions it meets. Either way: no query per alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from anju.accounts.models import User
from anju.accounts.permissions import Role
from anju.core.scope import ancestor_codes
from anju.divisions.models import Level
from anju.divisions.services import level_of_code

LEVEL_ROLE = {
    Level.VILLAGE: Role.VILLAGE_STAFF,
    Level.TOWN: Role.TOWN_STAFF,
    Level.COUNTY: Role.COUNTY_MANAGER,
    Level.CITY: Role.ADMIN,
}


@dataclass(frozen=True)
class Responsible:
    name: str
    user_id: int | None


NOBODY = Responsible("", None)


class ResponsibilityMap:
    """P18: `for_code(code)` is the person who answers for `code`; answers are cached per code."""

    def __init__(self, codes: Iterable[str] | None = None) -> None:
        """Every responsible user (`codes=None`, a full refresh), or those of `codes` and their ancestors."""
        self._by_code: dict[str, Responsible] = {}
        self._answers: dict[str, Responsible] = {}
        self._loaded: set[str] | None = None
        if codes is None:
            self._load(User.objects.all())
        else:
            self._loaded = set()
            self.preload(codes)

    def _load(self, users) -> None:
        for user in users.filter(is_active=True, division__isnull=False).order_by("id"):
            role = LEVEL_ROLE.get(level_of_code(user.division_id))
            if role and role in user.roles:
                self._by_code.setdefault(user.division_id, Responsible(user.get_full_name(), user.pk))

    def preload(self, codes: Iterable[str]) -> None:
        """Load the users of `codes` and their ancestors in one query (incremental refresh)."""
        if self._loaded is None:
            return
        wanted = set()
        for code in codes:
            wanted.update([code, *ancestor_codes(code)])
        wanted -= self._loaded
        if wanted:
            self._load(User.objects.filter(division_id__in=sorted(wanted)))
            self._loaded |= wanted

    def for_code(self, code: str) -> Responsible:
        found = self._answers.get(code)
        if found is None:
            self.preload([code])
            found = next(
                (self._by_code[c] for c in [code, *reversed(ancestor_codes(code))] if c in self._by_code), NOBODY
            )
            self._answers[code] = found
        return found
