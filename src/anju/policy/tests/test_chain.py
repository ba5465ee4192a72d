"""Alerts name the person of the responsibility chain (P18): the household's, else the nearest named up the tree,
else — before a county fills in its chain — the nearest user with the level's role. And rule P18.unassigned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anju.divisions.models import Division
from anju.policy.models import Alert, AlertStatus
from anju.policy.responsibility import NOBODY, ResponsibilityMap
from anju.policy.rules import Context, rule_get
from anju.policy.services import alerts_reassign, alerts_refresh
from anju.policy.views import object_url
from anju.responsibility.tests.world import assign, person
from anju.testing import factories

from .builders import listed_household

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 5, 1)
UNASSIGNED = "P18.unassigned"


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def both_maps(code: str, household_id: int | None):
    """The same question to a full map and to a lazy (incremental) one: they must agree."""
    full = ResponsibilityMap().for_code(code, household_id)
    lazy = ResponsibilityMap(household_ids=[household_id] if household_id else ()).for_code(code, household_id)
    assert full == lazy
    return full.user_id


def test_nearest_named_person_wins_household_village_town_county_p18(village):
    """policy: P18 — 市包县、县包镇、镇包村户: the most specific named person answers."""
    household = factories.household(village)
    role_user = factories.user("cun", village.code, "village_staff")
    assert both_maps(village.code, household.pk) == role_user.pk  # nobody named: the nearest role user
    county = assign(division(factories.YUYANG), person(factories.YUYANG, "county_manager"))
    assert both_maps(village.code, household.pk) == county.person_id  # a named county person beats role users
    town = assign(division(factories.YUYANG_TOWN), person(factories.YUYANG_TOWN, "town_staff"))
    assert both_maps(village.code, household.pk) == town.person_id
    cun = assign(village, person(village.code))
    assert both_maps(village.code, household.pk) == cun.person_id
    own = assign(household, person(village.code))
    assert both_maps(village.code, household.pk) == own.person_id
    assert both_maps(village.code, None) == cun.person_id  # an object that is no household: the village's
    other = factories.household(village)
    assert both_maps(village.code, other.pk) == cun.person_id


def test_a_deactivated_person_is_skipped(village):
    town = assign(division(factories.YUYANG_TOWN), person(factories.YUYANG_TOWN, "town_staff"))
    cun = assign(village, person(village.code))
    cun.person.is_active = False
    cun.person.save()
    assert both_maps(village.code, None) == town.person_id


def test_nobody_anywhere_is_nobody():
    assert ResponsibilityMap().for_code(factories.SHENMU_TOWN) == NOBODY


def test_a_full_map_costs_two_queries_however_many_households_are_assigned(village):
    """The refresh runs over a million households: users once, assignments once, never a query per alert."""
    households = [factories.household(village) for _ in range(12)]
    officer = person(village.code, "town_staff")
    for household in households[:10]:
        assign(household, officer)
    with CaptureQueriesContext(connection) as ctx:
        people = ResponsibilityMap()
        answers = {h.pk: people.for_code(village.code, h.pk).user_id for h in households}
        people.for_code(factories.SHENMU_TOWN)
        village_person = people.for_code(village.code).user_id
    assert len(ctx) == 2
    assert village_person != officer.pk
    assert list(answers.values()) == [officer.pk] * 10 + [village_person] * 2


def test_an_incremental_map_costs_two_queries_per_new_division(village):
    household = factories.household(village)
    assign(household, person(village.code))
    with CaptureQueriesContext(connection) as ctx:
        people = ResponsibilityMap(household_ids=[household.pk])
        people.for_code(village.code, household.pk)
        people.for_code(village.code, household.pk)
    assert len(ctx) == 2


def test_refresh_names_the_chain_person_on_each_alert_p18(village):
    """policy: P18 — every alert names the responsible person from the chain."""
    assigned, plain = listed_household(village), listed_household(village)
    cun = assign(village, person(village.code, name="村包抓人"))
    own = assign(assigned, person(village.code, name="户包抓人"))
    alerts_refresh(today=DAY, household_ids=[assigned.pk, plain.pk])
    named = dict(Alert.objects.filter(status=AlertStatus.OPEN, rule_id="P7.monitoring").values_list(
        "household_id", "responsible_name"))  # fmt: skip
    assert named == {assigned.pk: own.person_name, plain.pk: cun.person_name}


def test_reassign_renames_only_the_open_alerts_under_the_division(village):
    here = listed_household(village)
    elsewhere = listed_household(factories.village(factories.YUYANG_TOWN_2, 1))
    before = Alert.objects.get(household=elsewhere).responsible_id
    officer = person(factories.YUYANG_TOWN, "town_staff")
    assign(village, officer)
    assert alerts_reassign(code=village.code) == 1
    assert Alert.objects.get(household=here).responsible == officer
    assert Alert.objects.get(household=elsewhere).responsible_id == before
    assert alerts_reassign(code=village.code) == 0  # nothing left to change


# -- P18.unassigned ---------------------------------------------------------------------------------------------


def findings(**context) -> dict[str, str]:
    rule = rule_get(UNASSIGNED)
    return {f.division_code: f.message for f in rule.evaluate(Context(today=DAY, **context))}


def test_unassigned_counts_divisions_with_households_and_no_person_p18(village):
    """policy: P18 — a county, town or village with households and nobody named raises; one without households
    (nobody to answer for) and one with a person do not."""
    factories.household(village)
    factories.household(village)
    factories.village(factories.YUYANG_TOWN, 2)  # no household
    found = findings()
    assert set(found) == {village.code, factories.YUYANG_TOWN, factories.YUYANG}
    assert found[village.code] == f"行政村（社区）「{village.name}」尚未指定包抓责任人（辖区内已登记农户2户）"
    assign(village, person(village.code))
    assert set(findings()) == {factories.YUYANG_TOWN, factories.YUYANG}
    assign(division(factories.YUYANG_TOWN), person(factories.YUYANG_TOWN, "town_staff"))
    assign(division(factories.YUYANG), person(factories.YUYANG, "county_manager"))
    assert findings() == {}


def test_unassigned_ended_person_raises_again_and_incremental_leaves_it_alone_p18(village):
    """policy: P18 — the boundary: an ended assignment is no person."""
    household = factories.household(village)
    row = assign(village, person(village.code))
    assert village.code not in findings()
    row.ended_at = row.started_at
    row.save()
    assert village.code in findings()
    assert findings(household_ids=frozenset({household.pk})) == {}


def test_unassigned_alerts_open_and_resolve_with_the_chain_p18(village):
    """policy: P18 — raised by a full refresh, resolved by the chain change (no full refresh needed)."""
    factories.household(village)
    town_user = factories.user("zhen", factories.YUYANG_TOWN, "town_staff")
    alerts_refresh(today=DAY)
    alert = Alert.objects.get(rule_id=UNASSIGNED, division_id=village.code, status=AlertStatus.OPEN)
    assert (alert.object_type, alert.object_id, alert.responsible) == ("divisions.division", int(village.code),
                                                                       town_user)  # fmt: skip
    assert object_url(alert) == reverse("responsibility:chain", kwargs={"pk": village.code})
    assign(village, town_user)
    alerts_reassign(code=village.code)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert Alert.objects.filter(rule_id=UNASSIGNED, status=AlertStatus.OPEN).count() == 2  # the town, the county
