"""Campaign progress on a small fixture whose numbers are worked out by hand (P5: coverage and late households)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from anju.divisions.models import Division
from anju.inspections import selectors
from anju.policy.models import Alert, AlertStatus
from anju.testing import campaigns as c
from anju.testing import factories

pytestmark = pytest.mark.django_db
CITY = "610800000000"


@pytest.fixture
def world():
    """榆阳 town 1: village 1 (3 households), village 2 (2); town 2: village 3 (4); 神木: 1 household.

    The 2025 annual check of 榆阳 (ended 30 April 2025): village 1 — one no danger, one suspected; village 2 — one
    needs repair; village 3 — one no danger, checked late on 10 May.
    """
    v1 = factories.village(factories.YUYANG_TOWN, 1)
    v2 = factories.village(factories.YUYANG_TOWN, 2)
    v3 = factories.village(factories.YUYANG_TOWN_2, 1)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    households = {
        "v1": [factories.household(v1) for _ in range(3)],
        "v2": [factories.household(v2) for _ in range(2)],
        "v3": [factories.household(v3) for _ in range(4)],
        "shenmu": [factories.household(shenmu)],
    }
    factories.house(households["v1"][1])
    campaign = c.campaign(factories.YUYANG, year=2025)
    c.check(campaign, households["v1"][0], checked_on=dt.date(2025, 3, 5))
    c.check(campaign, households["v1"][1], verdict="suspected", checked_on=dt.date(2025, 4, 30))
    c.check(campaign, households["v2"][0], verdict="needs_repair", checked_on=dt.date(2025, 4, 1))
    c.check(campaign, households["v3"][0], checked_on=dt.date(2025, 5, 10))
    county = factories.user("county", factories.YUYANG, "county_manager")
    town = factories.user("town", factories.YUYANG_TOWN, "town_staff")
    return {"campaign": campaign, "households": households, "county": county, "town": town, "villages": (v1, v2, v3)}


def rows(progress):
    return {child.code: row.as_dict() for child, row in progress["children"] if row.targets or row.checked}


def test_county_progress_per_town(world):
    progress = selectors.campaign_progress(actor=world["county"], campaign=world["campaign"])
    assert progress["division"].code == factories.YUYANG and progress["child_level"] == "town"
    assert progress["ended"] is True
    assert rows(progress) == {
        factories.YUYANG_TOWN: {
            "targets": 5, "checked": 3, "unchecked": 2, "no_danger": 1, "suspected": 1, "needs_repair": 1,
            "coverage": 60.0, "late": 2,
        },
        factories.YUYANG_TOWN_2: {
            "targets": 4, "checked": 1, "unchecked": 3, "no_danger": 1, "suspected": 0, "needs_repair": 0,
            "coverage": 25.0, "late": 3,
        },
    }  # fmt: skip
    assert progress["total"].as_dict() == {
        "targets": 9, "checked": 4, "unchecked": 5, "no_danger": 2, "suspected": 1, "needs_repair": 1,
        "coverage": 44.4, "late": 5,
    }  # fmt: skip
    towns = [child for child, _row in progress["children"]]
    assert all(t.parent_id == factories.YUYANG for t in towns)  # every town listed, empty ones too
    empty = [row for child, row in progress["children"] if child.code not in rows(progress)]
    assert empty and all(r.coverage is None and r.late == 0 for r in empty)


def test_a_town_user_sees_only_their_town_by_village(world):
    """A town user's progress of a county campaign starts at their town: villages, nothing of the sibling town."""
    progress = selectors.campaign_progress(actor=world["town"], campaign=world["campaign"])
    v1, v2, _v3 = world["villages"]
    assert progress["division"].code == factories.YUYANG_TOWN and progress["child_level"] == "village"
    got = rows(progress)
    assert set(got) == {v1.code, v2.code}
    assert (got[v1.code]["targets"], got[v1.code]["checked"], got[v1.code]["coverage"]) == (3, 2, 66.7)
    assert (got[v2.code]["checked"], got[v2.code]["late"]) == (1, 1)
    assert progress["total"].targets == 5
    with pytest.raises(Http404):
        selectors.progress_division(actor=world["town"], campaign=world["campaign"], code=factories.YUYANG_TOWN_2)
    with pytest.raises(Http404):
        selectors.progress_division(actor=world["town"], campaign=world["campaign"], code=factories.YUYANG)


def test_drill_down_to_a_town(world):
    town2 = Division.objects.get(code=factories.YUYANG_TOWN_2)
    progress = selectors.campaign_progress(actor=world["county"], campaign=world["campaign"], division=town2)
    assert rows(progress) == {world["villages"][2].code: progress["total"].as_dict()}
    assert progress["total"].targets == 4 and progress["total"].late == 3


def test_a_city_campaign_at_city_level(world):
    admin = factories.user("admin", CITY, "admin")
    campaign = c.campaign(CITY, year=2024)
    c.check(campaign, world["households"]["shenmu"][0], checked_on=dt.date(2024, 4, 1))
    got = rows(selectors.campaign_progress(actor=admin, campaign=campaign))
    assert (got[factories.YUYANG]["targets"], got[factories.YUYANG]["checked"]) == (9, 0)
    assert (got[factories.SHENMU]["targets"], got[factories.SHENMU]["coverage"]) == (1, 100.0)
    # the county user of 榆阳 sees the city's campaign from their county down
    progress = selectors.campaign_progress(actor=world["county"], campaign=campaign)
    assert progress["division"].code == factories.YUYANG and progress["total"].targets == 9


def test_nothing_is_late_before_the_end_date(world):
    """policy: P5 — late means unchecked after the campaign's end date, not before."""
    today = timezone.localdate()
    running = c.campaign(
        factories.YUYANG, "special", starts_on=today - dt.timedelta(days=10), ends_on=today + dt.timedelta(days=10)
    )
    c.check(running, world["households"]["v1"][0], checked_on=today)
    progress = selectors.campaign_progress(actor=world["county"], campaign=running)
    assert progress["ended"] is False
    assert progress["total"].as_dict()["unchecked"] == 8 and progress["total"].late == 0
    ends_today = c.campaign(factories.YUYANG, "flood", starts_on=today - dt.timedelta(days=10), ends_on=today)
    assert selectors.campaign_progress(actor=world["county"], campaign=ends_today)["total"].late == 0


def test_monitoring_campaign_counts_listed_households_only(world):
    """policy: P9 — a special check over the P7 list: targets are the households with an open P7 alert."""
    hh = world["households"]
    for household, status in (
        (hh["v1"][0], AlertStatus.OPEN),
        (hh["v3"][1], AlertStatus.OPEN),
        (hh["v2"][0], AlertStatus.RESOLVED),
    ):
        Alert.objects.create(
            rule_id=selectors.MONITORING_RULE, severity="info", object_type="registry.household",
            object_id=household.pk, household=household, division_id=household.division_id, message="监测对象",
            status=status, opened_at=timezone.now(),
        )  # fmt: skip
    campaign = c.campaign(factories.YUYANG, "flood", starts_on=dt.date(2025, 6, 1), target_set="monitoring")
    c.check(campaign, hh["v1"][0], checked_on=dt.date(2025, 6, 2))
    got = rows(selectors.campaign_progress(actor=world["county"], campaign=campaign))
    assert (got[factories.YUYANG_TOWN]["targets"], got[factories.YUYANG_TOWN]["checked"]) == (1, 1)
    assert (got[factories.YUYANG_TOWN_2]["targets"], got[factories.YUYANG_TOWN_2]["checked"]) == (1, 0)


def test_progress_is_three_queries(world, django_assert_num_queries):
    county_division = Division.objects.get(code=factories.YUYANG)
    county = world["county"]
    _ = county.division
    with django_assert_num_queries(3):
        selectors.campaign_progress(actor=county, campaign=world["campaign"], division=county_division)


def test_unchecked_list_agrees_with_the_progress(world):
    v1 = world["villages"][0]
    unchecked = selectors.campaign_unchecked_list(actor=world["county"], campaign=world["campaign"], division=v1)
    assert list(unchecked.values_list("pk", flat=True)) == [world["households"]["v1"][2].pk]
    town = Division.objects.get(code=factories.YUYANG)
    everyone = selectors.campaign_unchecked_list(actor=world["county"], campaign=world["campaign"], division=town)
    assert everyone.count() == 5


def test_progress_command(world, capsys):
    call_command("campaign", "progress", str(world["campaign"].pk), "--as", "county")
    out = capsys.readouterr().out
    assert "鼓楼街道" in out and "60.0%" in out and "44.4%" in out
    call_command("campaign", "progress", str(world["campaign"].pk), "--division", factories.YUYANG_TOWN, "--as", "town")
    out = capsys.readouterr().out
    assert "66.7%" in out


def test_targets_and_unchecked_within_a_part_of_the_campaign(world):
    campaign = world["campaign"]  # 榆阳
    town_prefix = factories.YUYANG_TOWN[:9]
    assert selectors.campaign_targets(campaign).count() == 9
    assert selectors.campaign_targets(campaign, within=town_prefix).count() == 5
    assert selectors.campaign_targets(campaign, within="6108").count() == 9  # wider than the campaign: the campaign
    assert selectors.campaign_targets(campaign, within="610881").count() == 0  # 神木: outside it
    assert selectors.campaign_unchecked(campaign).count() == 5
    assert selectors.campaign_unchecked(campaign, within=town_prefix).count() == 2
    assert selectors.campaign_unchecked(campaign, within="610881").count() == 0
