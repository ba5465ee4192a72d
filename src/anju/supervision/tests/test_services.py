"""The supervision services through the real database: P16 rounds and filings, P3 visits, findings and their
rectification (due one week after the visit ends), P24 interviews and the assessment weights."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseSource
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.testing import factories

from .. import services
from ..models import AssessmentWeights, FilingStatus, Finding, FindingState, PlanFiling, rectify_due
from . import world

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
YUYANG, SHENMU = factories.YUYANG, factories.SHENMU


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


def events(action: str) -> int:
    return Event.objects.filter(action=action).count()


# -- P3: the deadline is one week after the visit ends -------------------------------------------------------------


def test_p3_due_is_seven_days_after_the_visit_ends(village):
    visit = world.visit(YUYANG, starts_on=TODAY - dt.timedelta(days=3), ends_on=TODAY - dt.timedelta(days=1))
    item = world.finding(visit, village)
    assert item.due_on == TODAY + dt.timedelta(days=6) == rectify_due(visit.ends_on)
    assert item.state == FindingState.OPEN
    assert events(Action.VISIT_RECORDED) == 1 and events(Action.FINDING_RECORDED) == 1


def test_p3_moving_the_end_date_moves_open_findings_not_accepted_ones(village):
    visit = world.visit(YUYANG, starts_on=TODAY - dt.timedelta(days=20), ends_on=TODAY - dt.timedelta(days=20))
    open_one, done = world.finding(visit, village), world.rectify(world.finding(visit, village))
    services.visit_update(actor=world.supervisor(), visit=visit, ends_on=TODAY - dt.timedelta(days=10))
    assert Finding.objects.get(pk=open_one.pk).due_on == TODAY - dt.timedelta(days=3)
    assert Finding.objects.get(pk=done.pk).due_on == TODAY - dt.timedelta(days=13)


def test_visit_needs_a_county_dates_in_order_and_places_of_that_county():
    with pytest.raises(DomainError) as exc:
        services.visit_record(
            actor=world.supervisor(), county_code=YUYANG, starts_on=TODAY, ends_on=TODAY - dt.timedelta(days=1),
            places=[factories.SHENMU_TOWN], member_names="张三",
        )  # fmt: skip
    assert set(exc.value.errors) == {"ends_on", "places"}
    with pytest.raises(DomainError) as exc:
        services.visit_record(
            actor=world.supervisor(), county_code=factories.YUYANG_TOWN, starts_on=TODAY, ends_on=TODAY
        )
    assert "county" in exc.value.errors


def test_only_the_citys_teams_record_visits_and_findings(village):
    with pytest.raises(PermissionDenied):
        services.visit_record(
            actor=world.county_manager(YUYANG), county_code=YUYANG, starts_on=TODAY, ends_on=TODAY, member_names="甲"
        )
    visit = world.visit(YUYANG)
    with pytest.raises(PermissionDenied):
        services.finding_record(
            actor=world.county_manager(YUYANG), visit=visit, division_code=village.code, description="问题"
        )


def test_finding_must_concern_the_visited_county_and_its_household(village):
    visit = world.visit(YUYANG)
    other = factories.village(factories.SHENMU_TOWN, 1)
    with pytest.raises(DomainError) as exc:
        world.finding(visit, other)
    assert "division_code" in exc.value.errors
    stranger = factories.household(factories.village(factories.YUYANG_TOWN_2, 1))
    with pytest.raises(DomainError) as exc:
        world.finding(visit, village, household=stranger)
    assert "household" in exc.value.errors
    own = factories.household(village)
    assert world.finding(visit, "", household=own).division_id == village.code  # the household's village


def test_finding_cannot_be_fed_back_before_the_visit_or_in_the_future(village):
    visit = world.visit(YUYANG, starts_on=TODAY - dt.timedelta(days=2), ends_on=TODAY)
    for day in (TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=1)):
        with pytest.raises(DomainError) as exc:
            world.finding(visit, village, fed_back_on=day)
        assert "fed_back_on" in exc.value.errors


# -- P3 rectification ------------------------------------------------------------------------------------------------


def test_p3_rectify_accept_records_dates_and_on_time(village):
    visit = world.visit(YUYANG, starts_on=TODAY - dt.timedelta(days=9), ends_on=TODAY - dt.timedelta(days=8))
    item = world.rectify(world.finding(visit, village), done_on=TODAY - dt.timedelta(days=1))  # due yesterday
    assert item.state == FindingState.ACCEPTED
    assert (item.rectified_on, item.accepted_on) == (TODAY - dt.timedelta(days=1), TODAY)
    assert item.on_time
    late = world.rectify(world.finding(visit, village), done_on=TODAY)  # one day after the deadline
    assert late.state == FindingState.ACCEPTED and not late.on_time


def test_p3_returned_rectification_reopens_the_finding_and_a_second_one_is_accepted(village):
    item = world.finding(world.visit(YUYANG), village)
    item = world.rectify(item, accept=False)
    assert item.state == FindingState.SUBMITTED
    with pytest.raises(ConflictError):  # one rectification at a time
        world.rectify(item, accept=False)
    with pytest.raises(DomainError) as exc:
        services.rectification_review(actor=world.supervisor(), rectification=world.pending(item), verdict="returned")
    assert "note" in exc.value.errors
    item = services.rectification_review(
        actor=world.supervisor(), rectification=world.pending(item), verdict="returned", note="佐证不足"
    )
    assert item.state == FindingState.RETURNED
    item = world.rectify(item)
    assert item.state == FindingState.ACCEPTED and item.rectifications.count() == 2
    assert events(Action.RECTIFICATION_SUBMITTED) == 2 and events(Action.RECTIFICATION_REVIEWED) == 2


def test_rectification_by_another_county_or_a_supervisor_is_refused(village):
    item = world.finding(world.visit(YUYANG), village)
    with pytest.raises(ScopeError):
        services.rectification_submit(
            actor=world.county_manager(SHENMU), finding=item, done_on=TODAY, description="已整改"
        )
    with pytest.raises(PermissionDenied):
        services.rectification_submit(actor=world.supervisor(), finding=item, done_on=TODAY, description="已整改")


def test_rectification_evidence_is_a_document_or_photo(village):
    item = world.finding(world.visit(YUYANG), village)
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(DomainError) as exc:
        services.rectification_submit(
            actor=world.county_manager(YUYANG), finding=item, done_on=TODAY, description="已整改", evidence=bad
        )
    assert "evidence" in exc.value.errors
    rectification = services.rectification_submit(
        actor=world.county_manager(YUYANG), finding=item, done_on=TODAY, description="已整改",
        evidence=world.document("整改照片.pdf"),
    )  # fmt: skip
    assert rectification.evidence.name.endswith(".pdf")


def test_finding_about_a_dangerous_house_opens_a_ledger_case_once(village):
    house = factories.house(factories.household(village))
    item = world.finding(world.visit(YUYANG), village, household=house.household, description="房屋墙体严重开裂")
    case = services.finding_open_case(actor=world.county_manager(YUYANG), finding=item, house=house)
    assert (case.source, case.source_ref) == (CaseSource.SUPERVISION, f"督导问题#{item.pk}")
    assert case.description == "房屋墙体严重开裂"
    assert Finding.objects.get(pk=item.pk).case_id == case.pk
    with pytest.raises(ConflictError):
        services.finding_open_case(actor=world.county_manager(YUYANG), finding=Finding.objects.get(pk=item.pk))
    assert Case.objects.filter(source=CaseSource.SUPERVISION).count() == 1
    assert events(Action.FINDING_CASE_OPENED) == 1


def test_finding_without_a_household_opens_no_case(village):
    item = world.finding(world.visit(YUYANG), village)
    with pytest.raises(DomainError) as exc:
        services.finding_open_case(actor=world.county_manager(YUYANG), finding=item)
    assert "household" in exc.value.errors


# -- P16 -----------------------------------------------------------------------------------------------------------


def test_p16_round_is_set_by_the_city_with_its_own_deadline():
    plan_round = world.plan_round(deadline=dt.date(2026, 3, 15), year=2026)
    assert (plan_round.division_id, plan_round.deadline) == (world.CITY, dt.date(2026, 3, 15))
    with pytest.raises(ConflictError):
        world.plan_round(deadline=dt.date(2026, 3, 15), year=2026)
    admin_of_county = factories.user("county_admin", YUYANG, "admin")
    with pytest.raises(ScopeError):
        services.round_create(actor=admin_of_county, year=2026, title="另一批次", deadline=TODAY)
    services.round_update(actor=world.supervisor(), plan_round=plan_round, deadline=dt.date(2026, 4, 1))
    assert events(Action.PLAN_ROUND_CHANGED) == 1


def test_p16_county_files_once_city_returns_county_files_again():
    plan_round = world.plan_round()
    filing = world.filing(plan_round, YUYANG)
    assert filing.status == FilingStatus.FILED and filing.filed_by_name
    with pytest.raises(ConflictError):
        world.filing(plan_round, YUYANG)
    with pytest.raises(DomainError) as exc:
        services.plan_review(actor=world.supervisor(), filing=filing, status="returned")
    assert "note" in exc.value.errors
    services.plan_review(actor=world.supervisor(), filing=filing, status="returned", note="缺少资金保障措施")
    again = world.filing(plan_round, YUYANG)
    assert again.pk == filing.pk and again.status == FilingStatus.FILED and again.review_note == ""
    received = services.plan_review(actor=world.supervisor(), filing=again, status="received")
    assert received.status == FilingStatus.RECEIVED
    with pytest.raises(ConflictError):
        services.plan_review(actor=world.supervisor(), filing=received, status="returned", note="再退")
    assert PlanFiling.objects.count() == 1
    assert events(Action.PLAN_SUBMITTED) == 2 and events(Action.PLAN_REVIEWED) == 2


def test_p16_filing_needs_a_document_and_the_counties_own_code():
    plan_round = world.plan_round()
    with pytest.raises(DomainError) as exc:
        services.plan_submit(
            actor=world.county_manager(YUYANG), plan_round=plan_round, county_code=YUYANG, title="方案",
            filed_on=TODAY, document=SimpleUploadedFile("a.exe", b"MZ"),
        )  # fmt: skip
    assert "document" in exc.value.errors
    with pytest.raises(ScopeError):
        services.plan_submit(
            actor=world.county_manager(YUYANG), plan_round=plan_round, county_code=SHENMU, title="方案",
            filed_on=TODAY, document=world.document(),
        )  # fmt: skip


# -- P24 -----------------------------------------------------------------------------------------------------------


def test_p24_interview_cites_findings_of_that_county_only(village):
    own = world.finding(world.visit(YUYANG), village)
    foreign = world.finding(world.visit(SHENMU), factories.village(factories.SHENMU_TOWN, 1))
    data = {
        "county_code": YUYANG, "kind": "interview", "person": "榆阳区住建局局长", "held_on": TODAY,
        "reason": "督导问题逾期未整改", "conducted_by": "市住建局",
    }  # fmt: skip
    with pytest.raises(DomainError) as exc:
        services.measure_record(actor=world.supervisor(), findings=[own, foreign], **data)
    assert "findings" in exc.value.errors
    measure = services.measure_record(actor=world.supervisor(), findings=[own], **data)
    assert list(measure.findings.all()) == [own]
    with pytest.raises(PermissionDenied):
        services.measure_record(actor=world.county_manager(YUYANG), findings=[], **data)


def test_p24_weights_are_set_by_the_city_and_not_all_zero():
    zero = dict.fromkeys(services.WEIGHT_FIELDS, 0)
    with pytest.raises(DomainError):
        services.weights_set(actor=world.supervisor(), year=TODAY.year, **zero)
    with pytest.raises(PermissionDenied):
        services.weights_set(actor=world.county_manager(YUYANG), year=TODAY.year, **zero | {"check_coverage": 1})
    services.weights_set(
        actor=world.supervisor(), year=TODAY.year, **zero | {"check_coverage": 60, "cases_on_time": 40}
    )
    row = AssessmentWeights.objects.get(year=TODAY.year)
    assert (row.check_coverage, row.cases_on_time, row.training_coverage) == (60, 40, 0)
    assert events(Action.WEIGHTS_SET) == 1
