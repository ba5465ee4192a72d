"""Campaign endpoints: thin — parse, call a selector or service, return."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.divisions.models import Division

from .. import selectors
from ..schemas_campaigns import (
    CampaignAnnualIn,
    CampaignDetailOut,
    CampaignFilters,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    ProgressOut,
    progress_out,
)
from ..services import campaigns as services

router = Router(tags=[_("核查批次")])


def _division(code: str | None) -> Division | None:
    if not code:
        return None
    division = Division.objects.filter(code=code.strip()).first()
    if division is None:
        message = gettext("区划代码{code}不存在").format(code=code)
        raise DomainError(gettext("筛选条件有误"), errors={"division": message})
    return division


def _detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    progress = selectors.campaign_progress(actor=request.user, campaign=campaign)
    campaign.progress = progress_out(progress)
    return campaign


@router.get("", response=list[CampaignOut], url_name="campaigns_list")
@paginate(PageNumberPagination)
def campaigns_list(request: HttpRequest, filters: Query[CampaignFilters]):
    require_action(request.user, "inspections.view")
    data = filters.dict()
    data["division"] = _division(data.get("division"))
    return selectors.campaign_list(actor=request.user, filters=data)


@router.get("/{int:pk}", response=CampaignDetailOut, url_name="campaigns_detail")
def campaigns_detail(request: HttpRequest, pk: int):
    """The campaign with its progress for the user's part of it (a town user sees their town)."""
    require_action(request.user, "inspections.view")
    return _detail(request, pk)


@router.get("/{int:pk}/progress", response=ProgressOut, url_name="campaigns_progress")
def campaigns_progress(request: HttpRequest, pk: int, division: str | None = None):
    """Progress per child division of `division` (default: the user's part of the campaign): households to check,
    checked, suspected, needs repair, coverage %, late (P5)."""
    require_action(request.user, "inspections.view")
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    where = selectors.progress_division(actor=request.user, campaign=campaign, code=division)
    return progress_out(selectors.campaign_progress(actor=request.user, campaign=campaign, division=where))


@router.post("", response={201: CampaignDetailOut}, url_name="campaigns_create")
def campaigns_create(request: HttpRequest, payload: CampaignIn):
    campaign = services.campaign_create(actor=request.user, **payload.dict())
    return Status(201, _detail(request, campaign.pk))


@router.post("/annual", response={201: CampaignDetailOut}, url_name="campaigns_create_annual")
def campaigns_create_annual(request: HttpRequest, payload: CampaignAnnualIn):
    """P5: create this year's (or `year`'s) 1 March – 30 April check in one call."""
    campaign = services.campaign_create_annual(actor=request.user, **payload.dict())
    return Status(201, _detail(request, campaign.pk))


@router.patch("/{int:pk}", response=CampaignDetailOut, url_name="campaigns_update")
def campaigns_update(request: HttpRequest, pk: int, payload: CampaignPatch):
    require_action(request.user, "inspections.manage")
    campaign = get_object_or_404(selectors.campaign_list(actor=request.user), pk=pk)
    services.campaign_update(actor=request.user, campaign=campaign, **payload.dict(exclude_unset=True))
    return _detail(request, pk)
