"""P24: the annual county assessment from the system's own figures — each measure against a world built through the
real services, the weighted score, who sees which rows, a query count that does not grow with households, and
the workbook read back."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from python_calamine import CalamineWorkbook

from anju.accounts.models import User
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import CaseState, Craftsman
from anju.complaints.models import ComplaintState
from anju.complaints.tests import world as complaints
from anju.inspections.models import Campaign
from anju.testing import campaigns, cases, factories
from anju.training.models import Attendance
from anju.training.selectors import TRAINED_ROLES

from .. import selectors, services
from ..models import AssessmentWeights
from . import world

pytestmark = pytest.mark.django_db

YEAR = 2025  # a past year: figures are taken on 31 December
YUYANG, SHENMU = factories.YUYANG, factories.SHENMU


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


def trained_expected(county: str) -> tuple[int, int]:
    """P17 coverage counted here row by row in Python, independently of the grouped queries."""
    wanted = {str(r) for r in TRAINED_ROLES}
    people = [
        u for u in User.objects.filter(is_active=True)
        if (u.division_id or "").startswith(county[:6]) and wanted & set(u.roles)
    ]  # fmt: skip
    trained = [
        u for u in people
        if Attendance.objects.filter(user=u, signed_in=True, session__held_on__year=YEAR).exists()
    ]  # fmt: skip
    craftsmen = [c for c in Craftsman.objects.filter(is_active=True) if c.division_id.startswith(county[:6])]
    trained_c = [
        c for c in craftsmen
        if Attendance.objects.filter(craftsman=c, signed_in=True, session__held_on__year=YEAR).exists()
    ]  # fmt: skip
    return len(trained) + len(trained_c), len(people) + len(craftsmen)


@pytest.fixture
def figures(village):
    """榆阳: 4 households, 3 checked in the annual check; 2 cases due 30 Nov, 1 completed; 2 complaints, 1 replied;
    2 findings due 17 June, 1 rectified in time. 神木: 2 households, nothing checked."""
    campaign = campaigns.campaign(YUYANG, year=YEAR)
    households = [factories.household(village) for _ in range(4)]
    for household in households[:3]:
        campaigns.check(campaign, household, checked_on=dt.date(YEAR, 4, 1))
    done, late = (
        cases.dangerous_case(factories.house(factories.household(village)), appraised_on=dt.date(YEAR, 3, 1))
        for _ in range(2)
    )
    assert late.due_on == dt.date(YEAR, 11, 30)
    cases.advance(done, CaseState.COMPLETED)
    replied = complaints.complaint(village, received_on=dt.date(YEAR, 3, 1))
    complaints.advance(replied, ComplaintState.REPLIED, on=dt.date(YEAR, 3, 2))
    complaints.complaint(village, received_on=dt.date(YEAR, 3, 1))
    visit = world.visit(YUYANG, starts_on=dt.date(YEAR, 6, 9), ends_on=dt.date(YEAR, 6, 10))
    world.rectify(world.finding(visit, village), done_on=dt.date(YEAR, 6, 17))
    world.finding(visit, village)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    factories.household(shenmu), factories.household(shenmu)
    return village


def row_of(data: dict, county: str) -> selectors.AssessmentRow:
    return next(r for r in data["rows"] if r.code == county)


def test_each_measure_counts_what_its_formula_says(figures):
    data = selectors.assessment(world.supervisor(), YEAR)
    assert data["as_of"] == dt.date(YEAR, 12, 31)
    yuyang = row_of(data, YUYANG)
    got = {k: (f.numerator, f.denominator, f.rate) for k, f in yuyang.figures.items()}
    assert got["check_coverage"] == (3, 6, 50.0)  # 4 households + the 2 of the cases
    assert got["cases_on_time"] == (1, 2, 50.0)
    assert got["complaints_on_time"] == (1, 2, 50.0)
    assert got["findings_on_time"] == (1, 2, 50.0)
    trained, total = trained_expected(YUYANG)
    assert got["training_coverage"][:2] == (trained, total) and total > 0
    shenmu = row_of(data, SHENMU)
    assert (shenmu.figures["check_coverage"].numerator, shenmu.figures["check_coverage"].denominator) == (0, 2)
    assert shenmu.figures["cases_on_time"].rate is None  # nothing due: not counted in the score


def test_this_years_figures_are_taken_today_so_a_deadline_not_yet_passed_is_not_due(figures):
    data = selectors.assessment(world.supervisor(), YEAR, today=dt.date(YEAR, 11, 30))
    assert data["as_of"] == dt.date(YEAR, 11, 30)
    assert row_of(data, YUYANG).figures["cases_on_time"].denominator == 0  # due 30 Nov: late from 1 Dec (P19)


def test_score_is_the_weighted_mean_of_the_measures_with_data(figures):
    services.weights_set(
        actor=world.supervisor(), year=YEAR, check_coverage=40, cases_on_time=30, complaints_on_time=10,
        findings_on_time=20, training_coverage=0,
    )  # fmt: skip
    data = selectors.assessment(world.supervisor(), YEAR)
    assert data["weights_row"] == AssessmentWeights.objects.get(year=YEAR)
    assert row_of(data, YUYANG).score == 50.0  # every weighted measure at 50 %
    assert row_of(data, SHENMU).score == 0.0  # only the check coverage has data: 0 %
    assert (
        selectors.score_of(
            {"a": selectors.Figure(1, 1), "b": selectors.Figure(0, 1), "c": selectors.Figure()},
            {"a": 3, "b": 1, "c": 5},
        )
        == 75.0
    )


def test_weights_of_an_earlier_year_carry_over_and_defaults_apply_before_any():
    assert selectors.weights_for(YEAR) == (selectors.DEFAULT_WEIGHTS, None)
    services.weights_set(
        actor=world.supervisor(), year=YEAR - 1, check_coverage=1, cases_on_time=1, complaints_on_time=1,
        findings_on_time=1, training_coverage=1,
    )  # fmt: skip
    assert selectors.weights_for(YEAR)[0] == dict.fromkeys(selectors.DEFAULT_WEIGHTS, 1)


def test_a_county_sees_its_own_row_a_town_none_the_city_every_county(figures):
    county = world.county_manager(YUYANG)
    assert [r.code for r in selectors.assessment(county, YEAR)["rows"]] == [YUYANG]
    town = factories.user("town_x", factories.YUYANG_TOWN, "town_staff")
    assert selectors.assessment(town, YEAR)["rows"] == []
    assert len(selectors.assessment(world.supervisor(), YEAR)["rows"]) == 12  # Yulin's twelve counties


def test_queries_do_not_grow_with_households(figures):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            selectors.assessment(world.supervisor(), YEAR)
        return len(ctx)

    before = count()
    campaign = Campaign.objects.get(kind="annual", year=YEAR)
    for _ in range(15):
        campaigns.check(campaign, factories.household(figures), checked_on=dt.date(YEAR, 4, 2))
    assert count() == before


def test_page_shows_figures_and_formulas(client, figures):
    client.force_login(world.supervisor())
    response = client.get(reverse("supervision:assessment"), {"year": YEAR})
    assert response.status_code == 200
    html = response.content.decode()
    assert "本年度年度核查批次中有核查记录的农户数 ÷ 登记农户数" in html
    assert "综合得分 = Σ(权重 × 得分率) ÷ Σ(有数据指标的权重)" in html
    assert f'id="county-{YUYANG}"' in html and "3/6" in html


def test_workbook_has_the_table_and_the_formulas(client, figures):
    client.force_login(world.supervisor())
    response = client.get(reverse("supervision:assessment_export"), {"year": YEAR})
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheet_names == ["考核表", "说明"]
    rows = book.get_sheet_by_name("考核表").to_python()
    header = rows[1]
    yuyang = next(r for r in rows[2:] if r[0] == YUYANG)
    assert yuyang[1] == "榆阳区"
    assert yuyang[header.index("年度核查覆盖率·已核查户数")] == 3
    assert yuyang[header.index("年度核查覆盖率·农户数")] == 6
    assert yuyang[header.index("年度核查覆盖率（%）")] == 50.0
    notes = [r for r in book.get_sheet_by_name("说明").to_python() if r[0]]
    assert any(r[0].startswith("台账按期完成率") and "逾期未完成台账数" in r[1] for r in notes)
    assert any(r[0] == "综合得分" and "Σ" in r[1] for r in notes)
    assert Event.objects.filter(action=Action.ASSESSMENT_EXPORTED).count() == 1
