"""Builders for the chain's tests: assignments written directly (the services are tested on their own)."""

from __future__ import annotations

from django.utils import timezone

from anju.accounts.models import User
from anju.divisions.models import Division
from anju.registry.models import Household
from anju.responsibility.models import Assignment, TargetLevel
from anju.testing import factories


def person(division_code: str, role: str = "village_staff", name: str | None = None) -> User:
    """A new user of `division_code` holding `role`."""
    n = User.objects.count() + 1
    user = factories.user(f"person_{n}_{division_code}", division_code, role)
    if name:
        user.full_name = name
        user.save(update_fields=["full_name"])
    return user


def assign(target: Division | Household, who: User, phone: str = "") -> Assignment:
    """An active assignment of `who` for a division or a household (no service, no level rule)."""
    if isinstance(target, Household):
        level, code, household = TargetLevel.HOUSEHOLD, target.division_id, target
    else:
        level, code, household = target.level, target.code, None
    return Assignment.objects.create(
        division_id=code,
        level=level,
        household=household,
        person=who,
        person_name=who.get_full_name(),
        phone=phone,
        started_at=timezone.now(),
    )


def household_assignment(village: Division) -> Assignment:
    """A household of `village` with its own person (a village user there)."""
    return assign(factories.household(village), person(village.code))
