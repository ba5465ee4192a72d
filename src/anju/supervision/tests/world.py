"""Builders for the supervision tests: real rows through the real services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from anju.accounts.models import User
from anju.divisions.models import Division
from anju.testing import factories

from .. import services
from ..models import Finding, PlanFiling, PlanRound, Rectification, Visit

TODAY = dt.date.today()
CITY = "610800000000"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def supervisor() -> User:
    """The city's supervision team member (市级督导)."""
    return User.objects.filter(username="city_dudao").first() or factories.user("city_dudao", CITY, "city_supervisor")


def county_manager(code: str) -> User:
    """The county manager of the county of `code` (the factories' builder user)."""
    return factories._system(Division.objects.get(code=code[:6] + "000000"))


def document(name: str = "实施方案.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def plan_round(
    *, deadline: dt.date = TODAY, year: int | None = None, title: str = "农村住房安全保障实施方案"
) -> PlanRound:
    return services.round_create(actor=supervisor(), year=year or deadline.year, title=title, deadline=deadline)


def filing(plan_round: PlanRound, county: str, *, filed_on: dt.date = TODAY) -> PlanFiling:
    return services.plan_submit(
        actor=county_manager(county), plan_round=plan_round, county_code=county, title="本县实施方案",
        filed_on=filed_on, document=document(),
    )  # fmt: skip


def visit(county: str, *, starts_on: dt.date | None = None, ends_on: dt.date | None = None, **values: Any) -> Visit:
    ends_on = ends_on or TODAY
    return services.visit_record(
        actor=supervisor(), county_code=county, starts_on=starts_on or ends_on, ends_on=ends_on,
        members=[supervisor()], **values,
    )  # fmt: skip


def finding(visit: Visit, division: Division | str, **values: Any) -> Finding:
    code = division if isinstance(division, str) else division.code
    data = {"description": "危房改造户未建立一户一档", "fed_back_on": visit.starts_on} | values
    return services.finding_record(actor=supervisor(), visit=visit, division_code=code, **data)


def rectify(item: Finding, *, done_on: dt.date | None = None, accept: bool = True) -> Finding:
    """The county rectifies `item` on `done_on` and (by default) the team accepts it."""
    rectification = services.rectification_submit(
        actor=county_manager(item.division_id), finding=item, done_on=done_on or item.fed_back_on,
        description="已补齐档案资料",
    )  # fmt: skip
    if accept:
        return services.rectification_review(actor=supervisor(), rectification=rectification, verdict="accepted")
    return Finding.objects.get(pk=item.pk)


def pending(item: Finding) -> Rectification:
    return item.rectifications.get(verdict="")
