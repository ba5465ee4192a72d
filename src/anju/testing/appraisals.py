"""Builders for suspected-danger requests and appraisals, through the real services (P8, P17).

    req = appraisals.request(house, reported_by=village_user)            # open, due reported_on + 15 days
    req = appraisals.request(house, reported_by=u, appraiser=a)          # assigned (the county's manager assigns)
    app = appraisals.appraisal(house, appraiser, components={"cave_arch": "c"})   # grade C, house graded C

Missing people are created on first use (a trained appraiser and a county manager of the house's county).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anju.accounts.models import User
from anju.inspections.models import Appraisal, AppraisalRequest, RequestSource
from anju.inspections.services import appraisals as services
from anju.registry.models import House
from anju.testing import factories


def county_manager(house: House) -> User:
    """The builder's county manager of the house's county (the one `factories` uses to write houses)."""
    return factories._system(house.division)


def appraiser_for(house: House, *, year: int | None = None) -> User:
    """A trained appraiser of the house's county, created on first use."""
    county = house.division_id[:6] + "000000"
    username = f"builder_appraiser_{county[:6]}"
    found = User.objects.filter(username=username).first()
    person = found or factories.user(username, county, "appraiser")
    return factories.trained(person, year)


def request(
    house: House,
    reported_by: User | None = None,
    *,
    description: str = "墙体开裂，疑似危房",
    reported_on: dt.date | None = None,
    source: str = RequestSource.REPORT,
    appraiser: User | None = None,
    assigned_on: dt.date | None = None,
    assigned_by: User | None = None,
) -> AppraisalRequest:
    """A direct report (P8) of `house`; with `appraiser`, also assigned by the county (the appraiser is trained
    for the assignment year if not yet)."""
    reporter = reported_by or county_manager(house)
    req = services.request_open(
        actor=reporter, house=house, description=description, reported_on=reported_on, source=source
    )
    if appraiser is not None:
        on = assigned_on or max(req.reported_on, dt.date.today())
        factories.trained(appraiser, on.year)
        req = services.request_assign(
            actor=assigned_by or county_manager(house), request=req, appraiser=appraiser, assigned_on=on
        )
    return req


def all_a(house: House) -> dict[str, str]:
    """Every active component of the house's structure graded a."""
    return {spec.code: "a" for spec in services.component_specs(house.structure)}


def appraisal(
    house: House,
    appraiser: User | None = None,
    *,
    components: dict[str, str] | None = None,
    appraised_on: dt.date | None = None,
    request: AppraisalRequest | None = None,
    site_dangerous: bool = False,
    disaster_prevention: str = "partial",
    final_grade: str | None = None,
    override_reason: str = "",
    **values: Any,
) -> Appraisal:
    """An appraisal of `house`: `components` overrides some grades of an all-a form (unknown codes are passed on,
    so a test can provoke the refusal). The appraiser is trained for the appraisal year if not yet."""
    person = appraiser or appraiser_for(house)
    on = appraised_on or dt.date.today()
    factories.trained(person, on.year)
    return services.appraisal_record(
        actor=person,
        house=house,
        request=request,
        appraised_on=on,
        site_dangerous=site_dangerous,
        disaster_prevention=disaster_prevention,
        components=all_a(house) | (components or {}),
        final_grade=final_grade,
        override_reason=override_reason,
        **values,
    )
