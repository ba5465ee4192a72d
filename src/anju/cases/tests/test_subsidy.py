"""P21: which subsidy rate applies to a household, and that the plan keeps the amount it was given."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anju.cases.models import Renovation, SubsidyRate
from anju.cases.services import renovation
from anju.cases.services.registries import subsidy_for, subsidy_rate_set
from anju.core.errors import DomainError
from anju.registry.models import TargetCategory
from anju.registry.services import household_category_add
from anju.testing import factories

from .services_world import *  # noqa: F403
from .services_world import TODAY

pytestmark = pytest.mark.django_db
YEAR = TODAY.year


def rate(amount, method="reinforce", grade="", category="", year=YEAR):
    return SubsidyRate.objects.create(year=year, method=method, grade=grade, category_code=category, amount=amount)


def certify(household, *codes):
    for code in codes:
        household_category_add(
            actor=factories._system(household.division),
            household=household,
            category=TargetCategory.objects.get(code=code),
            certified_on=None,
        )
    return household


@pytest.fixture
def household(house):
    return house.household


def test_the_most_specific_rate_wins_p21(household):
    """policy: P21 — a rate for the household's category and the grade beats the generic one, even when lower."""
    rate("20000")
    rate("22000", grade="C")
    assert subsidy_for(household=household, year=YEAR, method="reinforce", grade="C").amount == Decimal("22000")
    certify(household, "dibao")
    rate("18000", category="dibao")
    assert subsidy_for(household=household, year=YEAR, method="reinforce", grade="C").amount == Decimal("18000")
    best = rate("19000", grade="C", category="dibao")
    assert subsidy_for(household=household, year=YEAR, method="reinforce", grade="C") == best
    assert subsidy_for(household=household, year=YEAR, method="reinforce", grade="D").amount == Decimal("18000")


def test_the_highest_among_the_household_categories_wins_p21(household):
    """policy: P21 — a household in two target groups gets the better of the two groups' rates."""
    certify(household, "dibao", "tekun")
    rate("30000", grade="D", category="dibao")
    rate("40000", category="tekun")
    rate("50000", category="tufa")  # not the household's group
    rate("60000", method="rebuild", category="tekun")  # another method
    rate("70000", year=YEAR - 1, category="tekun")  # another year
    assert subsidy_for(household=household, year=YEAR, method="reinforce", grade="D").amount == Decimal("40000")


def test_a_category_no_longer_held_does_not_count_p21(household):
    certify(household, "tekun")
    rate("20000")
    rate("40000", category="tekun")
    household.categories.update(ended_on=TODAY)
    assert subsidy_for(household=household, year=YEAR, method="reinforce", grade="C").amount == Decimal("20000")


def test_no_rate_no_subsidy_p21(household):
    rate("20000", method="rebuild")
    with pytest.raises(DomainError) as exc:
        subsidy_for(household=household, year=YEAR, method="reinforce", grade="C")
    assert exc.value.errors["method"] == f"尚未配置{YEAR}年「加固改造」的补助标准，请市级先在补助标准中设置"


def test_the_plan_stores_the_amount_of_its_day_p21(case, manager):
    """policy: P21 — the subsidy is fixed when the case enters the plan; a later change of the rate is not
    applied to cases already planned."""
    certify(case.household, "dibao")
    rate("20000")
    chosen = rate("26000", grade="C", category="dibao")
    renovation.renovation_apply(actor=manager, case=case, applied_on=TODAY, consent_on=TODAY, consent_by="户主")
    renovation.case_plan(actor=manager, case=case, method="reinforce", planned_on=TODAY)
    admin = factories.user("city_admin", "610800000000", "admin")
    subsidy_rate_set(actor=admin, year=YEAR, method="reinforce", grade="C", category_code="dibao", amount="30000")
    stored = Renovation.objects.get(case=case)
    assert stored.subsidy_rate == chosen and stored.subsidy_amount == Decimal("26000.00")
