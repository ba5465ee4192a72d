"""Builders shared by the policy tests: households on the P7 list, overdue P8 requests."""

from __future__ import annotations

import datetime as dt

from anju.divisions.models import Division
from anju.inspections.models import AppraisalRequest, RequestSource
from anju.policy.services import alerts_refresh
from anju.registry import services as registry
from anju.registry.models import GradeSource, Household
from anju.testing import factories


def listed_household(village: Division, structure: str = "earth_wood") -> Household:
    """A household on the P7 list (a B-grade house), with its alerts refreshed."""
    household = factories.household(village)
    house = factories.house(household, structure=structure)
    registry.house_grade(
        actor=factories._system(village), house=house, grade="B", graded_on=dt.date(2025, 5, 14),
        source=GradeSource.MANUAL,
    )  # fmt: skip
    alerts_refresh(household_ids=[household.pk])
    return household


def overdue_request(household: Household, reported_on: dt.date) -> AppraisalRequest:
    """A P8 request reported long ago and never appraised (written directly: only its dates matter here)."""
    return AppraisalRequest.objects.create(
        house=household.houses.first(),
        division_id=household.division_id,
        source=RequestSource.REPORT,
        reported_on=reported_on,
        reported_by=factories._system(household.division),
        description="墙体开裂",
        due_on=reported_on + dt.timedelta(days=15),
    )
