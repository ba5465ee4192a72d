"""Shared builders for the ledger service tests: a 榆阳 village with a household and its cave dwelling, the people
who act on its case, and cases at the points where the guards bite (P2, P19–P22)."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.cases.models import Case, CaseSource
from anju.cases.services import cases as case_services
from anju.inspections.services import appraisals as appraisal_services
from anju.registry.models import House
from anju.testing import appraisals, cases, factories

TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def house(village):
    return factories.house(factories.household(village))


@pytest.fixture
def case(house):
    """Appraised C today: a dangerous case in 已鉴定 with its P19 deadline."""
    return cases.dangerous_case(house)


@pytest.fixture
def manager(case):
    """The 榆阳 county manager (cases.manage)."""
    return cases.manager(case)


@pytest.fixture
def shenmu_manager():
    return factories.user("shenmu_mgr", factories.SHENMU, "county_manager")


@pytest.fixture
def village_staff(village):
    return factories.user("village_staff_1", village.code, "village_staff")


def registered(house: House, **values) -> Case:
    """A case opened by hand (not by an appraisal): 登记, waiting to be appraised."""
    data = {"source": CaseSource.SUSPECTED, "description": "墙体开裂"} | values
    return case_services.case_open(
        actor=appraisals.county_manager(house), household=house.household, house=house, **data
    )


def appraise_request(case: Case, grade: str = "A", on: dt.date | None = None) -> Case:
    """Request the appraisal of the case's house, assign the county's appraiser and record `grade`
    (A: every component a; C: one component c; D: a dangerous site)."""
    actor = appraisals.county_manager(case.house)
    case = case_services.case_request_appraisal(actor=actor, case=case)
    appraiser = factories.trained(appraisals.appraiser_for(case.house))
    request = appraisal_services.request_assign(actor=actor, request=case.appraisal_request, appraiser=appraiser)
    components = {next(iter(appraisals.all_a(case.house))): grade.lower()} if grade in ("B", "C") else {}
    appraisals.appraisal(
        case.house,
        appraiser,
        request=request,
        components=components,
        site_dangerous=grade == "D",
        appraised_on=on or TODAY,
    )
    return Case.objects.get(pk=case.pk)


def safe_case(house: House) -> Case:
    """A case whose house was appraised A: 已鉴定, not dangerous, closable as safe once signed (P2)."""
    return appraise_request(registered(house), "A")
