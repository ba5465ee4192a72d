"""P10's tracking endpoints, thin over `selectors` and `services`: a role without the action answers 403 before
anything is looked up; a record, household, case or house outside the user's subtree answers 404."""

from enum import Enum
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.divisions.models import Division
from anju.registry.models import House, Household

from . import selectors, services
from .models import Housing, Tracking, TrackingKind
from .schemas import CloseIn, ExplainIn, OpenCaseIn, TrackingIn, TrackingOut, TrackingPatch, WishIn

router = Router(tags=["重新申请与返乡户"])


class TrackingFiltersIn(Schema):
    division: str | None = Field(None, description=_("区划代码：只列该区划内的"))
    kind: TrackingKind | None = None
    state: str | None = Field(
        None,
        pattern="^(open|tracking|explained|wish_confirmed|case_opened|closed)$",
        description=_("open 未结束，或一个状态"),
    )
    housing: Housing | None = None
    stalled: bool = Field(False, description=_("确认改造意愿超过30天未登记台账（P10）"))
    q: str | None = Field(None, max_length=64, description=_("户主姓名（前缀）"))


def _filters(filters: TrackingFiltersIn) -> selectors.TrackingFilters:
    code = (filters.division or "").strip()
    if code and not Division.objects.filter(code=code).exists():
        message = gettext("区划代码{code}不存在").format(code=code)
        raise DomainError(gettext("筛选条件有误"), errors={"division": message})
    return selectors.TrackingFilters(
        division=code,
        kind=filters.kind.value if filters.kind else "",
        state=filters.state or "",
        housing=filters.housing.value if filters.housing else "",
        stalled=filters.stalled,
        q=filters.q or "",
    )


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


def _record(request: HttpRequest, pk: int) -> Tracking:
    require_action(request.user, "returns.track")
    return get_object_or_404(selectors.tracking_visible(request.user).select_related("household"), pk=pk)


def _versioned(payload: Schema) -> dict[str, Any]:
    data = _plain(payload.dict())
    data["expected_version"] = data.pop("version")
    return data


@router.get(
    "",
    response=list[TrackingOut],
    url_name="trackings_list",
    description=_(
        "跟踪农户列表。筛选：division 区划代码、kind 类型、state 状态、housing 现住房情况、stalled、q 户主姓名。"
    ),
)
@paginate(PageNumberPagination)
def trackings_list(request: HttpRequest, filters: Query[TrackingFiltersIn]):
    require_action(request.user, "returns.view")
    return selectors.tracking_list(request.user, _filters(filters))


@router.get("/{int:pk}", response=TrackingOut, url_name="trackings_detail")
def trackings_detail(request: HttpRequest, pk: int):
    require_action(request.user, "returns.view")
    return selectors.tracking_get(request.user, pk)


@router.post("", response={201: TrackingOut}, url_name="trackings_create")
def trackings_create(request: HttpRequest, payload: TrackingIn):
    """P10: start following a household made safe by other means (from its 保障安全 case) or back home (返乡)."""
    from anju.cases.models import Case

    require_action(request.user, "returns.track")
    data = _plain(payload.dict())
    case_id, household_id = data.pop("origin_case_id"), data.pop("household_id")
    case = None
    if case_id is not None:
        case = get_object_or_404(Case.objects.visible_to(request.user).select_related("household"), pk=case_id)
        household = case.household
        if household_id is not None and household_id != household.pk:
            raise DomainError(gettext("输入有误"), errors={"household_id": gettext("该台账不属于此农户")})
    elif household_id is not None:
        household = get_object_or_404(Household.objects.visible_to(request.user), pk=household_id)
    else:
        message = gettext("请指定农户或「保障安全」的台账")
        raise DomainError(message, errors={"household_id": message})
    data["housing"] = data["housing"] or ""
    tracking = services.tracking_start(actor=request.user, household=household, origin_case=case, **data)
    return Status(201, selectors.tracking_get(request.user, tracking.pk))


@router.patch("/{int:pk}", response=TrackingOut, url_name="trackings_update")
def trackings_update(request: HttpRequest, pk: int, payload: TrackingPatch):
    """How the household is housed now, since when, who follows it, notes, the last contact."""
    tracking = _record(request, pk)
    changes = _plain(payload.dict(exclude_unset=True))
    version = changes.pop("version", None)
    services.tracking_update(actor=request.user, tracking=tracking, expected_version=version, **changes)
    return selectors.tracking_get(request.user, pk)


@router.post("/{int:pk}/explain", response=TrackingOut, url_name="trackings_explain")
def trackings_explain(request: HttpRequest, pk: int, payload: ExplainIn):
    """P10: the policy explained to the household (when, by whom, what)."""
    services.tracking_explain(actor=request.user, tracking=_record(request, pk), **_versioned(payload))
    return selectors.tracking_get(request.user, pk)


@router.post("/{int:pk}/wish", response=TrackingOut, url_name="trackings_wish")
def trackings_wish(request: HttpRequest, pk: int, payload: WishIn):
    """P10: the household's signed wish to renovate (确认改造意愿), after the explanation."""
    services.tracking_confirm_wish(actor=request.user, tracking=_record(request, pk), **_versioned(payload))
    return selectors.tracking_get(request.user, pk)


@router.post("/{int:pk}/case", response=TrackingOut, url_name="trackings_case")
def trackings_case(request: HttpRequest, pk: int, payload: OpenCaseIn):
    """P10: open the re-application's ledger case (source 重新申请); the county plans it the normal way."""
    tracking = _record(request, pk)
    require_action(request.user, "cases.open")
    data = payload.dict()
    house_id = data.pop("house_id")
    house = get_object_or_404(House.objects.visible_to(request.user), pk=house_id) if house_id is not None else None
    services.tracking_open_case(actor=request.user, tracking=tracking, house=house, **data)
    return selectors.tracking_get(request.user, pk)


@router.post("/{int:pk}/close", response=TrackingOut, url_name="trackings_close")
def trackings_close(request: HttpRequest, pk: int, payload: CloseIn):
    """End the tracking without a re-application, with the reason."""
    services.tracking_close(actor=request.user, tracking=_record(request, pk), **_versioned(payload))
    return selectors.tracking_get(request.user, pk)
