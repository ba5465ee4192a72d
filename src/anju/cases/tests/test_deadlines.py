"""P19: the completion deadline of a house appraised dangerous, at the half-year boundaries and on a case."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.policy.deadlines import completion_deadline
from anju.testing import cases

from .services_world import *  # noqa: F403
from .services_world import TODAY


@pytest.mark.parametrize(
    ("appraised_on", "due_on"),
    [
        (dt.date(2025, 1, 1), dt.date(2025, 11, 30)),
        (dt.date(2025, 6, 30), dt.date(2025, 11, 30)),
        (dt.date(2025, 7, 1), dt.date(2026, 5, 31)),
        (dt.date(2025, 12, 31), dt.date(2026, 5, 31)),
        (dt.date(2024, 2, 29), dt.date(2024, 11, 30)),
    ],
)
def test_completion_deadline_at_the_half_year_boundaries_p19(appraised_on, due_on):
    """policy: P19 — appraised January–June → 30 November that year; July–December → 31 May next year."""
    assert completion_deadline(appraised_on) == due_on


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("appraised_on", "due_on"),
    [
        (dt.date(TODAY.year, 6, 30), dt.date(TODAY.year, 11, 30)),
        (dt.date(TODAY.year - 1, 7, 1), dt.date(TODAY.year, 5, 31)),
        (dt.date(TODAY.year - 1, 12, 31), dt.date(TODAY.year, 5, 31)),
        (dt.date(TODAY.year, 1, 1), dt.date(TODAY.year, 11, 30)),
    ],
)
def test_a_case_gets_its_deadline_from_the_appraisal_date_p19(house, appraised_on, due_on):
    """policy: P19 — the deadline runs from the day of the appraisal, not from the day it was typed in."""
    case = cases.dangerous_case(house, appraised_on=appraised_on)
    assert (case.appraised_on, case.due_on) == (appraised_on, due_on)
