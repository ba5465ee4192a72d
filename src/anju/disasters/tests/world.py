"""Builders for the disaster tests: real rows through the real services (P9, P23)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anju.accounts.models import User
from anju.disasters import services
from anju.disasters.models import DamageReport, DisasterEvent
from anju.divisions.models import Division
from anju.registry.models import House
from anju.testing import factories


def county_manager(code: str) -> User:
    """The county manager `factories` writes rows with (created on first use)."""
    return factories._system(Division.objects.get(code=code))


def reporter(village: Division) -> User:
    username = f"reporter_{village.code}"
    return User.objects.filter(username=username).first() or factories.user(username, village.code, "village_staff")


def event(
    county: str = factories.YUYANG,
    *,
    started_on: dt.date | None = None,
    affected: list[str] | None = None,
    name: str = "强降雨",
) -> DisasterEvent:
    return services.event_declare(
        actor=county_manager(county),
        kind="flood",
        name=name,
        started_on=started_on or dt.date.today() - dt.timedelta(days=30),
        affected_codes=affected or [county],
    )


def report(
    house: House,
    disaster: DisasterEvent,
    *,
    level: str = "severe",
    needs_resettlement: bool = True,
    reported_on: dt.date | None = None,
    **values: Any,
) -> DamageReport:
    return services.damage_report(
        actor=reporter(house.division),
        event=disaster,
        house=house,
        level=level,
        needs_resettlement=needs_resettlement,
        reported_on=reported_on,
        **values,
    )


def png(colour: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return SimpleUploadedFile("damage.png", buffer.getvalue(), content_type="image/png")


def pdf(name: str = "plan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 emergency plan", content_type="application/pdf")


def appraise(report: DamageReport, grade: str = "C", *, on: dt.date | None = None) -> Any:
    """The county assigns the report's request to a trained appraiser, who records `grade` (C: one component c;
    D: a dangerous site; A: all a) on `on` (default today)."""
    from anju.inspections.services import appraisals as appraisal_services
    from anju.testing import appraisals

    house = report.house
    person = appraisals.appraiser_for(house)
    request = report.appraisal_request
    if request is not None:
        appraisal_services.request_assign(
            actor=appraisals.county_manager(house), request=request, appraiser=person, assigned_on=request.reported_on
        )
    components = {} if grade in "AD" else {next(iter(appraisals.all_a(house))): grade.lower()}
    return appraisals.appraisal(
        house, person, request=request, components=components, site_dangerous=grade == "D", appraised_on=on
    )
