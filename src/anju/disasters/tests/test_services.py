"""The disaster services through the real database (P9, P23): seasons, plans, events, damage reported at once,
appraisal through inspections (C/D → a ledger case with source 灾害), resettlement, coordination."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseSource
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.disasters import services
from anju.disasters.models import DamagePhoto, Resettlement, SeasonWindow
from anju.inspections.models import AppraisalRequest, RequestSource
from anju.registry.models import House
from anju.testing import appraisals, factories

from . import world

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def house(village):
    return factories.house(factories.household(village))


# -- seasons (P9) ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (dt.date(2026, 5, 1), dt.date(2026, 6, 1), dt.date(2026, 9, 30)),  # next run
        (dt.date(2026, 9, 30), dt.date(2026, 6, 1), dt.date(2026, 9, 30)),  # last day
        (dt.date(2026, 10, 1), dt.date(2027, 6, 1), dt.date(2027, 9, 30)),
    ],
)
def test_flood_season_runs(today, start, end):
    assert services.season_occurrence((6, 1, 9, 30), today) == (start, end)


def test_freeze_thaw_runs_into_the_next_year_and_belongs_to_its_start_year():
    window = (11, 15, 3, 15)
    assert services.season_occurrence(window, dt.date(2027, 2, 1)) == (dt.date(2026, 11, 15), dt.date(2027, 3, 15))
    assert services.season_occurrence(window, dt.date(2027, 3, 16)) == (dt.date(2027, 11, 15), dt.date(2028, 3, 15))


def test_a_county_sets_its_own_season_and_only_its_own():
    manager = world.county_manager(factories.YUYANG)
    window = services.season_window_set(
        actor=manager, county_code=factories.YUYANG, season="flood", start_month=5, start_day=15, end_month=9,
        end_day=30,
    )  # fmt: skip
    assert (window.start_month, window.start_day) == (5, 15)
    assert Event.objects.filter(action=Action.SEASON_WINDOW_SET, object_id=str(window.pk)).count() == 1
    with pytest.raises(ScopeError):
        services.season_window_set(
            actor=manager, county_code=factories.SHENMU, season="flood", start_month=5, start_day=15, end_month=9,
            end_day=30,
        )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        services.season_window_set(
            actor=manager, county_code=factories.YUYANG, season="flood", start_month=2, start_day=30, end_month=9,
            end_day=30,
        )  # fmt: skip
    assert "start_day" in refused.value.errors
    assert SeasonWindow.objects.count() == 1


# -- plans (P9) -----------------------------------------------------------------------------------------------


def test_plan_filed_once_per_county_season_year():
    manager = world.county_manager(factories.YUYANG)
    plan = services.plan_file(
        actor=manager, county_code=factories.YUYANG, season="flood", year=TODAY.year, title="汛期农房安全应急预案",
        filed_on=TODAY, document=world.pdf(),
    )  # fmt: skip
    assert plan.document.read() == b"%PDF-1.4 emergency plan"
    with pytest.raises(ConflictError):
        services.plan_file(
            actor=manager, county_code=factories.YUYANG, season="flood", year=TODAY.year, title="重复",
            filed_on=TODAY, document=world.pdf(),
        )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        services.plan_file(
            actor=manager, county_code=factories.YUYANG, season="freeze", year=TODAY.year, title="冻融期预案",
            filed_on=TODAY, document=world.pdf("plan.exe"),
        )  # fmt: skip
    assert "document" in refused.value.errors


def test_village_staff_cannot_file_a_plan(village):
    with pytest.raises(PermissionDenied):
        services.plan_file(
            actor=world.reporter(village), county_code=factories.YUYANG, season="flood", year=TODAY.year,
            title="预案", filed_on=TODAY, document=world.pdf(),
        )  # fmt: skip


# -- events ---------------------------------------------------------------------------------------------------


def test_event_affected_divisions_must_lie_in_the_county():
    manager = world.county_manager(factories.YUYANG)
    with pytest.raises(DomainError) as refused:
        services.event_declare(
            actor=manager, kind="flood", name="暴雨", started_on=TODAY, affected_codes=[factories.SHENMU_TOWN]
        )
    assert "affected_codes" in refused.value.errors
    event = services.event_declare(
        actor=manager, kind="flood", name="暴雨", started_on=TODAY, affected_codes=[factories.YUYANG_TOWN]
    )
    assert (event.division_id, event.affected_codes) == (factories.YUYANG, [factories.YUYANG_TOWN])
    updated = services.event_update(actor=manager, event=event, ended_on=TODAY)
    assert updated.ended_on == TODAY
    assert Event.objects.filter(action=Action.DISASTER_CHANGED, object_id=str(event.pk)).count() == 1


# -- damage and appraisal (P9, P23) ---------------------------------------------------------------------------


def test_serious_damage_is_sent_to_appraisal_and_a_c_grade_opens_a_disaster_case(house):
    """P23: a severe report opens a request with source 灾后上报; the appraisal C opens a case with source 灾害.
    The report itself does not touch the house's grade (only the appraisal does)."""
    event = world.event()
    grade_before = house.grade
    report = world.report(house, event, level="severe", photos=[world.png()])
    house.refresh_from_db()
    assert house.grade == grade_before
    request = AppraisalRequest.objects.get(pk=report.appraisal_request_id)
    assert (request.source, request.house_id, request.reported_on) == (RequestSource.DISASTER, house.pk, TODAY)
    assert DamagePhoto.objects.filter(report=report).count() == 1
    assert Event.objects.filter(action=Action.DAMAGE_REPORTED, object_id=str(report.pk)).count() == 1
    world.appraise(report, "C")
    case = Case.objects.get(house=house)
    assert (case.source, case.grade) == (CaseSource.DISASTER, "C")
    assert House.objects.get(pk=house.pk).grade == "C"


def test_minor_damage_is_not_sent_until_asked(house):
    report = world.report(house, world.event(), level="minor", needs_resettlement=False)
    assert report.appraisal_request_id is None
    report = services.damage_request_appraisal(actor=world.reporter(house.division), report=report)
    assert report.appraisal_request.source == RequestSource.DISASTER
    with pytest.raises(ConflictError):
        services.damage_request_appraisal(actor=world.reporter(house.division), report=report)


def test_an_open_request_of_the_house_is_joined_not_doubled(house):
    existing = appraisals.request(house)
    report = world.report(house, world.event(), level="collapsed")
    assert report.appraisal_request_id == existing.pk
    assert AppraisalRequest.objects.filter(house=house).count() == 1


def test_one_report_per_house_and_event_and_only_in_the_affected_area(village, house):
    event = world.event(affected=[factories.YUYANG_TOWN_2])
    with pytest.raises(DomainError) as refused:
        world.report(house, event)
    assert "house" in refused.value.errors
    event = world.event()
    world.report(house, event, level="moderate")
    with pytest.raises(ConflictError):
        world.report(house, event, level="severe")


def test_village_staff_report_only_their_village(house):
    other = factories.house(factories.household(factories.village(factories.YUYANG_TOWN, 2)))
    with pytest.raises(ScopeError):
        services.damage_report(actor=world.reporter(house.division), event=world.event(), house=other, level="minor")


def test_a_report_of_another_county_event_is_refused(house):
    event = world.event(factories.SHENMU)
    with pytest.raises(ScopeError):
        world.report(house, event)


def test_resettlement_needs_a_confirmer_to_be_safe(house):
    report = world.report(house, world.event())
    actor = world.reporter(house.division)
    with pytest.raises(DomainError) as refused:
        services.resettlement_record(actor=actor, report=report, method="tent", place="村委会广场", since=TODAY,
                                     is_safe=True)  # fmt: skip
    assert "confirmed_by" in refused.value.errors
    done = services.resettlement_record(
        actor=actor, report=report, method="relatives", place="本村亲戚家", since=TODAY, is_safe=True,
        confirmed_by="村支书王某",
    )  # fmt: skip
    assert Resettlement.objects.get().pk == done.pk
    assert done.household_id == house.household_id


def test_coordination_note_by_the_county(house):
    event = world.event()
    note = services.note_record(
        actor=world.county_manager(factories.YUYANG), event=event, department="civil_affairs", noted_on=TODAY,
        content="民政局下拨临时救助资金",
    )  # fmt: skip
    assert note.division_id == factories.YUYANG
    with pytest.raises(PermissionDenied):
        services.note_record(actor=world.reporter(house.division), event=event, department="finance", noted_on=TODAY,
                             content="x")  # fmt: skip
