"""Builders for campaigns and check records, through the real services (for every app's tests).

from anju.testing import campaigns as c
campaign = c.campaign(factories.YUYANG)                      # this year's annual check of 榆阳区 (1 Mar–30 Apr)
record = c.check(campaign, household, checker, verdict="suspected", findings=[{"house": house, "cracks": True}])
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from anju.accounts.models import User
from anju.inspections.models import Campaign, CampaignKind, CheckRecord
from anju.inspections.services import campaigns as campaign_services
from anju.inspections.services import checks as check_services
from anju.registry.models import Household

from . import factories


def _manager(division_code: str) -> User:
    """A county manager (or, for the city, an admin) of that division, created on first use."""
    if division_code[4:] == "00000000":
        username = f"campaign_admin_{division_code[:4]}"
        found = User.objects.filter(username=username).first()
        return found or factories.user(username, division_code, "admin")
    county = division_code[:6] + "000000"
    username = f"builder_{county[:6]}"
    found = User.objects.filter(username=username).first()
    return found or factories.user(username, county, "county_manager")


def campaign(
    division_code: str,
    kind: str = CampaignKind.ANNUAL,
    *,
    year: int | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    target_set: str = "all",
    name: str = "",
    actor: Any = None,
) -> Campaign:
    """A campaign over `division_code`'s subtree. Annual without dates: 1 March – 30 April of `year` (default: this
    year); other kinds default to the last 30 days up to today."""
    year = year or (starts_on.year if starts_on else timezone.localdate().year)
    if kind == CampaignKind.ANNUAL and starts_on is None and ends_on is None:
        starts_on, ends_on = campaign_services.annual_period(year)
    today = timezone.localdate()
    starts_on = starts_on or min(today - dt.timedelta(days=30), dt.date(year, 12, 31))
    ends_on = ends_on or max(starts_on, today)
    return campaign_services.campaign_create(
        actor=actor or _manager(division_code),
        kind=kind,
        year=year,
        starts_on=starts_on,
        ends_on=ends_on,
        target_set=target_set,
        division_code=division_code,
        name=name,
    )


def check(
    campaign: Campaign,
    household: Household,
    checker: User | None = None,
    verdict: str = "no_danger",
    *,
    checked_on: dt.date | None = None,
    findings: list[dict[str, Any]] | None = None,
    photos: list[Any] = (),
    actor: Any = None,
    train: bool = True,
    **values: Any,
) -> CheckRecord:
    """A check of `household` in `campaign` by `checker` (default: the county builder user), on `checked_on`
    (default: the campaign's last day, or today if it is still running). `train=True` records the checker's P17
    training for that year first, so the builder does not trip the gate unless a test asks for it."""
    checker = checker or _manager(household.division_id)
    checked_on = checked_on or min(campaign.ends_on, timezone.localdate())
    if train:
        factories.trained(checker, checked_on.year)
    return check_services.check_record(
        actor=actor or checker,
        campaign=campaign,
        household=household,
        checker=checker,
        verdict=verdict,
        checked_on=checked_on,
        findings=findings or [],
        photos=photos,
        **values,
    )
