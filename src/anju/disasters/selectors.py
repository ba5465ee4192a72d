"""Reads of special periods and disasters, always scoped, and the event dashboard (P9, P23).

The dashboard counts, per division, the damage reports the user may see: reported, resettled (a place recorded),
appraised (an appraisal of the house on or after the report), dangerous (that appraisal C/D) and rebuilt (the
house's ledger case accepted, or closed as renovated). One query, however many reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from anju.cases.models import Case, CaseOutcome, CaseState
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code
from anju.inspections.models import Appraisal
from anju.registry.models import DANGEROUS_GRADES

from .models import (
    CoordinationNote,
    DamageReport,
    DisasterEvent,
    EmergencyPlan,
    Resettlement,
    Season,
    SeasonWindow,
)
from .services import PLAN_LEAD_DAYS, season_occurrence, window_of, windows_all

MEASURES = ("reported", "resettled", "appraised", "dangerous", "rebuilt")


def events_visible(user: Any) -> QuerySet[DisasterEvent]:
    return DisasterEvent.objects.visible_to(user)


def event_get(user: Any, pk: int) -> DisasterEvent:
    return get_object_or_404(events_visible(user).select_related("division"), pk=pk)


def plans_visible(user: Any) -> QuerySet[EmergencyPlan]:
    return EmergencyPlan.objects.visible_to(user).select_related("division")


def plan_list(user: Any, *, year: int | None = None, season: str = "") -> QuerySet[EmergencyPlan]:
    qs = plans_visible(user)
    if year:
        qs = qs.filter(year=year)
    if season in Season.values:
        qs = qs.filter(season=season)
    return qs


def reports_visible(user: Any) -> QuerySet[DamageReport]:
    return DamageReport.objects.visible_to(user)


def report_list(user: Any, *, event: int | None = None, level: str = "") -> QuerySet[DamageReport]:
    qs = reports_visible(user).select_related("household", "house", "event", "division")
    if event:
        qs = qs.filter(event_id=event)
    if level:
        qs = qs.filter(level=level)
    return qs.annotate(resettled=Exists(Resettlement.objects.filter(report_id=OuterRef("pk"))))


def report_get(user: Any, pk: int) -> DamageReport:
    qs = reports_visible(user).select_related("household", "house", "event", "division", "appraisal_request")
    return get_object_or_404(qs, pk=pk)


def resettlement_list(user: Any, *, event: int | None = None) -> QuerySet[Resettlement]:
    qs = Resettlement.objects.visible_to(user).select_related("household", "report")
    return qs.filter(report__event_id=event) if event else qs


def note_list(user: Any, *, event: int | None = None) -> QuerySet[CoordinationNote]:
    qs = CoordinationNote.objects.visible_to(user).select_related("event", "division")
    return qs.filter(event_id=event) if event else qs


@dataclass
class SeasonRow:
    county: str
    name: str
    season: str
    window: tuple[int, int, int, int]
    custom: bool
    start: dt.date
    end: dt.date
    plan: EmergencyPlan | None = None
    due: bool = False  # P9: within PLAN_LEAD_DAYS of the start or under way, and no plan filed


def season_rows(user: Any, today: dt.date) -> list[SeasonRow]:
    """Each county of the user's subtree × season: its dates, its current or next run, the plan filed for it."""
    if not user.division_id:
        return []
    counties = Division.objects.visible_to(user).filter(level=Level.COUNTY).order_by("code").values_list("code", "name")
    if level_of_code(user.division_id or "") in (Level.TOWN, Level.VILLAGE):
        counties = Division.objects.filter(code=user.division_id[:6] + "000000").values_list("code", "name")
    windows = windows_all()
    custom = set(SeasonWindow.objects.values_list("division_id", "season"))
    plans = {
        (p.division_id, p.season, p.year): p
        for p in EmergencyPlan.objects.filter(division_id__in=[c for c, _ in counties])
    }
    rows = []
    for code, name in counties:
        for season in Season.values:
            window = window_of(code, season, windows)
            start, end = season_occurrence(window, today)
            plan = plans.get((code, season, start.year))
            due = plan is None and today >= start - dt.timedelta(days=PLAN_LEAD_DAYS)
            rows.append(SeasonRow(code, name, season, window, (code, season) in custom, start, end, plan, due))
    return rows


@dataclass
class DashboardRow:
    code: str
    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))


def _group_level(event: DisasterEvent) -> tuple[int, str]:
    """Reports are counted per town for a county's event, per county for the city's."""
    return (9, Level.TOWN) if level_of_code(event.division_id) == Level.COUNTY else (6, Level.COUNTY)


def dashboard(user: Any, event: DisasterEvent) -> tuple[list[DashboardRow], DashboardRow]:
    """P9, P23: per division (town, or county for a city-wide event) and in total, the reports the user may see
    and how far each has come: resettled, appraised, dangerous (C/D), rebuilt."""
    since = Q(house_id=OuterRef("house_id"), appraised_on__gte=OuterRef("reported_on"))
    rebuilt = Case.objects.filter(
        Q(state=CaseState.ACCEPTED) | Q(state=CaseState.CLOSED, outcome=CaseOutcome.RENOVATED),
        house_id=OuterRef("house_id"),
        opened_on__gte=OuterRef("reported_on"),
    )
    rows = (
        reports_visible(user)
        .filter(event=event)
        .order_by()
        .annotate(
            resettled=Exists(Resettlement.objects.filter(report_id=OuterRef("pk"))),
            appraised=Exists(Appraisal.objects.filter(since)),
            dangerous=Exists(Appraisal.objects.filter(since, final_grade__in=DANGEROUS_GRADES)),
            rebuilt=Exists(rebuilt),
        )
        .values_list("division_id", "resettled", "appraised", "dangerous", "rebuilt")
    )
    digits, _level = _group_level(event)
    groups: dict[str, DashboardRow] = {}
    total = DashboardRow(code=event.division_id, name="")
    for code, *flags in rows:
        key = code[:digits].ljust(12, "0")
        row = groups.setdefault(key, DashboardRow(code=key, name=key))
        for target in (row, total):
            target.counts["reported"] += 1
            for measure, flag in zip(MEASURES[1:], flags, strict=True):
                target.counts[measure] += int(flag)
    names = dict(Division.objects.filter(code__in=list(groups)).values_list("code", "name"))
    for row in groups.values():
        row.name = names.get(row.code, row.code)
    return sorted(groups.values(), key=lambda r: r.code), total
