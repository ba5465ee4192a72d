"""The idle dangerous house endpoints (P11), thin over `selectors` and `services`: a role without the action answers
403 before anything is looked up; a listing, house or watcher outside the user's subtree answers 404."""

from enum import Enum
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.core.scope import scope_q
from anju.divisions.models import Division
from anju.registry.models import House

from . import selectors, services
from .models import IdleHouse
from .schemas import EndIn, IdleDetailOut, IdleIn, IdleOut, IdlePatch, SecureIn, VisitIn, VisitOut

router = Router(tags=["闲置危房"])


class IdleFiltersIn(Schema):
    division: str | None = Field(None, description=_("区划代码：只列该区划内的"))
    status: str = Field("open", pattern="^(open|ended|all)$", description=_("open 在册（默认）、ended 已销号、all"))
    problem: str | None = Field(
        None,
        pattern="^(visit_missed|not_secured|occupied)$",
        description=_("visit_missed 未按期巡查、not_secured 未封存或未设警示标识、occupied 发现有人居住（P11）"),
    )
    q: str | None = Field(None, max_length=64, description=_("户主姓名（前缀）"))


def _filters(filters: IdleFiltersIn) -> selectors.IdleFilters:
    code = (filters.division or "").strip()
    if code and not Division.objects.filter(code=code).exists():
        message = gettext("区划代码{code}不存在").format(code=code)
        raise DomainError(gettext("筛选条件有误"), errors={"division": message})
    return selectors.IdleFilters(division=code, status=filters.status, problem=filters.problem or "", q=filters.q or "")


def _listing(request: HttpRequest, pk: int) -> IdleHouse:
    require_action(request.user, "idle.manage")
    return get_object_or_404(selectors.idle_visible(request.user), pk=pk)


def _watcher(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """The watcher by id, among the users the caller's scope covers (404 otherwise)."""
    watcher_id = data.pop("watcher_id", None)
    if watcher_id is not None:
        users = User.objects.filter(scope_q("division_id", request.user.scope_prefix))
        data["watcher"] = get_object_or_404(users, pk=watcher_id)
    return data


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


@router.get(
    "",
    response=list[IdleOut],
    url_name="idlehouses_list",
    description=_("闲置危房名单。筛选：division 区划代码、status 状态、problem 问题、q 户主姓名。"),
)
@paginate(PageNumberPagination)
def idlehouses_list(request: HttpRequest, filters: Query[IdleFiltersIn]):
    require_action(request.user, "idle.view")
    return selectors.idle_list(request.user, _filters(filters))


@router.get("/{int:pk}", response=IdleDetailOut, url_name="idlehouses_detail")
def idlehouses_detail(request: HttpRequest, pk: int):
    """One listing with its watcher and every visit, newest first."""
    require_action(request.user, "idle.view")
    return selectors.idle_get(request.user, pk)


@router.post("", response={201: IdleDetailOut}, url_name="idlehouses_create")
def idlehouses_create(request: HttpRequest, payload: IdleIn):
    """P11: put an idle C/D house on the list with a named watcher and a visit interval (default 30 days)."""
    require_action(request.user, "idle.manage")
    data = _watcher(request, payload.dict())
    house = get_object_or_404(House.objects.visible_to(request.user), pk=data.pop("house_id"))
    idle = services.idle_list(actor=request.user, house=house, **data)
    return Status(201, selectors.idle_get(request.user, idle.pk))


@router.patch("/{int:pk}", response=IdleDetailOut, url_name="idlehouses_update")
def idlehouses_update(request: HttpRequest, pk: int, payload: IdlePatch):
    """A new watcher, interval or note; the next visit is due again one interval after the last one."""
    idle = _listing(request, pk)
    data = _watcher(request, payload.dict())
    data["expected_version"] = data.pop("version")
    services.idle_update(actor=request.user, idle=idle, **data)
    return selectors.idle_get(request.user, pk)


@router.post("/{int:pk}/secure", response=IdleDetailOut, url_name="idlehouses_secure")
def idlehouses_secure(
    request: HttpRequest, pk: int, payload: Form[SecureIn], sign_photo: File[UploadedFile | None] = None
):
    """P11: sealed (封存: date and by whom) and a warning sign posted (date and a photo, multipart `sign_photo`)."""
    idle = _listing(request, pk)
    data = payload.dict()
    data["expected_version"] = data.pop("version")
    services.idle_secure(actor=request.user, idle=idle, sign_photo=sign_photo, **data)
    return selectors.idle_get(request.user, pk)


@router.post("/{int:pk}/visits", response={201: VisitOut}, url_name="idlehouses_visit")
def idlehouses_visit(request: HttpRequest, pk: int, payload: VisitIn):
    """P11: a visit finds the house empty, or an incident and what was done about it."""
    idle = _listing(request, pk)
    data = _plain(payload.dict())
    data["expected_version"] = data.pop("version")
    return Status(201, services.idle_visit(actor=request.user, idle=idle, **data))


@router.post("/{int:pk}/end", response=IdleDetailOut, url_name="idlehouses_end")
def idlehouses_end(request: HttpRequest, pk: int, payload: EndIn):
    """P11: the listing ends — demolished, renovated, or no longer dangerous."""
    idle = _listing(request, pk)
    data = _plain(payload.dict())
    data["expected_version"] = data.pop("version")
    services.idle_end(actor=request.user, idle=idle, **data)
    return selectors.idle_get(request.user, pk)
