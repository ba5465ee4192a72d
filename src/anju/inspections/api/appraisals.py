"""Suspected dangers (P8) and appraisals: thin endpoints over the selectors and services."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.registry.models import House

from .. import selectors_appraisals as selectors
from ..filters_appraisals import AppraisalFilterForm, RequestFilterForm
from ..models import AppraisalRequest
from ..schemas_appraisals import (
    AppraisalDetailOut,
    AppraisalIn,
    AppraisalOut,
    AppraisalRequestIn,
    AppraisalRequestOut,
    AssignIn,
)
from ..services import appraisals as services

requests_router = Router(tags=[_("疑似危房与鉴定申请")])
router = Router(tags=[_("鉴定")])


class RequestFilters(Schema):
    division: str | None = None
    status: str | None = None
    overdue: str | None = None


class AppraisalFilters(Schema):
    division: str | None = None
    grade: str | None = None
    flagged: str | None = None


def _clean(form_class: type, filters: Schema) -> dict[str, Any]:
    form = form_class(data={k: v for k, v in filters.dict().items() if v is not None})
    if not form.is_valid():
        raise DomainError(gettext("筛选条件有误"), errors={k: " ".join(v) for k, v in form.errors.items()})
    return form.cleaned_data


def _house(request: HttpRequest, pk: int) -> House:
    """A house the actor can see, or 404 (its existence outside the subtree is not disclosed)."""
    return get_object_or_404(House.objects.visible_to(request.user), pk=pk)


@requests_router.get("", response=list[AppraisalRequestOut], url_name="appraisal_requests_list")
@paginate(PageNumberPagination)
def appraisal_requests_list(request: HttpRequest, filters: Query[RequestFilters]):
    require_action(request.user, "inspections.view")
    return selectors.request_list(actor=request.user, filters=_clean(RequestFilterForm, filters))


@requests_router.get("/{int:pk}", response=AppraisalRequestOut, url_name="appraisal_requests_detail")
def appraisal_requests_detail(request: HttpRequest, pk: int):
    require_action(request.user, "inspections.view")
    return selectors.request_get(actor=request.user, pk=pk)


@requests_router.post("", response={201: AppraisalRequestOut}, url_name="appraisal_requests_create")
def appraisal_requests_create(request: HttpRequest, payload: AppraisalRequestIn):
    """P8: report a suspected dangerous house (due in ANJU_APPRAISAL_DUE_DAYS days)."""
    require_action(request.user, "inspections.report")
    data = payload.dict()
    house = _house(request, data.pop("house_id"))
    created = services.request_open(actor=request.user, house=house, **data)
    return Status(201, selectors.request_get(actor=request.user, pk=created.pk))


@requests_router.post("/{int:pk}/assign", response=AppraisalRequestOut, url_name="appraisal_requests_assign")
def appraisal_requests_assign(request: HttpRequest, pk: int, payload: AssignIn):
    """The county assigns a trained appraiser of its county (P17)."""
    require_action(request.user, "inspections.assign")
    target = get_object_or_404(AppraisalRequest.objects.visible_to(request.user), pk=pk)
    appraiser = User.objects.select_related("division").filter(pk=payload.appraiser_id).first()
    if appraiser is None:
        raise DomainError(gettext("鉴定人员不存在"), errors={"appraiser_id": gettext("鉴定人员不存在")})
    services.request_assign(actor=request.user, request=target, appraiser=appraiser, assigned_on=payload.assigned_on)
    return selectors.request_get(actor=request.user, pk=pk)


@router.get("", response=list[AppraisalOut], url_name="appraisals_list")
@paginate(PageNumberPagination)
def appraisals_list(request: HttpRequest, filters: Query[AppraisalFilters]):
    require_action(request.user, "inspections.view")
    return selectors.appraisal_list(actor=request.user, filters=_clean(AppraisalFilterForm, filters))


@router.get("/{int:pk}", response=AppraisalDetailOut, url_name="appraisals_detail")
def appraisals_detail(request: HttpRequest, pk: int):
    require_action(request.user, "inspections.view")
    return selectors.appraisal_get(actor=request.user, pk=pk)


@router.post("", response={201: AppraisalDetailOut}, url_name="appraisals_create")
def appraisals_create(request: HttpRequest, payload: AppraisalIn):
    """Record an appraisal: the engine computes the grade; an override needs a reason and is flagged."""
    require_action(request.user, "inspections.appraise")
    data = payload.dict()
    house = _house(request, data.pop("house_id"))
    request_id = data.pop("request_id")
    target = get_object_or_404(AppraisalRequest.objects.visible_to(request.user), pk=request_id) if request_id else None
    components = data.pop("components")
    grades: dict[str, str] = {}
    for item in components:
        if item["code"] in grades:
            message = gettext("构件「{code}」重复填写").format(code=item["code"])
            raise DomainError(message, errors={f"component_{item['code']}": message})
        grades[item["code"]] = item["grade"]
    appraisal = services.appraisal_record(
        actor=request.user,
        house=house,
        request=target,
        components=grades,
        notes={item["code"]: item["note"] for item in components},
        **data,
    )
    return Status(201, selectors.appraisal_get(actor=request.user, pk=appraisal.pk))
