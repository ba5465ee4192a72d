"""Campaign services, directly against the database (P5 annual check, P9 special periods)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.inspections.models import Campaign, CampaignKind
from anju.inspections.services import campaigns as services
from anju.testing import campaigns as c
from anju.testing import factories

pytestmark = pytest.mark.django_db
CITY = "610800000000"


@pytest.fixture
def county():
    return factories.user("county_mgr", factories.YUYANG, "county_manager")


def test_create_annual_is_one_action_for_march_and_april(county):
    """policy: P5 — the yearly check runs 1 March – 30 April; the deadline is data on the campaign."""
    campaign = services.campaign_create_annual(actor=county, year=2026)
    assert (campaign.starts_on, campaign.ends_on) == (dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert campaign.kind == CampaignKind.ANNUAL and campaign.year == 2026
    assert campaign.division_id == factories.YUYANG
    assert campaign.name == "2026年度农村住房安全核查"
    event = Event.objects.get(action=Action.CAMPAIGN_CREATED)
    assert event.actor_id == county.pk and event.object_id == str(campaign.pk)
    assert event.division_code == factories.YUYANG


def test_create_annual_defaults_to_this_year(county):
    campaign = services.campaign_create_annual(actor=county)
    assert campaign.year == timezone.localdate().year


def test_annual_is_one_per_division_and_year(county):
    services.campaign_create_annual(actor=county, year=2026)
    with pytest.raises(ConflictError) as exc:
        services.campaign_create_annual(actor=county, year=2026)
    assert "2026" in exc.value.errors["year"]
    services.campaign_create_annual(actor=county, year=2025)  # another year is fine
    assert Campaign.objects.count() == 2


def test_annual_refused_below_or_above_an_existing_one(county):
    """A household is checked once a year: no county annual check under the city's, nor a city one over a county's."""
    c.campaign(CITY, year=2026)
    with pytest.raises(ConflictError) as exc:
        services.campaign_create_annual(actor=county, year=2026)
    assert "榆林" in exc.value.errors["year"] or "2026" in exc.value.errors["year"]
    c.campaign(factories.SHENMU, year=2025)
    admin = factories.user("city_admin", CITY, "admin")
    with pytest.raises(ConflictError):
        services.campaign_create_annual(actor=admin, year=2025)


def test_special_campaigns_may_overlap(county):
    """policy: P9 — flood-season and freeze-thaw checks are campaigns of their own kind, several a year."""
    for kind in (CampaignKind.FLOOD, CampaignKind.FLOOD, CampaignKind.FREEZE_THAW):
        services.campaign_create(actor=county, kind=kind, starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 9, 30))
    names = list(Campaign.objects.values_list("name", flat=True))
    assert names.count("2026年汛期排查") == 2


def test_create_in_a_town_of_the_subtree(county):
    campaign = services.campaign_create(
        actor=county,
        kind=CampaignKind.SPECIAL,
        division_code=factories.YUYANG_TOWN,
        starts_on=dt.date(2026, 5, 1),
        ends_on=dt.date(2026, 5, 31),
        name="鼓楼街道专项排查",
        target_set="monitoring",
    )
    assert campaign.division_id == factories.YUYANG_TOWN and campaign.target_set == "monitoring"


def test_create_outside_the_subtree_is_refused(county):
    for code in (factories.SHENMU, CITY):
        with pytest.raises(ScopeError):
            services.campaign_create(
                actor=county,
                kind="special",
                division_code=code,
                starts_on=dt.date(2026, 5, 1),
                ends_on=dt.date(2026, 5, 2),
            )
    assert not Campaign.objects.exists() and not Event.objects.filter(action=Action.CAMPAIGN_CREATED).exists()


def test_create_needs_the_manage_action():
    town = factories.user("town_staff", factories.YUYANG_TOWN, "town_staff")
    with pytest.raises(PermissionDenied):
        services.campaign_create_annual(actor=town)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "weekly"}, "kind"),
        ({"target_set": "some"}, "target_set"),
        ({"ends_on": dt.date(2026, 2, 1)}, "ends_on"),
        ({"year": 1999}, "year"),
        ({"kind": "annual", "year": 2025}, "starts_on"),
        ({"division_code": "610802999999"}, "division_code"),
    ],
)
def test_create_validates_with_chinese_messages(county, values, field):
    data = {"kind": "special", "starts_on": dt.date(2026, 3, 1), "ends_on": dt.date(2026, 4, 30)} | values
    with pytest.raises(DomainError) as exc:
        services.campaign_create(actor=county, **data)
    assert field in exc.value.errors
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.errors[field])


def test_update_period_name_and_note(county):
    campaign = services.campaign_create_annual(actor=county, year=2026)
    services.campaign_update(actor=county, campaign=campaign, ends_on=dt.date(2026, 5, 10), note="延长十天")
    campaign.refresh_from_db()
    assert campaign.ends_on == dt.date(2026, 5, 10) and campaign.note == "延长十天"
    event = Event.objects.get(action=Action.CAMPAIGN_CHANGED)
    assert event.before == {"ends_on": "2026-04-30", "note": ""}
    assert event.after == {"ends_on": "2026-05-10", "note": "延长十天"}


def test_update_without_change_writes_no_event(county):
    campaign = services.campaign_create_annual(actor=county, year=2026)
    services.campaign_update(actor=county, campaign=campaign, name=campaign.name)
    assert not Event.objects.filter(action=Action.CAMPAIGN_CHANGED).exists()


def test_update_refuses_kind_year_and_bad_period(county):
    campaign = services.campaign_create_annual(actor=county, year=2026)
    with pytest.raises(DomainError) as exc:
        services.campaign_update(actor=county, campaign=campaign, year=2027)
    assert "year" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.campaign_update(actor=county, campaign=campaign, ends_on=dt.date(2026, 2, 1))
    assert "ends_on" in exc.value.errors


def test_update_cannot_start_after_recorded_checks(county):
    campaign = services.campaign_create_annual(actor=county, year=2026)
    household = factories.household(factories.village(factories.YUYANG_TOWN))
    c.check(campaign, household, checked_on=dt.date(2026, 3, 10))
    with pytest.raises(DomainError) as exc:
        services.campaign_update(actor=county, campaign=campaign, starts_on=dt.date(2026, 3, 15))
    assert "2026-03-10" in exc.value.errors["starts_on"]


def test_a_county_sees_but_cannot_change_the_city_campaign(county):
    campaign = c.campaign(CITY, year=2026)
    assert Campaign.objects.visible_to(county).filter(pk=campaign.pk).exists()
    with pytest.raises(ScopeError) as exc:
        services.campaign_update(actor=county, campaign=campaign, note="县里改")
    assert "上级" in exc.value.message


def test_cli_create_annual(county, capsys):
    from django.core.management import CommandError, call_command

    call_command("campaign", "create-annual", "--year", "2026", "--as", "county_mgr")
    assert "2026年度农村住房安全核查" in capsys.readouterr().out
    campaign = Campaign.objects.get()
    assert (campaign.starts_on, campaign.ends_on, campaign.created_by) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 30),
        county,
    )
    with pytest.raises(CommandError, match="已有2026年度核查"):
        call_command("campaign", "create-annual", "--year", "2026", "--as", "county_mgr")
    with pytest.raises(CommandError, match="--as"):
        call_command("campaign", "create-annual", "--year", "2025")
    factories.user("town_staff", factories.YUYANG_TOWN, "town_staff")
    with pytest.raises(CommandError, match="无权"):
        call_command("campaign", "create-annual", "--as", "town_staff")
    with pytest.raises(CommandError, match="不在您的管辖范围内"):
        call_command("campaign", "progress", "999", "--as", "county_mgr")
