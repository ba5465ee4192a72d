"""The disaster rules at their boundaries (P9, P23), evaluated by the real policy engine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from anju.disasters import services
from anju.policy.models import Alert, AlertStatus
from anju.policy.rules import Context, rule_get
from anju.policy.services import alerts_refresh
from anju.testing import factories

from . import world

pytestmark = pytest.mark.django_db

PLAN, RESETTLE, APPRAISE = "P9.plan_missing", "P9.resettlement_missing", "P23.damage_not_appraised"
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


def found(rule_id: str, today: dt.date, household_ids=None) -> list:
    return list(rule_get(rule_id).evaluate(Context(today=today, household_ids=household_ids)))


# -- P9.plan_missing ------------------------------------------------------------------------------------------


def test_plan_missing_from_15_days_before_the_flood_season(house):
    """P9: the flood season starts 1 June: nothing on 16 May, the alert from 17 May (15 days before)."""
    assert found(PLAN, dt.date(2026, 5, 16)) == []
    findings = found(PLAN, dt.date(2026, 5, 17))
    assert [(f.object_type, f.object_id, f.division_code, f.reason, f.due_on) for f in findings] == [
        ("disasters.plan_due", int(factories.YUYANG), factories.YUYANG, "flood", dt.date(2026, 5, 17))
    ]
    assert "2026年汛期" in findings[0].message


def test_plan_missing_only_for_counties_with_households(house):
    """Counties that keep no households in anju (神木 here) are not flagged."""
    codes = {f.division_code for f in found(PLAN, dt.date(2026, 7, 1))}
    assert codes == {factories.YUYANG}


def test_plan_filed_clears_the_alert_and_the_freeze_thaw_plan_is_that_of_its_start_year(house):
    manager = world.county_manager(factories.YUYANG)
    services.plan_file(
        actor=manager, county_code=factories.YUYANG, season="freeze", year=TODAY.year - 1, title="冻融期应急预案",
        filed_on=TODAY, document=world.pdf(),
    )  # fmt: skip
    # on 1 February of this year the run started last November: last year's plan covers it
    assert found(PLAN, dt.date(TODAY.year, 2, 1)) == []
    # from 31 October (15 days before 15 November) this year's plan is due
    assert found(PLAN, dt.date(TODAY.year, 10, 30)) == []
    assert [f.reason for f in found(PLAN, dt.date(TODAY.year, 10, 31))] == ["freeze"]


def test_a_county_window_moves_the_boundary(house):
    services.season_window_set(
        actor=world.county_manager(factories.YUYANG), county_code=factories.YUYANG, season="flood", start_month=7,
        start_day=1, end_month=8, end_day=31,
    )  # fmt: skip
    assert found(PLAN, dt.date(2026, 6, 15)) == []
    assert [f.due_on for f in found(PLAN, dt.date(2026, 6, 16))] == [dt.date(2026, 6, 16)]


def test_plan_missing_is_not_evaluated_by_an_incremental_refresh(house):
    assert found(PLAN, dt.date(2026, 7, 1), frozenset([house.household_id])) == []


# -- P9.resettlement_missing ----------------------------------------------------------------------------------


def test_resettlement_missing_after_one_day(house):
    """Reported on day D needing resettlement: nothing on D + 1, the alert on D + 2; a place recorded clears it."""
    day = TODAY - dt.timedelta(days=5)
    report = world.report(house, world.event(), level="moderate", reported_on=day)
    assert found(RESETTLE, day + dt.timedelta(days=1)) == []
    findings = found(RESETTLE, day + dt.timedelta(days=2))
    assert [(f.object_id, f.household_id, f.due_on) for f in findings] == [
        (report.pk, house.household_id, day + dt.timedelta(days=1))
    ]
    services.resettlement_record(
        actor=world.reporter(house.division), report=report, method="tent", place="村小学操场", since=day
    )
    assert found(RESETTLE, day + dt.timedelta(days=2)) == []


def test_no_resettlement_needed_no_alert(house):
    day = TODAY - dt.timedelta(days=5)
    world.report(house, world.event(), level="moderate", needs_resettlement=False, reported_on=day)
    assert found(RESETTLE, TODAY) == []


# -- P23.damage_not_appraised ---------------------------------------------------------------------------------


def test_serious_damage_not_appraised_after_seven_days(house):
    """Reported on day D as collapsed: nothing on D + 7, the alert on D + 8; an appraisal since the report clears
    it, an appraisal from before the report does not."""
    day = TODAY - dt.timedelta(days=10)
    report = world.report(house, world.event(started_on=day - dt.timedelta(days=1)), level="collapsed",
                          reported_on=day)  # fmt: skip
    assert found(APPRAISE, day + dt.timedelta(days=7)) == []
    findings = found(APPRAISE, day + dt.timedelta(days=8))
    assert [(f.object_id, f.due_on) for f in findings] == [(report.pk, day + dt.timedelta(days=7))]
    world.appraise(report, "D", on=day + dt.timedelta(days=3))
    assert found(APPRAISE, day + dt.timedelta(days=8)) == []


def test_an_appraisal_before_the_report_does_not_count(house):
    from anju.testing import appraisals

    day = TODAY - dt.timedelta(days=10)
    appraisals.appraisal(house, appraised_on=day - dt.timedelta(days=1))
    world.report(house, world.event(started_on=day - dt.timedelta(days=2)), level="severe", reported_on=day)
    assert len(found(APPRAISE, day + dt.timedelta(days=8))) == 1


def test_minor_damage_is_not_flagged(house):
    day = TODAY - dt.timedelta(days=10)
    world.report(house, world.event(started_on=day), level="moderate", needs_resettlement=False, reported_on=day)
    assert found(APPRAISE, TODAY) == []


def test_refresh_opens_and_resolves_the_alerts(house):
    day = TODAY - dt.timedelta(days=10)
    report = world.report(house, world.event(started_on=day), level="severe", reported_on=day)
    alerts_refresh(rule_ids=[RESETTLE, APPRAISE])
    open_alerts = Alert.objects.filter(status=AlertStatus.OPEN, object_type="disasters.damagereport")
    assert set(open_alerts.values_list("rule_id", flat=True)) == {RESETTLE, APPRAISE}
    assert set(open_alerts.values_list("division_id", flat=True)) == {house.division_id}
    services.resettlement_record(
        actor=world.reporter(house.division), report=report, method="central", place="镇中学", since=TODAY
    )  # the service refreshes the household's alerts when it commits
    alerts_refresh(household_ids=[house.household_id], rule_ids=[RESETTLE])
    assert not Alert.objects.filter(rule_id=RESETTLE, status=AlertStatus.OPEN).exists()
