"""The training ledger's endpoints (P17, P22): sessions, their attendees, and the per-person ledger of a year.

Thin over the selectors and services: a role without the action answers 403 before any lookup, and a session (or
person) outside the user's subtree answers 404, as if absent.
"""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.cases.models import Craftsman
from anju.core.errors import DomainError
from anju.core.scope import scope_q
from anju.divisions.models import Division

from . import selectors, services
from .models import Attendance, SessionKind
from .schemas import AttendeeIn, AttendeeOut, LedgerRowOut, SessionDetailOut, SessionIn, SessionOut

router = Router(tags=["培训台账"])


def _bad(field: str, message: str) -> DomainError:
    return DomainError(gettext("输入有误，请检查标出的字段"), errors={field: message})


def _division(value: str | None) -> str:
    code = (value or "").strip()
    if code and not Division.objects.filter(code=code).exists():
        raise _bad("division", gettext("区划代码{code}不存在").format(code=code))
    return code


def _users(actor: Any, ids: list[int]) -> list[User]:
    found = {u.pk: u for u in User.objects.filter(scope_q("division_id", actor.scope_prefix), pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise _bad("user_ids", gettext("用户不存在或不在您的管辖范围内：{ids}").format(ids="、".join(missing)))
    return list(found.values())


def _craftsmen(actor: Any, ids: list[int]) -> list[Craftsman]:
    found = {c.pk: c for c in Craftsman.objects.visible_to(actor).filter(pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise _bad("craftsman_ids", gettext("工匠不存在或不在您的管辖范围内：{ids}").format(ids="、".join(missing)))
    return list(found.values())


class SessionFiltersIn(Schema):
    division: str | None = Field(None, description=_("区划代码：只列该区划内组织的培训"))
    year: int | None = Field(None, ge=2000, le=2100)
    kind: SessionKind | None = None
    q: str | None = Field(None, max_length=64, description=_("培训内容（包含）"))


@router.get("/sessions", response=list[SessionOut], url_name="training_sessions_list")
@paginate(PageNumberPagination)
def training_sessions_list(request: HttpRequest, filters: Query[SessionFiltersIn]):
    """P17: training sessions organised in the user's subtree, newest first."""
    return selectors.session_list(
        actor=request.user,
        filters=selectors.SessionFilters(
            division=_division(filters.division), year=filters.year, kind=filters.kind or "", q=filters.q or ""
        ),
    )


@router.post("/sessions", response={201: SessionDetailOut}, url_name="training_sessions_create")
def training_sessions_create(request: HttpRequest, payload: SessionIn):
    """P17: record a session held by a county or town, with its attendees (staff of the organiser's subtree and
    craftsmen of its county), signed in unless `signed_in` is false."""
    require_action(request.user, "training.manage")
    data = payload.dict()
    session = services.session_create(
        actor=request.user,
        division_code=_division(data.pop("division")),
        users=_users(request.user, data.pop("user_ids")),
        craftsmen=_craftsmen(request.user, data.pop("craftsman_ids")),
        **data,
    )
    return Status(201, selectors.session_get(actor=request.user, pk=session.pk))


@router.get("/sessions/{int:pk}", response=SessionDetailOut, url_name="training_sessions_detail")
def training_sessions_detail(request: HttpRequest, pk: int):
    return selectors.session_get(actor=request.user, pk=pk)


@router.post("/sessions/{int:pk}/attendees", response={201: AttendeeOut}, url_name="training_attendees_add")
def training_attendees_add(request: HttpRequest, pk: int, payload: AttendeeIn):
    """Put a staff user or a craftsman on the session's list, or change whether they signed in (P17: only the
    signed-in are trained)."""
    require_action(request.user, "training.manage")
    session = selectors.session_get(actor=request.user, pk=pk)
    if (payload.user_id is None) == (payload.craftsman_id is None):
        raise _bad("user_id", gettext("请指定 user_id 或 craftsman_id 之一"))
    user = _users(request.user, [payload.user_id])[0] if payload.user_id is not None else None
    craftsman = _craftsmen(request.user, [payload.craftsman_id])[0] if payload.craftsman_id is not None else None
    attendance = services.attendee_add(
        actor=request.user, session=session, user=user, craftsman=craftsman, signed_in=payload.signed_in
    )
    return Status(201, Attendance.objects.select_related("user", "craftsman").get(pk=attendance.pk))


@router.delete(
    "/sessions/{int:pk}/attendees/{int:attendance_id}", response={204: None}, url_name="training_attendees_remove"
)
def training_attendees_remove(request: HttpRequest, pk: int, attendance_id: int):
    """Take a person off the session's list (recorded by mistake)."""
    require_action(request.user, "training.manage")
    session = selectors.session_get(actor=request.user, pk=pk)
    attendance = get_object_or_404(Attendance.objects.select_related("session"), session=session, pk=attendance_id)
    services.attendee_remove(actor=request.user, attendance=attendance)
    return Status(204, None)


class LedgerFiltersIn(Schema):
    year: int | None = Field(None, ge=2000, le=2100, description=_("年度（默认今年）"))
    division: str | None = Field(None, description=_("区划代码：只列该区划内的人员"))
    kind: str | None = Field(
        None, description=_("角色（village_staff、town_staff、appraiser、county_manager）或 craftsman")
    )
    status: str | None = Field(None, description=_("trained：已培训；untrained：未培训"))
    q: str | None = Field(None, max_length=40, description=_("姓名（包含）"))


def ledger_filters(values: dict[str, Any]) -> selectors.LedgerFilters:
    """The ledger's filters checked once for the API, the page and the export."""
    kind = values.get("kind") or ""
    if kind and kind not in dict(selectors.kind_choices()):
        raise _bad("kind", gettext("人员类别无效"))
    status = values.get("status") or ""
    if status not in ("", "trained", "untrained"):
        raise _bad("status", gettext("培训情况应为 trained 或 untrained"))
    return selectors.LedgerFilters(
        year=values.get("year") or timezone.localdate().year,
        division=_division(values.get("division")),
        kind=kind,
        status=status,
        q=(values.get("q") or "").strip(),
    )


@router.get("/ledger", response=list[LedgerRowOut], url_name="training_ledger")
@paginate(PageNumberPagination)
def training_ledger(request: HttpRequest, filters: Query[LedgerFiltersIn]):
    """P17 培训台账: everyone in the user's subtree who checks, appraises or builds, trained in the year or not."""
    return selectors.ledger_rows(actor=request.user, filters=ledger_filters(filters.dict()))
