"""P3.finding_late and P16.plan_not_filed at their boundaries, through the real services and the alert refresh."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.divisions.models import Division, Level
from anju.policy.models import Alert, AlertStatus
from anju.policy.rules import Context, rule_get
from anju.policy.services import alerts_refresh
from anju.testing import factories

from .. import services
from . import world

pytestmark = pytest.mark.django_db

LATE, NOT_FILED = "P3.finding_late", "P16.plan_not_filed"
ENDED = dt.date(2025, 6, 10)  # the visit's last day: rectify by 17 June
YUYANG, SHENMU = factories.YUYANG, factories.SHENMU


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


def found(rule_id: str, today: dt.date, household_ids=None) -> list:
    ids = frozenset(household_ids) if household_ids is not None else None
    return list(rule_get(rule_id).evaluate(Context(today=today, household_ids=ids)))


def open_alerts(rule_id: str):
    return Alert.objects.filter(rule_id=rule_id, status=AlertStatus.OPEN)


# -- P3 ------------------------------------------------------------------------------------------------------------


def test_p3_day_7_after_the_end_is_on_time_day_8_is_late(village):
    item = world.finding(world.visit(YUYANG, starts_on=ENDED - dt.timedelta(days=2), ends_on=ENDED), village)
    assert item.due_on == dt.date(2025, 6, 17)
    assert found(LATE, dt.date(2025, 6, 17)) == []
    [late] = found(LATE, dt.date(2025, 6, 18))
    assert (late.object_type, late.object_id, late.division_code) == ("supervision.finding", item.pk, village.code)
    assert late.due_on == dt.date(2025, 6, 17)
    assert "已逾期1天" in late.message


def test_p3_accepted_in_time_raises_nothing_submitted_or_returned_still_late(village):
    visit = world.visit(YUYANG, starts_on=ENDED, ends_on=ENDED)
    accepted = world.rectify(world.finding(visit, village), done_on=dt.date(2025, 6, 17))
    submitted = world.rectify(world.finding(visit, village), accept=False)
    late_ids = {f.object_id for f in found(LATE, dt.date(2025, 6, 18))}
    assert accepted.pk not in late_ids and submitted.pk in late_ids  # submitted is not yet rectified (P3)


def test_p3_alert_is_raised_by_a_refresh_and_resolved_by_acceptance(village):
    household = factories.household(village)
    item = world.finding(world.visit(YUYANG, starts_on=ENDED, ends_on=ENDED), village, household=household)
    alerts_refresh(today=dt.date(2025, 6, 18), rule_ids=[LATE])
    alert = open_alerts(LATE).get()
    assert (alert.object_id, alert.household_id, alert.division_id) == (item.pk, household.pk, village.code)
    world.rectify(item)
    alerts_refresh(today=dt.date(2025, 6, 18), household_ids=[household.pk], rule_ids=[LATE])
    assert not open_alerts(LATE).exists()


def test_p3_incremental_refresh_sees_only_its_households(village):
    visit = world.visit(YUYANG, starts_on=ENDED, ends_on=ENDED)
    one, two = factories.household(village), factories.household(village)
    world.finding(visit, village, household=one)
    world.finding(visit, village, household=two)
    assert [f.household_id for f in found(LATE, dt.date(2025, 7, 1), [one.pk])] == [one.pk]


# -- P16 -----------------------------------------------------------------------------------------------------------


def counties() -> set[str]:
    return set(Division.objects.filter(level=Level.COUNTY, code__startswith="6108").values_list("code", flat=True))


def test_p16_deadline_day_is_not_late_the_next_day_is():
    plan_round = world.plan_round(deadline=dt.date(2025, 3, 31))
    assert found(NOT_FILED, dt.date(2025, 3, 31)) == []
    late = found(NOT_FILED, dt.date(2025, 4, 1))
    assert {f.division_code for f in late} == counties()
    assert all((f.object_type, f.object_id, f.reason) == ("supervision.planround", plan_round.pk, f.division_code)
               for f in late)  # fmt: skip


def test_p16_a_county_that_filed_is_not_late_one_returned_is_until_it_files_again():
    plan_round = world.plan_round(deadline=dt.date(2025, 3, 31))
    filing = world.filing(plan_round, YUYANG, filed_on=dt.date(2025, 3, 31))
    world.filing(plan_round, SHENMU, filed_on=dt.date(2025, 4, 2))  # late, but filed now
    late = {f.division_code for f in found(NOT_FILED, dt.date(2025, 4, 5))}
    assert late == counties() - {YUYANG, SHENMU}
    services.plan_review(actor=world.supervisor(), filing=filing, status="returned", note="请补充资金安排")
    returned = [f for f in found(NOT_FILED, dt.date(2025, 4, 5)) if f.division_code == YUYANG]
    assert len(returned) == 1 and "退回" in returned[0].message


def test_p16_alerts_through_the_refresh_one_per_county_and_a_moved_deadline_clears_them():
    plan_round = world.plan_round(deadline=dt.date(2025, 3, 31))
    alerts_refresh(today=dt.date(2025, 4, 1), rule_ids=[NOT_FILED])
    assert set(open_alerts(NOT_FILED).values_list("division_id", flat=True)) == counties()
    services.round_update(actor=world.supervisor(), plan_round=plan_round, deadline=dt.date(2025, 4, 30))
    alerts_refresh(today=dt.date(2025, 4, 1), rule_ids=[NOT_FILED])
    assert not open_alerts(NOT_FILED).exists()


def test_p16_incremental_refresh_leaves_it_alone():
    world.plan_round(deadline=dt.date(2025, 3, 31))
    assert found(NOT_FILED, dt.date(2025, 4, 1), household_ids=[1]) == []
