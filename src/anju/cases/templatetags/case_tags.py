"""Template helpers for ledger cards on other apps' pages (the household page lists its cases)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from ..models import Case
from ..selectors import CaseFilters, case_list, is_late

register = template.Library()


@register.simple_tag
def household_cases(household: Any, user: Any) -> list[Case]:
    """The household's cases the user may see, newest first, each marked late (P19); one query."""
    today = dt.date.today()
    cases = list(case_list(user, CaseFilters(household=household.pk)))
    for case in cases:
        case.late = is_late(case, today)
    return cases
