"""One case from an appraisal C to 已销号 through every service (P2, P19–P22)."""

import pytest

from anju.cases.models import CaseOutcome, CaseState, SignOff
from anju.testing import cases, factories

pytestmark = pytest.mark.django_db


def test_case_from_appraisal_c_to_closed():
    home = factories.household(factories.village(factories.YUYANG_TOWN))
    house = factories.house(home)
    case = cases.dangerous_case(house)
    assert case.grade == "C" and case.due_on is not None
    case = cases.advance(case, CaseState.CLOSED)
    assert case.outcome == CaseOutcome.RENOVATED
    assert SignOff.objects.filter(case=case).count() == 12
    house.refresh_from_db()
