"""Every rule: a case that raises its alert and one that does not, at the boundaries (P5, P7, P8)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from anju.inspections.models import Campaign, CampaignKind, RequestStatus
from anju.policy.models import Alert, AlertStatus
from anju.policy.rules import all_rules
from anju.policy.services import alerts_refresh
from anju.registry import services as registry
from anju.registry.models import GradeSource, HouseholdCategory, TargetCategory
from anju.testing import appraisals, campaigns, factories

pytestmark = pytest.mark.django_db

P5, P7, P8 = "P5.annual_check", "P7.monitoring", "P8.appraisal_overdue"


def open_alerts(rule_id: str, **filters):
    return Alert.objects.filter(rule_id=rule_id, status=AlertStatus.OPEN, **filters)


def refresh(today: dt.date, *rule_ids: str):
    return alerts_refresh(today=today, rule_ids=list(rule_ids) or None)


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def county():
    return factories.user("county_mgr", factories.YUYANG, "county_manager")


def grade(house, value: str, on: dt.date, actor=None):
    registry.house_grade(
        actor=actor or factories._system(house.division), house=house, grade=value, graded_on=on,
        source=GradeSource.MANUAL,
    )  # fmt: skip


def test_every_rule_cites_its_policy_id():
    rules = {r.id: r for r in all_rules()}
    assert {P5, P7, P8, "P19.case_late", "P19.case_due_soon", "P19.transitional_unsafe", "P18.unassigned"} <= set(rules)
    for rule in rules.values():
        assert rule.policy_ids and rule.id.split(".")[0] in rule.policy_ids
        assert rule.id.split(".")[0] in (rule.evaluate.__doc__ or ""), rule.id
        assert str(rule.title)


# -- P5 ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def annual_2026(village):
    """The city's 2026 annual check (1 March – 30 April): one household checked, one not."""
    campaign = campaigns.campaign("610800000000", year=2026)
    checked, late = factories.household(village), factories.household(village)
    campaigns.check(campaign, checked, checked_on=dt.date(2026, 4, 20))
    return campaign, checked, late


def test_p5_on_30_april_nothing_is_late(annual_2026):
    refresh(dt.date(2026, 4, 30), P5)
    assert not open_alerts(P5).exists()


def test_p5_on_1_may_the_unchecked_household_is_late(annual_2026):
    campaign, _checked, late = annual_2026
    refresh(dt.date(2026, 5, 1), P5)
    alert = open_alerts(P5).get()
    assert (alert.object_type, alert.object_id, alert.household_id) == ("registry.household", late.pk, late.pk)
    assert alert.due_on == dt.date(2026, 4, 30) == campaign.ends_on
    assert alert.message == "2026年度核查截止4月30日，该户尚未核查"
    assert alert.division_id == late.division_id
    assert alert.policy_ids == ["P5"] and alert.severity == "warning"


def test_p5_a_check_after_the_deadline_resolves_the_alert(annual_2026):
    campaign, _checked, late = annual_2026
    refresh(dt.date(2026, 5, 1), P5)
    campaigns.check(campaign, late, checked_on=dt.date(2026, 4, 30))
    refresh(dt.date(2026, 5, 2), P5)
    assert not open_alerts(P5).exists()
    assert Alert.objects.get(rule_id=P5).status == AlertStatus.RESOLVED


def test_p5_campaigns_over_a_year_old_are_history(annual_2026):
    refresh(dt.date(2027, 4, 30), P5)
    assert open_alerts(P5).count() == 1
    refresh(dt.date(2027, 5, 1), P5)
    assert not open_alerts(P5).exists()


def test_p5_only_annual_campaigns_and_only_their_subtree(village):
    campaigns.campaign(
        factories.YUYANG, CampaignKind.FLOOD, starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 6, 30)
    )
    campaigns.campaign(factories.SHENMU, year=2026)  # 神木's annual check: not this 榆阳 household's
    factories.household(village)
    refresh(dt.date(2026, 7, 1), P5)
    assert not open_alerts(P5).exists()


def test_p5_each_year_has_its_own_alert(village):
    """Late for 2025 until 30 April 2026 (a year on), then late for 2026: two alerts, never both open."""
    household = factories.household(village)
    last_year = campaigns.campaign("610800000000", year=2025)
    this_year = campaigns.campaign("610800000000", year=2026)
    refresh(dt.date(2026, 4, 30), P5)
    assert [a.reason for a in open_alerts(P5, household=household)] == [f"campaign:{last_year.pk}"]
    refresh(dt.date(2026, 5, 1), P5)
    assert [a.reason for a in open_alerts(P5, household=household)] == [f"campaign:{this_year.pk}"]
    assert Alert.objects.filter(rule_id=P5, status=AlertStatus.RESOLVED).count() == 1
    assert Campaign.objects.count() == 2


# -- P8 ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def house(village):
    return factories.house(factories.household(village), structure="earth_wood")


@override_settings(ANJU_APPRAISAL_DUE_DAYS=15)
def test_p8_day_15_after_the_report_is_not_overdue(house):
    request = appraisals.request(house, reported_on=dt.date(2026, 10, 1))
    assert request.due_on == dt.date(2026, 10, 16)
    refresh(dt.date(2026, 10, 16), P8)
    assert not open_alerts(P8).exists()


@override_settings(ANJU_APPRAISAL_DUE_DAYS=15)
def test_p8_day_16_after_the_report_is_overdue(house):
    request = appraisals.request(house, reported_on=dt.date(2026, 10, 1))
    refresh(dt.date(2026, 10, 17), P8)
    alert = open_alerts(P8).get()
    assert (alert.object_type, alert.object_id) == ("inspections.appraisalrequest", request.pk)
    assert alert.household_id == house.household_id
    assert alert.due_on == dt.date(2026, 10, 16)
    assert "2026-10-01上报" in alert.message and "2026-10-16前" in alert.message
    assert alert.severity == "critical" and alert.policy_ids == ["P8"]


@override_settings(ANJU_APPRAISAL_DUE_DAYS=15)
def test_p8_an_assigned_request_is_still_overdue_a_done_one_is_not(house, county):
    request = appraisals.request(house, reported_on=dt.date(2026, 10, 1))
    type(request).objects.filter(pk=request.pk).update(status=RequestStatus.ASSIGNED)
    refresh(dt.date(2026, 10, 20), P8)
    assert "已指派" in open_alerts(P8).get().message
    type(request).objects.filter(pk=request.pk).update(status=RequestStatus.DONE)
    refresh(dt.date(2026, 10, 20), P8)
    assert not open_alerts(P8).exists()


# -- P7 ---------------------------------------------------------------------------------------------------------


def reasons_of(household) -> dict[str, str]:
    return {a.reason: a.message for a in open_alerts(P7, household=household)}


def test_p7_target_category_names_the_categories(village):
    household = factories.household(village)
    low, edge = TargetCategory.objects.order_by("sort_order")[:2]
    actor = factories._system(village)
    registry.household_category_add(actor=actor, household=household, category=low, certified_on=None)
    registry.household_category_add(actor=actor, household=household, category=edge, certified_on=None)
    other = factories.household(village)
    refresh(dt.date(2026, 5, 1), P7)
    reasons = reasons_of(household)
    assert set(reasons) == {"category"}
    assert low.name in reasons["category"] and edge.name in reasons["category"]
    assert reasons_of(other) == {}
    alert = open_alerts(P7, household=household).get()
    assert (alert.object_type, alert.object_id, alert.severity) == ("registry.household", household.pk, "info")


def test_p7_an_ended_category_does_not_count(village):
    household = factories.household(village)
    category = TargetCategory.objects.order_by("sort_order").first()
    actor = factories._system(village)
    membership = registry.household_category_add(
        actor=actor, household=household, category=category, certified_on=dt.date(2020, 1, 1)
    )
    registry.household_category_end(actor=actor, membership=membership, ended_on=dt.date(2025, 1, 1))
    assert HouseholdCategory.objects.filter(household=household).count() == 1
    refresh(dt.date(2026, 5, 1), P7)
    assert reasons_of(household) == {}


@pytest.mark.parametrize(
    ("structure", "grade_value", "reason"),
    [
        ("earth_wood", "B", "grade_b_earth"),
        ("raw_earth", "B", "grade_b_earth"),
        ("earth_cave", "B", "grade_b_earth"),
        ("stone_cave", "B", "grade_b_earth"),
        ("brick_concrete", "B", "grade_b"),
        ("earth_wood", "A", None),
        ("earth_wood", "C", None),
        ("brick_concrete", "U", None),
    ],
)
def test_p7_b_grade_houses_earth_and_caves_first(village, structure, grade_value, reason):
    household = factories.household(village)
    house = factories.house(household, structure=structure)
    if grade_value != "U":
        grade(house, grade_value, dt.date(2025, 5, 14))
    refresh(dt.date(2026, 5, 1), P7)
    assert set(reasons_of(household)) == ({reason} if reason else set())


def test_p7_b_earth_wins_over_b_for_a_household_with_both(village):
    household = factories.household(village)
    for structure in ("brick_concrete", "earth_wood"):
        grade(factories.house(household, structure=structure), "B", dt.date(2025, 5, 14))
    refresh(dt.date(2026, 5, 1), P7)
    reasons = reasons_of(household)
    assert set(reasons) == {"grade_b_earth"}
    assert "砖混" in reasons["grade_b_earth"] and "土木" in reasons["grade_b_earth"]


def test_p7_reinforced_once_c_or_d_now_a_or_b(village):
    reinforced, still_c, never = (factories.household(village) for _ in range(3))
    house = factories.house(reinforced, structure="brick_concrete")
    grade(house, "C", dt.date(2021, 5, 14))
    grade(house, "A", dt.date(2023, 6, 1))
    grade(factories.house(still_c, structure="brick_concrete"), "C", dt.date(2021, 5, 14))
    grade(factories.house(never, structure="brick_concrete"), "A", dt.date(2021, 5, 14))
    refresh(dt.date(2026, 5, 1), P7)
    reasons = reasons_of(reinforced)
    assert set(reasons) == {"reinforced"}
    assert "2021-05-14" in reasons["reinforced"] and "C级" in reasons["reinforced"] and "A级" in reasons["reinforced"]
    assert reasons_of(still_c) == {} and reasons_of(never) == {}


def test_p7_reinforced_from_d_to_b_has_both_reasons(village):
    household = factories.household(village)
    house = factories.house(household, structure="earth_cave")
    grade(house, "D", dt.date(2021, 5, 14))
    grade(house, "B", dt.date(2023, 6, 1))
    refresh(dt.date(2026, 5, 1), P7)
    assert set(reasons_of(household)) == {"grade_b_earth", "reinforced"}


def test_p7_site_hazard_on_the_latest_check_only(village):
    flooded, cleared = factories.household(village), factories.household(village)
    flooded_house = factories.house(flooded)
    cleared_house = factories.house(cleared)
    spring = campaigns.campaign(factories.YUYANG, year=2026)
    flood = campaigns.campaign(
        factories.YUYANG, CampaignKind.FLOOD, starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 8, 31)
    )
    campaigns.check(
        spring, flooded, checked_on=dt.date(2026, 4, 10), findings=[{"house": flooded_house, "site_hazard": "flood"}]
    )
    hazard = [{"house": cleared_house, "site_hazard": "landslide"}]
    campaigns.check(spring, cleared, checked_on=dt.date(2026, 4, 10), findings=hazard)
    refresh(dt.date(2026, 4, 20), P7)
    assert set(reasons_of(cleared)) == {"site_hazard"}
    assert "滑坡" in reasons_of(cleared)["site_hazard"] and "2026-04-10" in reasons_of(cleared)["site_hazard"]
    campaigns.check(flood, cleared, checked_on=dt.date(2026, 7, 1), findings=[{"house": cleared_house}])
    refresh(dt.date(2026, 7, 2), P7)
    assert set(reasons_of(flooded)) == {"site_hazard"}
    assert "洪涝" in reasons_of(flooded)["site_hazard"]
    assert reasons_of(cleared) == {}


def test_p7_one_alert_per_reason_for_one_household(village):
    household = factories.household(village)
    category = TargetCategory.objects.order_by("sort_order").first()
    registry.household_category_add(
        actor=factories._system(village), household=household, category=category, certified_on=None
    )
    house = factories.house(household, structure="earth_wood")
    grade(house, "C", dt.date(2021, 5, 14))
    grade(house, "B", dt.date(2023, 5, 14))
    spring = campaigns.campaign(factories.YUYANG, year=2026)
    campaigns.check(
        spring, household, checked_on=dt.date(2026, 4, 10), findings=[{"house": house, "site_hazard": "subsidence"}]
    )
    refresh(dt.date(2026, 5, 1), P7)
    alerts = list(open_alerts(P7, household=household))
    assert sorted(a.reason for a in alerts) == ["category", "grade_b_earth", "reinforced", "site_hazard"]
    assert {(a.object_type, a.object_id) for a in alerts} == {("registry.household", household.pk)}
