"""Check-record services, directly against the database (P5, P8, P17)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.inspections.models import CheckRecord, HouseFinding
from anju.inspections.services import checks as services
from anju.testing import campaigns as c
from anju.testing import factories

pytestmark = pytest.mark.django_db
CITY = "610800000000"
YEAR = 2026


@pytest.fixture
def world():
    village = factories.village(factories.YUYANG_TOWN, 1)
    other_village = factories.village(factories.YUYANG_TOWN, 2)
    household = factories.household(village)
    house = factories.house(household)
    staff = factories.trained(factories.user("village_staff", village.code, "village_staff"), YEAR)
    campaign = c.campaign(factories.YUYANG, year=YEAR)
    return {
        "village": village,
        "other_village": other_village,
        "household": household,
        "house": house,
        "staff": staff,
        "campaign": campaign,
    }


def record(world, **values):
    data = {
        "actor": world["staff"],
        "campaign": world["campaign"],
        "household": world["household"],
        "verdict": "no_danger",
        "checked_on": dt.date(YEAR, 3, 20),
    } | values
    return services.check_record(**data)


@pytest.fixture
def refreshes(monkeypatch):
    """The household ids each call to `alerts_refresh_on_commit` asked for (the policy app owns what follows)."""
    calls: list[list[int]] = []
    monkeypatch.setattr(
        services, "alerts_refresh_on_commit", lambda *, household_ids: calls.append(list(household_ids))
    )
    return calls


def test_record_with_findings_gps_and_audit(world, refreshes):
    check = record(
        world,
        verdict="needs_repair",
        latitude="38.285",
        longitude="109.734",
        note="屋面局部漏雨",
        findings=[{"house": world["house"], "roof_leak": True, "occupied": True, "site_hazard": ""}],
    )
    assert check.checker == world["staff"] and check.division_id == world["household"].division_id
    assert str(check.latitude) == "38.285000"
    finding = HouseFinding.objects.get(check_record=check)
    assert finding.roof_leak and not finding.cracks and finding.division_id == check.division_id
    event = Event.objects.get(action=Action.CHECK_RECORDED)
    assert event.actor_id == world["staff"].pk and event.object_id == str(check.pk)
    assert event.after["findings"][0]["roof_leak"] is True
    assert refreshes == [[world["household"].pk]]  # the household's alerts are refreshed once committed


def test_untrained_checker_is_refused_with_the_p17_message(world):
    """policy: P17 — untrained people may not take part in checks."""
    untrained = factories.user("new_staff", world["village"].code, "village_staff")
    with pytest.raises(DomainError) as exc:
        record(world, actor=untrained)
    assert "未参加2026年度培训" in exc.value.message and "P17" in exc.value.message
    assert "checker" in exc.value.errors
    assert not CheckRecord.objects.exists()


def test_training_of_another_year_does_not_count(world):
    """policy: P17 — trained at least once a year: last year's training does not cover this year's check."""
    last_year = factories.trained(factories.user("old_staff", world["village"].code, "village_staff"), YEAR - 1)
    with pytest.raises(DomainError) as exc:
        record(world, actor=last_year)
    assert "2026" in exc.value.message


def test_checker_other_than_actor_must_be_trained_and_responsible(world):
    county = factories.trained(factories.user("county_mgr", factories.YUYANG, "county_manager"), YEAR)
    untrained = factories.user("v2", world["village"].code, "village_staff")
    with pytest.raises(DomainError) as exc:
        record(world, actor=county, checker=untrained)
    assert "checker" in exc.value.errors
    elsewhere = factories.trained(factories.user("v3", world["other_village"].code, "village_staff"), YEAR)
    with pytest.raises(DomainError) as exc:
        record(world, actor=county, checker=elsewhere)
    assert "checker" in exc.value.errors
    check = record(world, actor=county, checker=world["staff"])
    assert check.checker == world["staff"]


def test_duplicate_check_is_refused(world):
    record(world)
    with pytest.raises(ConflictError) as exc:
        record(world, verdict="suspected")
    assert "已核查" in exc.value.errors["household"]
    assert CheckRecord.objects.count() == 1


def test_out_of_scope_household_is_refused(world):
    neighbour = factories.household(world["other_village"])
    with pytest.raises(ScopeError):
        record(world, household=neighbour)
    assert not CheckRecord.objects.exists()


def test_household_outside_the_campaign_is_refused(world):
    shenmu = factories.household(factories.village(factories.SHENMU_TOWN))
    county = factories.trained(factories.user("shenmu_mgr", factories.SHENMU, "county_manager"), YEAR)
    with pytest.raises(ScopeError):  # the 榆阳 campaign is not even visible to 神木
        record(world, actor=county, household=shenmu)
    town_campaign = c.campaign(factories.YUYANG_TOWN_2, "special", starts_on=dt.date(YEAR, 3, 1))
    with pytest.raises(ScopeError):  # the village user does not see another town's campaign
        record(world, campaign=town_campaign)
    yuyang = factories.trained(factories.user("yuyang_mgr", factories.YUYANG, "county_manager"), YEAR)
    with pytest.raises(DomainError) as exc:  # the county does, but the household is not in that town
        record(world, actor=yuyang, campaign=town_campaign)
    assert "核查范围" in exc.value.errors["household"]


def test_monitoring_campaign_checks_only_listed_households(world):
    """policy: P9 — a special check over the P7 monitoring list leaves other households out."""
    special = c.campaign(factories.YUYANG, "flood", starts_on=dt.date(YEAR, 6, 1), target_set="monitoring")
    with pytest.raises(DomainError) as exc:
        record(world, campaign=special, checked_on=dt.date(YEAR, 6, 2))
    assert "household" in exc.value.errors


def test_needs_the_check_action(world):
    appraiser = factories.trained(factories.user("appr", factories.YUYANG, "appraiser"), YEAR)
    with pytest.raises(PermissionDenied):
        record(world, actor=appraiser)


@pytest.mark.parametrize(
    ("checked_on", "fragment"),
    [(dt.date(YEAR, 2, 28), "2026-03-01"), (None, "晚于今天")],
)
def test_checked_on_window(world, checked_on, fragment):
    checked_on = checked_on or timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(DomainError) as exc:
        record(world, checked_on=checked_on)
    assert fragment in exc.value.errors["checked_on"]


def test_a_late_check_after_the_deadline_is_still_recorded(world):
    """policy: P5 — a check after 30 April is late, not refused."""
    check = record(world, checked_on=dt.date(YEAR, 5, 5))
    assert check.checked_on == dt.date(YEAR, 5, 5)


def test_finding_for_a_house_of_another_household_is_refused(world):
    stranger = factories.house(factories.household(world["village"]))
    with pytest.raises(DomainError) as exc:
        record(world, findings=[{"house": stranger, "cracks": True}])
    assert "findings" in exc.value.errors
    with pytest.raises(DomainError):
        record(world, findings=[{"house": world["house"]}, {"house_id": world["house"].pk}])
    with pytest.raises(DomainError):
        record(world, findings=[{"house": world["house"], "site_hazard": "volcano"}])
    assert not CheckRecord.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"verdict": "fine"}, "verdict"),
        ({"latitude": "38.1"}, "latitude"),
        ({"latitude": "80", "longitude": "109"}, "latitude"),
        ({"latitude": "38", "longitude": "150"}, "longitude"),
    ],
)
def test_validation_messages(world, values, field):
    with pytest.raises(DomainError) as exc:
        record(world, **values)
    assert field in exc.value.errors


def test_update_changes_verdict_and_findings_with_one_event(world, refreshes):
    check = record(world, findings=[{"house": world["house"]}])
    since = Event.objects.latest("id").pk
    services.check_update(
        actor=world["staff"],
        check=check,
        verdict="needs_repair",
        findings=[{"house": world["house"], "roof_leak": True}],
    )
    check.refresh_from_db()
    assert check.verdict == "needs_repair" and check.findings.get().roof_leak
    event = Event.objects.get(pk__gt=since)
    assert event.action == Action.CHECK_CHANGED
    assert event.before["verdict"] == "no_danger" and event.after["findings"][0]["roof_leak"] is True
    assert refreshes == [[world["household"].pk]] * 2


def test_update_out_of_scope_and_untrained_are_refused(world):
    check = record(world)
    other = factories.trained(factories.user("v9", world["other_village"].code, "village_staff"), YEAR)
    with pytest.raises(ScopeError):
        services.check_update(actor=other, check=check, note="改")
    with pytest.raises(DomainError) as exc:
        services.check_update(actor=world["staff"], check=check, checked_on=dt.date(YEAR - 1, 12, 1))
    assert "checked_on" in exc.value.errors


def test_builder_check_trains_the_checker(world):
    person = factories.user("fresh", world["village"].code, "village_staff")
    other = factories.household(world["village"])
    check = c.check(world["campaign"], other, person, checked_on=dt.date(YEAR, 4, 1))
    assert check.checker == person


def test_suspected_verdict_opens_a_request_for_the_flagged_house(world):
    """policy: P8 — a suspected dangerous house found in a check is reported for appraisal at once."""
    from anju.inspections.models import AppraisalRequest

    sound = factories.house(world["household"], structure="brick_concrete")
    check = record(
        world,
        verdict="suspected",
        note="住户反映夜间有响声",
        findings=[
            {"house": world["house"], "cave_arch_damage": True, "site_hazard": "landslide"},
            {"house": sound},
        ],
    )
    request = AppraisalRequest.objects.get()
    assert request.house == world["house"] and request.check_record == check and request.source == "check"
    assert request.reported_on == check.checked_on
    assert "窑洞拱顶开裂或塌落" in request.description and "滑坡" in request.description
    assert "夜间有响声" in request.description
    actions = list(Event.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == [Action.CHECK_RECORDED, Action.REQUEST_OPENED]


def test_suspected_without_findings_reports_every_house(world):
    second = factories.house(world["household"])
    record(world, verdict="suspected")
    from anju.inspections.models import AppraisalRequest

    assert set(AppraisalRequest.objects.values_list("house_id", flat=True)) == {world["house"].pk, second.pk}


def test_suspected_needs_a_registered_house(world):
    bare = factories.household(world["village"])
    with pytest.raises(DomainError) as exc:
        record(world, household=bare, verdict="suspected")
    assert "verdict" in exc.value.errors
    assert not CheckRecord.objects.exists()


def test_changing_a_verdict_to_suspected_opens_a_request(world):
    from anju.inspections.models import AppraisalRequest

    check = record(world)
    assert not AppraisalRequest.objects.exists()
    services.check_update(actor=world["staff"], check=check, verdict="suspected")
    assert AppraisalRequest.objects.get().check_record == check
    services.check_update(actor=world["staff"], check=check, note="复核仍疑似")  # still suspected: nothing new
    assert AppraisalRequest.objects.count() == 1
