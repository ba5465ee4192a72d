"""P13 endpoints: coverage by division, the distribution records, and recording distributions — the same
selectors and services as the pages."""

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.core.scope import scope_q
from anju.divisions.models import Division

from .models import Audience, CardDistribution
from .selectors import Coverage, coverage
from .services import cards_distribute

router = Router(tags=[gettext_lazy("明白卡")])


class CoverageRowOut(Schema):
    division: str
    name: str
    households: int = Field(description=gettext_lazy("完成危房改造、应发明白卡的农户数"))
    households_covered: int
    staff: int = Field(description=gettext_lazy("应发明白卡的住房建设工作人员数"))
    staff_covered: int


class CoverageOut(Schema):
    total: CoverageRowOut
    children: list[CoverageRowOut]


class DistributionOut(Schema):
    id: int
    audience: Audience
    household_id: int | None
    person_id: int | None
    division: str = Field(alias="division_id")
    template_version: int = Field(alias="template.version")
    distributed_on: dt.date
    signed: bool
    note: str


class DistributionFiltersIn(Schema):
    audience: Audience | None = None
    division: str | None = Field(None, description=gettext_lazy("区划代码：只列该区划内的"))


class DistributeIn(Schema):
    audience: Audience
    recipient_ids: list[int] = Field(description=gettext_lazy("农户编号或工作人员用户编号"), max_length=500)
    distributed_on: dt.date
    signed: bool = False
    note: str = Field("", max_length=200)


def _row(c: Coverage) -> dict:
    return {
        "division": c.division.code,
        "name": c.division.name,
        "households": c.households,
        "households_covered": c.households_covered,
        "staff": c.staff,
        "staff_covered": c.staff_covered,
    }


def _division(request: HttpRequest, code: str | None) -> Division:
    code = (code or request.user.division_id or "").strip()
    division = Division.objects.visible_to(request.user).filter(code=code).first() if code else None
    if division is None:
        raise DomainError(_("区划不存在或不在您的管辖范围内"), errors={"division": _("区划不存在或不在您的管辖范围内")})
    return division


@router.get("/coverage", response=CoverageOut, url_name="cards_coverage")
def cards_coverage(request: HttpRequest, division: str | None = None):
    """P13: cards due and handed out in a division (default: the caller's) and in each of its child divisions."""
    require_action(request.user, "cards.view")
    total, children = coverage(_division(request, division))
    return {"total": _row(total), "children": [_row(c) for c in children]}


@router.get("/distributions", response=list[DistributionOut], url_name="cards_distributions")
@paginate(PageNumberPagination)
def cards_distributions(request: HttpRequest, filters: Query[DistributionFiltersIn]):
    """P13: who received a card, when, signed or not, in the caller's subtree."""
    require_action(request.user, "cards.view")
    queryset = CardDistribution.objects.visible_to(request.user).select_related("template")
    if filters.audience is not None:
        queryset = queryset.filter(audience=filters.audience.value)
    if filters.division:
        queryset = queryset.filter(scope_q("division_id", _division(request, filters.division).prefix))
    return queryset.order_by("-distributed_on", "-id")


@router.post("/distributions", response={201: list[DistributionOut]}, url_name="cards_distribute")
def cards_distribute_api(request: HttpRequest, payload: DistributeIn):
    """P13: record that these households (that had a renovation) or staff members received the current card."""
    rows = cards_distribute(
        actor=request.user,
        audience=payload.audience.value,
        recipient_ids=payload.recipient_ids,
        distributed_on=payload.distributed_on,
        signed=payload.signed,
        note=payload.note,
    )
    ids = [r.pk for r in rows]
    return Status(201, list(CardDistribution.objects.filter(pk__in=ids).select_related("template").order_by("id")))
