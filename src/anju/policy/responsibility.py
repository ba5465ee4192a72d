"""Who answers for a division (P18), until the responsibility chain (issue 6) replaces this.

The nearest user up the tree whose role works at that level: village staff for a village, town staff for a
town, the county manager for a county, the admin for the city. Built once per refresh: no query per alert.
"""

from __future__ import annotations

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


class ResponsibilityMap:
    def __init__(self) -> None:
        self._by_code: dict[str, Responsible] = {}
        for user in User.objects.filter(is_active=True, division__isnull=False).order_by("id"):
            role = LEVEL_ROLE.get(level_of_code(user.division_id))
            if role and role in user.roles:
                self._by_code.setdefault(user.division_id, Responsible(user.get_full_name(), user.pk))

    def for_code(self, code: str) -> Responsible:
        for candidate in [code, *reversed(ancestor_codes(code))]:
            found = self._by_code.get(candidate)
            if found:
                return found
        return Responsible("", None)
