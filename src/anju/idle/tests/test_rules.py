"""P11 alerts at their boundaries: a monthly visit missed on day 31 (not day 30), not secured on day 8 (not day 7),
someone found living there (critical) until a later visit finds the house empty; ended listings raise nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.idle import services
from anju.idle.models import IdleHouse
from anju.idle.selectors import IdleFilters, idle_filter
from anju.policy.models import Alert, AlertStatus
from anju.policy.rules import Context, rule_get
from anju.policy.services import alerts_refresh
from anju.testing import factories

from .builders import LISTED, listing, png

pytestmark = pytest.mark.django_db

MISSED, UNSECURED, OCCUPIED = "P11.visit_missed", "P11.not_secured", "P11.occupied"


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def officer(village):
    return factories.user("idle_rule_officer", village.code, "village_staff")


def found(rule_id: str, today: dt.date, idle: IdleHouse) -> list:
    return list(rule_get(rule_id).evaluate(Context(today=today, household_ids=frozenset([idle.household_id]))))


def listed_by_filter(problem: str, today: dt.date) -> set[int]:
    return set(idle_filter(IdleHouse.objects.all(), IdleFilters(problem=problem), today).values_list("pk", flat=True))


def test_p11_monthly_visit_due_day_30_missed_day_31_after_listing(village):
    idle = listing(village)  # listed 1 March, monthly
    day_30, day_31 = LISTED + dt.timedelta(days=30), LISTED + dt.timedelta(days=31)
    assert found(MISSED, day_30, idle) == []
    [finding] = found(MISSED, day_31, idle)
    assert (finding.object_type, finding.object_id, finding.due_on) == ("idle.idlehouse", idle.pk, day_30)
    assert "已逾期1天" in finding.message and "列入后未巡查" in finding.message
    assert listed_by_filter("visit_missed", day_30) == set() and listed_by_filter("visit_missed", day_31) == {idle.pk}


def test_p11_monthly_visit_counts_from_the_last_visit(village, officer):
    idle = listing(village)
    visit_day = dt.date(2025, 3, 20)
    services.idle_visit(actor=officer, idle=idle, visited_on=visit_day, result="empty")
    assert found(MISSED, LISTED + dt.timedelta(days=31), idle) == []  # the visit reset the clock
    assert found(MISSED, visit_day + dt.timedelta(days=30), idle) == []
    [finding] = found(MISSED, visit_day + dt.timedelta(days=31), idle)
    assert "2025-03-20" in finding.message


def test_p11_not_secured_after_seven_days(village, officer):
    idle = listing(village)
    day_7, day_8 = LISTED + dt.timedelta(days=7), LISTED + dt.timedelta(days=8)
    assert found(UNSECURED, day_7, idle) == []
    [finding] = found(UNSECURED, day_8, idle)
    assert "封存、张贴警示标识" in finding.message and finding.due_on == day_7
    services.idle_secure(actor=officer, idle=idle, sealed_on=dt.date(2025, 3, 5), sealed_by="村主任")
    [finding] = found(UNSECURED, day_8, idle)  # sealed but no sign yet
    assert "张贴警示标识" in finding.message and "封存、" not in finding.message


def test_p11_secured_house_raises_nothing(village, officer, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    idle = listing(village)
    services.idle_secure(
        actor=officer,
        idle=idle,
        sealed_on=dt.date(2025, 3, 5),
        sealed_by="村主任",
        sign_posted_on=dt.date(2025, 3, 5),
        sign_photo=png(),
    )
    assert found(UNSECURED, dt.date(2025, 6, 1), idle) == []


def test_p11_occupied_is_critical_until_an_empty_visit(village, officer):
    idle = listing(village)
    services.idle_visit(
        actor=officer, idle=idle, visited_on=dt.date(2025, 3, 10), result="occupied", action_taken="劝离，报告镇政府"
    )
    [finding] = found(OCCUPIED, dt.date(2025, 3, 10), idle)
    assert rule_get(OCCUPIED).severity == "critical" and "有人居住" in finding.message
    services.idle_visit(actor=officer, idle=idle, visited_on=dt.date(2025, 3, 12), result="empty")
    assert found(OCCUPIED, dt.date(2025, 3, 12), idle) == []
    # a collapse is an incident but not an occupation
    services.idle_visit(
        actor=officer, idle=idle, visited_on=dt.date(2025, 3, 14), result="collapsed", action_taken="设置围挡"
    )
    assert found(OCCUPIED, dt.date(2025, 3, 14), idle) == []


def test_p11_ended_listing_raises_nothing(village, officer):
    idle = listing(village)
    services.idle_visit(
        actor=officer, idle=idle, visited_on=dt.date(2025, 3, 10), result="occupied", action_taken="劝离"
    )
    services.idle_end(actor=officer, idle=idle, ended_on=dt.date(2025, 3, 11), reason="demolished")
    later = dt.date(2025, 12, 1)
    assert found(MISSED, later, idle) == found(UNSECURED, later, idle) == found(OCCUPIED, later, idle) == []


def test_p11_alerts_through_the_engine_and_incremental_refresh(village, officer, django_capture_on_commit_callbacks):
    """A full refresh opens the alerts; a visit recorded through the service resolves the occupation at commit.
    (In a test nothing commits: the setup runs inside a capture too, so the visit under test gets its own.)"""
    with django_capture_on_commit_callbacks(execute=True):
        idle = listing(village)
        services.idle_visit(
            actor=officer, idle=idle, visited_on=dt.date(2025, 3, 10), result="occupied", action_taken="劝离"
        )
    alerts_refresh(today=dt.date(2025, 5, 1))
    alerts = Alert.objects.filter(status=AlertStatus.OPEN, object_type="idle.idlehouse", object_id=idle.pk)
    assert set(alerts.values_list("rule_id", flat=True)) == {MISSED, UNSECURED, OCCUPIED}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.idle_visit(actor=officer, idle=idle, visited_on=dt.date(2025, 3, 12), result="empty")
    assert len(callbacks) == 1
    assert not alerts.filter(rule_id=OCCUPIED).exists()
