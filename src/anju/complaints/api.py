"""Complaints (信访, P14) at /api/v1/complaints and publicity and public opinion (宣传、舆情, P15) at
/api/v1/publicity: thin over the selectors and the services, so the API and the pages share every guard.

Lookups go through `visible_to`: a role without the action answers 403 before anything is looked up, and a row
(or linked household, case, handler) outside the user's subtree answers 404, as if absent.
"""

from enum import Enum
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.cases.models import Case
from anju.core.errors import DomainError
from anju.divisions.models import Division
from anju.registry.models import House, Household

from . import selectors, services
from .models import Category, Channel, ComplaintState, OpinionIncident, PublicityActivity, PublicityKind
from .schemas import (
    AssignIn,
    CloseIn,
    ComplaintDetailOut,
    ComplaintIn,
    ComplaintOut,
    ComplaintPatch,
    CountsOut,
    HotlineIn,
    HotlineOut,
    IncidentCloseIn,
    IncidentDetailOut,
    IncidentIn,
    IncidentOut,
    OpenCaseIn,
    OpenCaseOut,
    PhoneOut,
    PublicityIn,
    PublicityOut,
    PublicityPatch,
    ReplyIn,
    RespondIn,
    ReviewIn,
)

router = Router(tags=[_("信访")])
publicity_router = Router(tags=[_("宣传与舆情")])


class ComplaintFiltersIn(Schema):
    division: str | None = Field(None, description=_("区划代码：只列该区划内的信访件"))
    state: ComplaintState | None = None
    channel: Channel | None = None
    category: Category | None = None
    overdue: bool = Field(False, description=_("只列逾期未答复的（P14）"))
    open: bool = Field(False, description=_("只列未办结的"))
    review: bool = Field(False, description=_("只列回头看的"))
    handler: str | None = Field(None, description=_("承办人的用户编号，或 me"))
    q: str | None = Field(None, max_length=64, description=_("信访人姓名（前缀）"))


def _bad(field: str, message: str) -> DomainError:
    return DomainError(gettext("筛选条件有误"), errors={field: message})


def _division_code(value: str | None) -> str:
    code = (value or "").strip()
    if code and not Division.objects.filter(code=code).exists():
        raise _bad("division", gettext("区划代码{code}不存在").format(code=code))
    return code


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Enum members from the schemas as the plain codes the services store."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


def _found(queryset: QuerySet, pk: int) -> Model:
    return get_object_or_404(queryset, pk=pk)


def _move_data(payload: Schema) -> dict[str, Any]:
    data = _plain(payload.dict())
    data["expected_version"] = data.pop("version", None)
    return data


def _complaint(request: HttpRequest, pk: int, action: str = "complaints.handle") -> Any:
    """A complaint of the user's subtree that the user's roles allow `action` on: 403 without it, else 404."""
    require_action(request.user, action)
    return _found(selectors.complaints_visible(request.user), pk)


def _links(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """`household_id`/`case_id` as rows of the user's subtree (404 outside it), for the services."""
    links = {}
    for key, model in (("household_id", Household), ("case_id", Case)):
        if key in data:
            pk = data.pop(key)
            links[key[:-3]] = _found(model.objects.visible_to(request.user), pk) if pk is not None else None
    return links


# -- complaints ---------------------------------------------------------------------------------------------------


@router.get(
    "",
    response=list[ComplaintOut],
    url_name="complaints_list",
    description=_(
        "信访件列表。筛选：division 区划代码、state 状态、channel 来源渠道、category 问题类别、overdue 逾期未答复、"
        "open 未办结、review 回头看、handler 承办人（用户编号或 me）、q 信访人姓名。"
    ),
)
@paginate(PageNumberPagination)
def complaints_list(request: HttpRequest, filters: Query[ComplaintFiltersIn]):
    require_action(request.user, "complaints.view")
    handler = (filters.handler or "").strip()
    if handler and handler != "me" and not handler.isdigit():
        raise _bad("handler", gettext("承办人应为用户编号或 me"))
    return selectors.complaint_list(
        request.user,
        selectors.ComplaintFilters(
            division=_division_code(filters.division),
            state=filters.state.value if filters.state else "",
            channel=filters.channel.value if filters.channel else "",
            category=filters.category.value if filters.category else "",
            overdue=filters.overdue,
            open_only=filters.open,
            review=filters.review,
            handler=request.user.pk if handler == "me" else int(handler) if handler else None,
            q=filters.q or "",
        ),
    )


@router.get("/counts", response=CountsOut, url_name="complaints_counts")
def complaints_counts(request: HttpRequest):
    """P14, P15 at a glance in the user's scope: open and overdue complaints, this year's publicity activities,
    open public-opinion incidents (the home page's numbers)."""
    require_action(request.user, "complaints.view")
    return selectors.dashboard_counts(request.user)


@router.get("/hotlines", response=list[HotlineOut], url_name="hotlines_list")
def hotlines_list(request: HttpRequest):
    """P14: the published complaint hotlines of the counties in the user's subtree (and the user's own county)."""
    require_action(request.user, "complaints.view")
    return selectors.hotline_list(request.user)


@router.post("/hotlines", response=HotlineOut, url_name="hotlines_set")
def hotlines_set(request: HttpRequest, payload: HotlineIn):
    """P14: publish (or change) a county's complaint hotline."""
    require_action(request.user, "complaints.handle")
    hotline = services.hotline_set(actor=request.user, **_plain(payload.dict()))
    return selectors.hotline_list(request.user).get(pk=hotline.pk)


@router.get("/{int:pk}", response=ComplaintDetailOut, url_name="complaints_detail")
def complaints_detail(request: HttpRequest, pk: int):
    """The complaint page: the row, handling, reply, satisfaction, look-back and the whole history."""
    require_action(request.user, "complaints.view")
    return selectors.complaint_get(request.user, pk)


@router.post("", response={201: ComplaintDetailOut}, url_name="complaints_create")
def complaints_create(request: HttpRequest, payload: ComplaintIn):
    """P14: receive (受理) a complaint; the reply deadline follows from the channel."""
    require_action(request.user, "complaints.handle")
    data = _plain(payload.dict())
    links = _links(request, data)
    code = (data.pop("division_code") or "").strip()
    if not code and links.get("household") is not None:
        code = links["household"].division_id
    if not code:
        message = gettext("请填写所涉区划代码或关联农户")
        raise DomainError(message, errors={"division_code": message})
    complaint = services.complaint_register(actor=request.user, division_code=code, **links, **data)
    return Status(201, selectors.complaint_get(request.user, complaint.pk))


@router.patch("/{int:pk}", response=ComplaintDetailOut, url_name="complaints_update")
def complaints_update(request: HttpRequest, pk: int, payload: ComplaintPatch):
    """Correct the complainant, the content, the category or the links, until the complaint is closed."""
    complaint = _complaint(request, pk)
    changes = _plain(payload.dict(exclude_unset=True))
    version = changes.pop("version", None)
    changes = {k: v for k, v in changes.items() if v is not None or k in ("household_id", "case_id")}
    changes |= _links(request, changes)
    services.complaint_update(actor=request.user, complaint=complaint, expected_version=version, **changes)
    return selectors.complaint_get(request.user, pk)


@router.post("/{int:pk}/assign", response=ComplaintDetailOut, url_name="complaints_assign")
def complaints_assign(request: HttpRequest, pk: int, payload: AssignIn):
    """P14: give the complaint to a handler (受理 → 办理中), optionally with another reply deadline."""
    complaint = _complaint(request, pk)
    data = _move_data(payload)
    handler = get_user_model().objects.filter(pk=data.pop("handler_id"), is_active=True).first()
    services.complaint_assign(actor=request.user, complaint=complaint, handler=handler, **data)
    return selectors.complaint_get(request.user, pk)


@router.post("/{int:pk}/reply", response=ComplaintDetailOut, url_name="complaints_reply")
def complaints_reply(request: HttpRequest, pk: int, payload: ReplyIn):
    """P14: record the reply to the complainant (办理中 → 已答复)."""
    complaint = _complaint(request, pk)
    services.complaint_reply(actor=request.user, complaint=complaint, **_move_data(payload))
    return selectors.complaint_get(request.user, pk)


@router.post("/{int:pk}/close", response=ComplaintDetailOut, url_name="complaints_close")
def complaints_close(request: HttpRequest, pk: int, payload: CloseIn):
    """P14: close with the complainant's satisfaction (已答复 → 已办结)."""
    complaint = _complaint(request, pk)
    services.complaint_close(actor=request.user, complaint=complaint, **_move_data(payload))
    return selectors.complaint_get(request.user, pk)


@router.post("/{int:pk}/review", response=ComplaintDetailOut, url_name="complaints_review")
def complaints_review(request: HttpRequest, pk: int, payload: ReviewIn):
    """P14 回头看: look again at a closed complaint and record what was found."""
    complaint = _complaint(request, pk)
    services.complaint_review(actor=request.user, complaint=complaint, **_move_data(payload))
    return selectors.complaint_get(request.user, pk)


@router.post("/{int:pk}/open-case", response={201: OpenCaseOut}, url_name="complaints_open_case")
def complaints_open_case(request: HttpRequest, pk: int, payload: OpenCaseIn):
    """P14, P19: open a ledger case (source 信访) for the complaint's household and link it."""
    complaint = _complaint(request, pk)
    data = payload.dict()
    house_id = data.pop("house_id")
    house = _found(House.objects.visible_to(request.user), house_id) if house_id is not None else None
    case = services.complaint_open_case(actor=request.user, complaint=complaint, house=house, **data)
    return Status(201, {"complaint_id": complaint.pk, "case_id": case.pk})


@router.post("/{int:pk}/phone", response=PhoneOut, url_name="complaints_phone")
def complaints_phone(request: HttpRequest, pk: int):
    """The complainant's full phone number; every call is an audit event (personal information)."""
    complaint = _complaint(request, pk)
    return {"phone": services.complaint_reveal_phone(actor=request.user, complaint=complaint)}


# -- publicity (P15) ----------------------------------------------------------------------------------------------


class PublicityFiltersIn(Schema):
    division: str | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    kind: PublicityKind | None = None


@publicity_router.get("/activities", response=list[PublicityOut], url_name="publicity_list")
@paginate(PageNumberPagination)
def publicity_list(request: HttpRequest, filters: Query[PublicityFiltersIn]):
    """P15: publicity activities (宣传台账), newest first. Filters: division, year, kind."""
    require_action(request.user, "complaints.view")
    return selectors.publicity_list(
        request.user,
        division=_division_code(filters.division),
        year=filters.year,
        kind=filters.kind.value if filters.kind else "",
    )


@publicity_router.get("/activities/{int:pk}", response=PublicityOut, url_name="publicity_detail")
def publicity_detail(request: HttpRequest, pk: int):
    require_action(request.user, "complaints.view")
    return _found(selectors.publicity_list(request.user), pk)


@publicity_router.post("/activities", response={201: PublicityOut}, url_name="publicity_create")
def publicity_create(request: HttpRequest, payload: PublicityIn):
    """P15: record a publicity activity (a photo is uploaded on the web page)."""
    require_action(request.user, "complaints.publicity")
    activity = services.publicity_record(actor=request.user, **_plain(payload.dict()))
    return Status(201, _found(selectors.publicity_list(request.user), activity.pk))


@publicity_router.patch("/activities/{int:pk}", response=PublicityOut, url_name="publicity_update")
def publicity_update(request: HttpRequest, pk: int, payload: PublicityPatch):
    require_action(request.user, "complaints.publicity")
    activity = _found(PublicityActivity.objects.visible_to(request.user), pk)
    changes = {k: v for k, v in _plain(payload.dict(exclude_unset=True)).items() if v is not None}
    services.publicity_update(actor=request.user, activity=activity, **changes)
    return _found(selectors.publicity_list(request.user), pk)


# -- public opinion (P15) -----------------------------------------------------------------------------------------


class IncidentFiltersIn(Schema):
    division: str | None = None
    open: bool = Field(False, description=_("只列未办结的"))
    unanswered: bool = Field(False, description=_("只列超过1天未回应的（P15）"))


def _incident(request: HttpRequest, pk: int) -> OpinionIncident:
    require_action(request.user, "complaints.publicity")
    return _found(OpinionIncident.objects.visible_to(request.user), pk)


@publicity_router.get("/incidents", response=list[IncidentOut], url_name="incidents_list")
@paginate(PageNumberPagination)
def incidents_list(request: HttpRequest, filters: Query[IncidentFiltersIn]):
    """P15: public-opinion incidents (舆情), newest first. Filters: division, open, unanswered."""
    require_action(request.user, "complaints.view")
    return selectors.incident_list(
        request.user,
        division=_division_code(filters.division),
        open_only=filters.open,
        unanswered=filters.unanswered,
    )


@publicity_router.get("/incidents/{int:pk}", response=IncidentDetailOut, url_name="incidents_detail")
def incidents_detail(request: HttpRequest, pk: int):
    require_action(request.user, "complaints.view")
    return _found(selectors.incident_list(request.user), pk)


@publicity_router.post("/incidents", response={201: IncidentDetailOut}, url_name="incidents_create")
def incidents_create(request: HttpRequest, payload: IncidentIn):
    """P15: record an incident found; unanswered after one day it becomes an alert."""
    require_action(request.user, "complaints.publicity")
    incident = services.incident_record(actor=request.user, **_plain(payload.dict()))
    return Status(201, _found(selectors.incident_list(request.user), incident.pk))


@publicity_router.post("/incidents/{int:pk}/respond", response=IncidentDetailOut, url_name="incidents_respond")
def incidents_respond(request: HttpRequest, pk: int, payload: RespondIn):
    services.incident_respond(actor=request.user, incident=_incident(request, pk), **payload.dict())
    return _found(selectors.incident_list(request.user), pk)


@publicity_router.post("/incidents/{int:pk}/close", response=IncidentDetailOut, url_name="incidents_close")
def incidents_close(request: HttpRequest, pk: int, payload: IncidentCloseIn):
    services.incident_close(actor=request.user, incident=_incident(request, pk), **payload.dict())
    return _found(selectors.incident_list(request.user), pk)
