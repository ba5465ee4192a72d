"""Every write of special periods and disasters (P9, P23): authority → validate → lock → write → audit (STYLE.md).

Reporting damage and resettlement is `disasters.report` (from the village up); seasons, plans, events and the
coordination with other departments are the county's `disasters.manage`. A seriously damaged house gets an
appraisal request at once (P23); its grade changes only when that appraisal is recorded, never here.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.services import diff, event_record
from anju.core.checks import check_date, invalid, require, text
from anju.core.errors import ConflictError, ScopeError
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code
from anju.inspections.models import AppraisalRequest, RequestSource
from anju.inspections.services import appraisals
from anju.inspections.services.photos import photo_facts, stored_name
from anju.policy.services import alerts_refresh_on_commit
from anju.registry.models import House

from .models import (
    DEFAULT_WINDOWS,
    SERIOUS_LEVELS,
    CoordinationNote,
    DamageLevel,
    DamagePhoto,
    DamageReport,
    Department,
    DisasterEvent,
    DisasterKind,
    EmergencyPlan,
    Resettlement,
    ResettlementMethod,
    Season,
    SeasonWindow,
)

#: P9: a plan is due this many days before its season starts (`P9.plan_missing` alerts from then on).
PLAN_LEAD_DAYS = 15
PLAN_TYPES = (".pdf", ".doc", ".docx", ".wps", ".ofd", ".jpg", ".jpeg", ".png")
MAX_PLAN_BYTES = 20 * 1024 * 1024
MAX_PHOTOS = 9


def county_of(code: str) -> str:
    return code[:6] + "000000"


# -- seasons --------------------------------------------------------------------------------------------------


def _day(year: int, month: int, day: int) -> dt.date:
    """A month and day in `year`; 29 February falls back to the 28th in a common year."""
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def window_of(county_code: str, season: str, windows: dict[tuple[str, str], tuple[int, int, int, int]]) -> tuple:
    return windows.get((county_code, season), DEFAULT_WINDOWS[season])


def windows_all() -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """Every county's own season dates (one query): (county, season) → (start month, day, end month, day)."""
    rows = SeasonWindow.objects.values_list("division_id", "season", "start_month", "start_day", "end_month", "end_day")
    return {(county, season): tuple(dates) for county, season, *dates in rows}


def season_occurrence(window: tuple[int, int, int, int], today: dt.date) -> tuple[dt.date, dt.date]:
    """The season's run that is under way on `today`, or else the next one: (start, end). A run that starts in
    November and ends in March belongs to the year it starts in (its plan is that year's plan)."""
    start_month, start_day, end_month, end_day = window
    for year in (today.year - 1, today.year, today.year + 1):
        start = _day(year, start_month, start_day)
        end_year = year if (end_month, end_day) >= (start_month, start_day) else year + 1
        end = _day(end_year, end_month, end_day)
        if end >= today:
            return start, end
    raise AssertionError("unreachable: next year's run always ends after today")


@transaction.atomic(durable=True)
def season_window_set(
    *, actor: Any, county_code: str, season: str, start_month: int, start_day: int, end_month: int, end_day: int
) -> SeasonWindow:
    """P9: a county sets its own dates of the flood or freeze-thaw season (Yulin's default otherwise)."""
    require(actor, "disasters.manage", county_code, "county")
    errors = {}
    if season not in Season.values:
        errors["season"] = _("请选择时段")
    if level_of_code(county_code) != Level.COUNTY or not Division.objects.filter(code=county_code).exists():
        errors["county"] = _("特殊时段按县（市、区）设置")
    for field, month, day in (("start", start_month, start_day), ("end", end_month, end_day)):
        try:
            dt.date(2024, int(month), int(day))  # a leap year: 29 February is a valid day of a window
        except (TypeError, ValueError):
            errors[f"{field}_day"] = _("日期无效")
    if errors:
        raise invalid(errors)
    window = SeasonWindow.objects.select_for_update().filter(division_id=county_code, season=season).first()
    dates = {"start_month": start_month, "start_day": start_day, "end_month": end_month, "end_day": end_day}
    before = {k: getattr(window, k) for k in dates} if window else None
    if window is None:
        window = SeasonWindow(division_id=county_code, season=season)
    for key, value in dates.items():
        setattr(window, key, int(value))
    window.save()
    old, new = diff(before or {}, dates)
    event_record(actor=actor, action=Action.SEASON_WINDOW_SET, obj=window, before=old, after=new)
    return window


# -- emergency plans ------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def plan_file(
    *,
    actor: Any,
    county_code: str,
    season: str,
    year: int,
    title: str,
    filed_on: dt.date | None,
    document: Any,
) -> EmergencyPlan:
    """P9: the county files its emergency plan for a season of a year, with the document itself."""
    require(actor, "disasters.manage", county_code, "county")
    title = text(title, 200)
    errors: dict[str, str] = {}
    if season not in Season.values:
        errors["season"] = _("请选择时段")
    if level_of_code(county_code) != Level.COUNTY or not Division.objects.filter(code=county_code).exists():
        errors["county"] = _("应急预案由县（市、区）备案")
    if not title:
        errors["title"] = _("请填写预案名称")
    errors.update(check_date(filed_on, "filed_on", _("印发日期")))
    this_year = dt.date.today().year
    if not isinstance(year, int) or not this_year - 5 <= year <= this_year + 1:
        errors["year"] = _("年度应在{low}至{high}之间").format(low=this_year - 5, high=this_year + 1)
    if document is None:
        errors["document"] = _("请上传预案文件")
    elif not str(getattr(document, "name", "")).lower().endswith(PLAN_TYPES):
        errors["document"] = _("预案文件应为PDF、Word、WPS、OFD或图片")
    elif not (getattr(document, "size", 0) or 0) or document.size > MAX_PLAN_BYTES:
        errors["document"] = _("预案文件不能为空，也不能超过20MB")
    if errors:
        raise invalid(errors)
    Division.objects.select_for_update().filter(code=county_code).first()  # two filings of one plan take turns
    if EmergencyPlan.objects.filter(division_id=county_code, season=season, year=year).exists():
        message = _("该县{year}年度{season}应急预案已备案").format(year=year, season=Season(season).label)
        raise ConflictError(message, errors={"season": message})
    plan = EmergencyPlan.objects.create(
        division_id=county_code,
        season=season,
        year=year,
        title=title,
        filed_on=filed_on,
        document=document,
        filed_by=actor,
    )
    event_record(
        actor=actor,
        action=Action.PLAN_FILED,
        obj=plan,
        after={"season": season, "year": year, "title": title, "filed_on": filed_on, "document": plan.document.name},
    )
    return plan


# -- events ---------------------------------------------------------------------------------------------------


def _affected(codes: Iterable[str], division_code: str) -> tuple[list[str], dict[str, str]]:
    """Counties and towns inside the declaring division, known to the tree, without repeats."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        return [], {"affected_codes": _("请选择受灾的县（市、区）或乡镇（街道）")}
    prefix = division_code[: 6 if level_of_code(division_code) == Level.COUNTY else 4]
    known = dict(Division.objects.filter(code__in=codes).values_list("code", "level"))
    bad = [c for c in codes if known.get(c) not in (Level.COUNTY, Level.TOWN) or not c.startswith(prefix)]
    if bad:
        return codes, {
            "affected_codes": _("受灾区划应为本辖区内的县（市、区）或乡镇（街道）：{codes}").format(
                codes="、".join(bad)
            )
        }
    return codes, {}


@transaction.atomic(durable=True)
def event_declare(
    *,
    actor: Any,
    kind: str,
    name: str,
    started_on: dt.date | None,
    affected_codes: Iterable[str],
    ended_on: dt.date | None = None,
    description: str = "",
    division_code: str | None = None,
    is_sample: bool = False,
) -> DisasterEvent:
    """P9: the county (or the city) declares a disaster, so that villages report damage against it at once."""
    division_code = division_code or actor.division_id or ""
    require(actor, "disasters.manage", division_code, "division")
    errors: dict[str, str] = {}
    if level_of_code(division_code) not in (Level.CITY, Level.COUNTY):
        errors["division"] = _("灾害事件由县（市、区）或市级登记")
    name = text(name, 200)
    if kind not in DisasterKind.values:
        errors["kind"] = _("请选择灾害类型")
    if not name:
        errors["name"] = _("请填写灾害名称")
    errors.update(check_date(started_on, "started_on", _("发生日期")))
    if ended_on is not None and started_on is not None and ended_on < started_on:
        errors["ended_on"] = _("结束日期不能早于发生日期")
    elif ended_on is not None and ended_on > dt.date.today():
        errors["ended_on"] = _("结束日期不能晚于今天")
    codes, bad = _affected(affected_codes, division_code)
    errors |= bad
    if errors:
        raise invalid(errors)
    event = DisasterEvent.objects.create(
        division_id=division_code,
        kind=kind,
        name=name,
        started_on=started_on,
        ended_on=ended_on,
        affected_codes=codes,
        description=text(description, 2000),
        created_by=actor if getattr(actor, "pk", None) else None,
        is_sample=is_sample,
    )
    after = {"kind": kind, "name": name, "started_on": started_on, "ended_on": ended_on, "affected_codes": codes}
    event_record(actor=actor, action=Action.DISASTER_DECLARED, obj=event, after=after)
    return event


@transaction.atomic(durable=True)
def event_update(
    *,
    actor: Any,
    event: DisasterEvent,
    name: str | None = None,
    ended_on: dt.date | None = None,
    affected_codes: Iterable[str] | None = None,
    description: str | None = None,
) -> DisasterEvent:
    """Name, end date, affected divisions or description of an event, by the level that declared it."""
    require(actor, "disasters.manage", event.division_id)
    event = DisasterEvent.objects.select_for_update().get(pk=event.pk)
    fields = ("name", "ended_on", "affected_codes", "description")
    before = {f: getattr(event, f) for f in fields}
    errors: dict[str, str] = {}
    if name is not None:
        event.name = text(name, 200)
        if not event.name:
            errors["name"] = _("请填写灾害名称")
    if ended_on is not None:
        if ended_on < event.started_on:
            errors["ended_on"] = _("结束日期不能早于发生日期")
        elif ended_on > dt.date.today():
            errors["ended_on"] = _("结束日期不能晚于今天")
        event.ended_on = ended_on
    if affected_codes is not None:
        event.affected_codes, bad = _affected(affected_codes, event.division_id)
        errors |= bad
    if description is not None:
        event.description = text(description, 2000)
    if errors:
        raise invalid(errors)
    old, new = diff(before, {f: getattr(event, f) for f in fields})
    if new:
        event.save(update_fields=list(new))
        event_record(actor=actor, action=Action.DISASTER_CHANGED, obj=event, before=old, after=new)
    return event


# -- damage and resettlement ----------------------------------------------------------------------------------


def _store_photo(*, actor: Any, report: DamageReport, file: Any) -> DamagePhoto:
    facts = photo_facts(file, field="photos")
    if DamagePhoto.objects.filter(report=report, sha256=facts.sha256).exists():
        raise ConflictError(_("该照片已上传"), errors={"photos": _("该照片已上传")})
    return DamagePhoto.objects.create(
        report=report,
        division_id=report.division_id,
        file=stored_name(facts, file),
        sha256=facts.sha256,
        taken_at=facts.taken_at,
        latitude=facts.latitude,
        longitude=facts.longitude,
        uploaded_by=actor,
    )


def _open_request(*, actor: Any, report: DamageReport) -> AppraisalRequest:
    """P23: the damaged house goes to the county's appraisal queue (source 灾后上报, so a C/D appraisal opens a
    ledger case with source 灾害); a request already open for the house is joined. The authority is
    `disasters.report`, held by the caller."""
    description = _("{event}受灾，房屋{level}受损").format(event=report.event.name, level=report.get_level_display())
    if report.description:
        description = f"{description}：{report.description}"
    return appraisals.request_open_or_join(
        actor=actor,
        house=report.house,
        description=description[:1000],
        reported_on=report.reported_on,
        source=RequestSource.DISASTER,
    )


@transaction.atomic(durable=True)
def damage_report(
    *,
    actor: Any,
    event: DisasterEvent,
    house: House,
    level: str,
    people_affected: int = 0,
    casualties: int = 0,
    needs_resettlement: bool = False,
    description: str = "",
    reported_on: dt.date | None = None,
    photos: Iterable[Any] = (),
) -> DamageReport:
    """P9: the village reports one damaged house of an event at once; a severe or collapsed house is sent to
    appraisal the same moment (P23). The house's grade is not touched: only its appraisal grades it."""
    require(actor, "disasters.report", house.division_id, "house")
    if not DisasterEvent.objects.visible_to(actor).filter(pk=event.pk).exists():
        raise ScopeError(_("不在您的管辖范围内"), errors={"event": _("该灾害事件不在您的管辖范围内")})
    reported_on = reported_on or dt.date.today()
    photos = list(photos)
    errors: dict[str, str] = {}
    if level not in DamageLevel.values:
        errors["level"] = _("请选择受损程度")
    errors.update(check_date(reported_on, "reported_on", _("上报日期")))
    if reported_on < event.started_on:
        errors["reported_on"] = _("上报日期不能早于灾害发生日期（{date}）").format(date=event.started_on.isoformat())
    if not any(house.division_id.startswith(code[: 6 if code[6:] == "000000" else 9]) for code in event.affected_codes):
        errors["house"] = _("该房屋不在本次灾害的受灾区划内")
    for field, value, label in (
        ("people_affected", people_affected, _("受灾人数")),
        ("casualties", casualties, _("伤亡人数")),
    ):
        if not isinstance(value, int) or not 0 <= value <= 100:
            errors[field] = _("{label}应为0至100的整数").format(label=label)
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = _("照片最多{n}张").format(n=MAX_PHOTOS)
    if errors:
        raise invalid(errors)
    House.objects.select_for_update().filter(pk=house.pk).first()  # two reports of one house take turns
    if DamageReport.objects.filter(event=event, house=house).exists():
        message = _("该房屋已在本次灾害中上报过灾损，请在原报告中补充")
        raise ConflictError(message, errors={"house": message})
    report = DamageReport.objects.create(
        division_id=house.division_id,
        event=event,
        household_id=house.household_id,
        house=house,
        level=level,
        people_affected=people_affected,
        casualties=casualties,
        needs_resettlement=needs_resettlement,
        description=text(description, 1000),
        reported_on=reported_on,
        reported_by=actor,
    )
    stored = [_store_photo(actor=actor, report=report, file=f) for f in photos]
    if level in SERIOUS_LEVELS:
        report.appraisal_request = _open_request(actor=actor, report=report)
        report.save(update_fields=["appraisal_request"])
    event_record(
        actor=actor,
        action=Action.DAMAGE_REPORTED,
        obj=report,
        after={
            "event": event.pk,
            "house": house.pk,
            "level": level,
            "people_affected": people_affected,
            "casualties": casualties,
            "needs_resettlement": needs_resettlement,
            "reported_on": reported_on,
            "photos": [p.sha256 for p in stored],
            "appraisal_request": report.appraisal_request_id,
        },
    )
    alerts_refresh_on_commit(household_ids=[house.household_id])
    return report


@transaction.atomic(durable=True)
def damage_photo_add(*, actor: Any, report: DamageReport, file: Any) -> DamagePhoto:
    """More photos of the damage, checked and stored like check photos."""
    require(actor, "disasters.report", report.division_id)
    photo = _store_photo(actor=actor, report=report, file=file)
    event_record(
        actor=actor,
        action=Action.DAMAGE_PHOTO_ADDED,
        obj=report,
        after={"photo": photo.pk, "sha256": photo.sha256, "taken_at": photo.taken_at},
    )
    return photo


@transaction.atomic(durable=True)
def damage_request_appraisal(*, actor: Any, report: DamageReport) -> DamageReport:
    """P9, P23: a damaged house reported as slight or moderate is sent to appraisal when the village asks."""
    require(actor, "disasters.report", report.division_id)
    report = DamageReport.objects.select_for_update(of=("self",)).select_related("house", "event").get(pk=report.pk)
    if report.appraisal_request_id:
        message = _("该房屋已申请鉴定")
        raise ConflictError(message, errors={"appraisal_request": message})
    report.appraisal_request = _open_request(actor=actor, report=report)
    report.save(update_fields=["appraisal_request"])
    event_record(
        actor=actor,
        action=Action.DAMAGE_APPRAISAL_REQUESTED,
        obj=report,
        after={"appraisal_request": report.appraisal_request_id},
    )
    return report


@transaction.atomic(durable=True)
def resettlement_record(
    *,
    actor: Any,
    report: DamageReport,
    method: str,
    place: str,
    since: dt.date | None,
    is_safe: bool = False,
    confirmed_by: str = "",
) -> Resettlement:
    """P9: a damaged household is resettled first — how, where, since when, and who confirmed the place safe."""
    require(actor, "disasters.report", report.division_id)
    place, confirmed_by = text(place, 200), text(confirmed_by, 64)
    errors: dict[str, str] = {}
    if method not in ResettlementMethod.values:
        errors["method"] = _("请选择安置方式")
    if not place:
        errors["place"] = _("请填写安置地点")
    errors.update(check_date(since, "since", _("安置日期")))
    if since is not None and since < report.event.started_on:
        errors["since"] = _("安置日期不能早于灾害发生日期")
    if is_safe and not confirmed_by:
        errors["confirmed_by"] = _("确认安全须注明确认人")
    if errors:
        raise invalid(errors)
    DamageReport.objects.select_for_update(of=("self",)).filter(pk=report.pk).first()
    resettlement = Resettlement.objects.create(
        division_id=report.division_id,
        report=report,
        household_id=report.household_id,
        method=method,
        place=place,
        since=since,
        is_safe=is_safe,
        confirmed_by=confirmed_by,
        recorded_by=actor,
    )
    event_record(
        actor=actor,
        action=Action.RESETTLEMENT_RECORDED,
        obj=resettlement,
        after={
            "report": report.pk,
            "method": method,
            "place": place,
            "since": since,
            "is_safe": is_safe,
            "confirmed_by": confirmed_by,
        },
    )
    alerts_refresh_on_commit(household_ids=[report.household_id])
    return resettlement


@transaction.atomic(durable=True)
def note_record(
    *, actor: Any, event: DisasterEvent, department: str, noted_on: dt.date | None, content: str
) -> CoordinationNote:
    """P9: coordination with 应急管理, 民政, 财政 or another department about the event, by the county or city."""
    division_code = actor.division_id or ""
    require(actor, "disasters.manage", division_code)
    if not DisasterEvent.objects.visible_to(actor).filter(pk=event.pk).exists():
        raise ScopeError(_("不在您的管辖范围内"), errors={"event": _("该灾害事件不在您的管辖范围内")})
    content = text(content, 2000)
    errors: dict[str, str] = {}
    if department not in Department.values:
        errors["department"] = _("请选择部门")
    errors.update(check_date(noted_on, "noted_on", _("日期")))
    if not content:
        errors["content"] = _("请填写协调内容")
    if errors:
        raise invalid(errors)
    note = CoordinationNote.objects.create(
        division_id=division_code,
        event=event,
        department=department,
        noted_on=noted_on,
        content=content,
        written_by=actor,
    )
    event_record(
        actor=actor,
        action=Action.COORDINATION_NOTED,
        obj=note,
        after={"event": event.pk, "department": department, "noted_on": noted_on, "content": content},
    )
    return note
