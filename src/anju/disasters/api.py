"""Endpoints of special periods and disasters (P9, P23) at /api/v1/disasters: seasons, plans, events with their
dashboard, damage reports, resettlements and coordination notes — thin over `selectors` and `services`.

A role without the action answers 403 before anything is looked up; an object outside the user's subtree 404.
"""

from enum import Enum
from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.registry.models import House

from . import selectors, services
from .models import DamageLevel, DamageReport, DisasterEvent, EmergencyPlan, Season
from .schemas import (
    EventDetailOut,
    EventIn,
    EventOut,
    EventPatch,
    NoteIn,
    NoteOut,
    PlanIn,
    PlanOut,
    ReportDetailOut,
    ReportIn,
    ReportOut,
    ResettlementIn,
    ResettlementOut,
    SeasonIn,
    SeasonOut,
)

router = Router(tags=[_("灾害与特殊时期")])


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


def _event(request: HttpRequest, pk: int, action: str = "disasters.view") -> DisasterEvent:
    require_action(request.user, action)
    return selectors.event_get(request.user, pk)


def _report(request: HttpRequest, pk: int, action: str = "disasters.view") -> DamageReport:
    require_action(request.user, action)
    return selectors.report_get(request.user, pk)


def _event_detail(request: HttpRequest, event: DisasterEvent) -> DisasterEvent:
    """The event with its dashboard (the counts the user may see) attached for `EventDetailOut`."""
    rows, total = selectors.dashboard(request.user, event)
    event.dashboard = [{"code": r.code, "name": r.name, **r.counts} for r in rows]
    event.total = {"code": total.code, "name": str(_("合计")), **total.counts}
    return event


# -- seasons and plans ----------------------------------------------------------------------------------------


@router.get("/seasons", response=list[SeasonOut], url_name="seasons_list")
def seasons_list(request: HttpRequest):
    """P9: each county's flood and freeze-thaw season (its own dates or Yulin's default), the current or next run,
    and whether its plan is filed."""
    require_action(request.user, "disasters.view")
    rows = selectors.season_rows(request.user, timezone.localdate())
    return [
        {
            "county": r.county,
            "county_name": r.name,
            "season": {"code": r.season, "label": str(dict(Season.choices)[r.season])},
            "start_month": r.window[0],
            "start_day": r.window[1],
            "end_month": r.window[2],
            "end_day": r.window[3],
            "custom": r.custom,
            "current_start": r.start,
            "current_end": r.end,
            "plan_id": r.plan.pk if r.plan else None,
            "plan_due": r.due,
        }
        for r in rows
    ]


@router.put("/seasons", response=list[SeasonOut], url_name="seasons_set")
def seasons_set(request: HttpRequest, payload: SeasonIn):
    """P9: a county sets its own dates of a season (a window ending before it starts runs into the next year)."""
    data = _plain(payload.dict())
    services.season_window_set(actor=request.user, county_code=data.pop("county").strip(), **data)
    return seasons_list(request)


@router.get("/plans", response=list[PlanOut], url_name="plans_list")
@paginate(PageNumberPagination)
def plans_list(request: HttpRequest, year: int | None = None, season: Season | None = None):
    require_action(request.user, "disasters.view")
    return selectors.plan_list(request.user, year=year, season=season.value if season else "")


@router.get("/plans/{int:pk}", response=PlanOut, url_name="plans_detail")
def plans_detail(request: HttpRequest, pk: int):
    require_action(request.user, "disasters.view")
    return get_object_or_404(selectors.plans_visible(request.user), pk=pk)


@router.post("/plans", response={201: PlanOut}, url_name="plans_create")
def plans_create(request: HttpRequest, payload: Form[PlanIn], document: File[UploadedFile]):
    """P9: file a county's emergency plan (multipart: the fields and the document)."""
    data = _plain(payload.dict())
    plan = services.plan_file(actor=request.user, county_code=data.pop("county").strip(), document=document, **data)
    return Status(201, get_object_or_404(selectors.plans_visible(request.user), pk=plan.pk))


@router.get("/plans/{int:pk}/document", url_name="plans_document")
def plans_document(request: HttpRequest, pk: int):
    require_action(request.user, "disasters.view")
    plan = get_object_or_404(EmergencyPlan.objects.visible_to(request.user), pk=pk)
    try:
        handle = plan.document.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=plan.document.name.rsplit("/", 1)[-1])


# -- events ---------------------------------------------------------------------------------------------------


@router.get("/events", response=list[EventOut], url_name="events_list")
@paginate(PageNumberPagination)
def events_list(request: HttpRequest):
    require_action(request.user, "disasters.view")
    return selectors.events_visible(request.user)


@router.get("/events/{int:pk}", response=EventDetailOut, url_name="events_detail")
def events_detail(request: HttpRequest, pk: int):
    """The event and its dashboard: per division reported, resettled, appraised, dangerous (C/D), rebuilt."""
    return _event_detail(request, _event(request, pk))


@router.post("/events", response={201: EventDetailOut}, url_name="events_create")
def events_create(request: HttpRequest, payload: EventIn):
    """P9: declare a disaster (county or city), so villages can report damage against it."""
    data = _plain(payload.dict())
    event = services.event_declare(actor=request.user, division_code=data.pop("division"), **data)
    return Status(201, _event_detail(request, event))


@router.patch("/events/{int:pk}", response=EventDetailOut, url_name="events_update")
def events_update(request: HttpRequest, pk: int, payload: EventPatch):
    event = _event(request, pk, "disasters.manage")
    services.event_update(actor=request.user, event=event, **payload.dict(exclude_unset=True))
    return _event_detail(request, selectors.event_get(request.user, pk))


@router.post("/events/{int:pk}/notes", response={201: NoteOut}, url_name="notes_create")
def notes_create(request: HttpRequest, pk: int, payload: NoteIn):
    """P9: coordination with 应急管理, 民政, 财政 or another department about the event."""
    event = _event(request, pk, "disasters.manage")
    return Status(201, services.note_record(actor=request.user, event=event, **_plain(payload.dict())))


class EventFilter(Schema):
    event: int | None = None


@router.get("/notes", response=list[NoteOut], url_name="notes_list")
@paginate(PageNumberPagination)
def notes_list(request: HttpRequest, filters: Query[EventFilter]):
    require_action(request.user, "disasters.view")
    return selectors.note_list(request.user, event=filters.event)


# -- damage reports and resettlement --------------------------------------------------------------------------


class ReportFilter(Schema):
    event: int | None = None
    level: DamageLevel | None = None


@router.get("/reports", response=list[ReportOut], url_name="reports_list")
@paginate(PageNumberPagination)
def reports_list(request: HttpRequest, filters: Query[ReportFilter]):
    require_action(request.user, "disasters.view")
    level = filters.level.value if filters.level else ""
    return selectors.report_list(request.user, event=filters.event, level=level)


@router.get("/reports/{int:pk}", response=ReportDetailOut, url_name="reports_detail")
def reports_detail(request: HttpRequest, pk: int):
    return _report(request, pk)


@router.post("/reports", response={201: ReportDetailOut}, url_name="reports_create")
def reports_create(request: HttpRequest, payload: ReportIn):
    """P9: report one damaged house of an event at once; severe or collapsed houses go to appraisal (P23).
    Photos: POST /reports/{id}/photos (multipart)."""
    require_action(request.user, "disasters.report")
    data = _plain(payload.dict())
    event = selectors.event_get(request.user, data.pop("event_id"))
    house = get_object_or_404(House.objects.visible_to(request.user), pk=data.pop("house_id"))
    report = services.damage_report(actor=request.user, event=event, house=house, **data)
    return Status(201, selectors.report_get(request.user, report.pk))


@router.post("/reports/{int:pk}/photos", response={201: ReportDetailOut}, url_name="reports_photos")
def reports_photos(request: HttpRequest, pk: int, photo: File[UploadedFile]):
    report = _report(request, pk, "disasters.report")
    services.damage_photo_add(actor=request.user, report=report, file=photo)
    return Status(201, selectors.report_get(request.user, pk))


@router.post("/reports/{int:pk}/request-appraisal", response=ReportDetailOut, url_name="reports_request_appraisal")
def reports_request_appraisal(request: HttpRequest, pk: int):
    """P23: send a slightly or moderately damaged house to appraisal."""
    report = _report(request, pk, "disasters.report")
    services.damage_request_appraisal(actor=request.user, report=report)
    return selectors.report_get(request.user, pk)


@router.post("/reports/{int:pk}/resettlements", response={201: ResettlementOut}, url_name="resettlements_create")
def resettlements_create(request: HttpRequest, pk: int, payload: ResettlementIn):
    """P9: where the damaged household lives meanwhile, since when, and who confirmed the place safe."""
    report = _report(request, pk, "disasters.report")
    data = _plain(payload.dict())
    return Status(201, services.resettlement_record(actor=request.user, report=report, **data))


@router.get("/resettlements", response=list[ResettlementOut], url_name="resettlements_list")
@paginate(PageNumberPagination)
def resettlements_list(request: HttpRequest, filters: Query[EventFilter]):
    require_action(request.user, "disasters.view")
    return selectors.resettlement_list(request.user, event=filters.event)
