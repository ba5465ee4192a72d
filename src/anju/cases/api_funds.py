"""P4: subsidy money per county and year, the same figures as the funds page (`selectors.funds_summary`)."""

from decimal import Decimal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from anju.accounts.permissions import require_action

from .selectors import funds_summary

router = Router(tags=[_("补助资金")])


class FundsFiltersIn(Schema):
    year: int | None = Field(None, ge=2000, le=2100, description=_("只列该年度"))


class FundsRowOut(Schema):
    county: str = Field(description=_("县级区划代码前6位"))
    name: str
    year: int
    planned: int = Field(description=_("该年度纳入改造计划且已核定补助的户数"))
    approved: Decimal = Field(description=_("该年度纳入计划各户的核定补助（元）"))
    payments: int = Field(description=_("该年度拨付笔数"))
    paid: Decimal = Field(description=_("该年度拨付金额（元）"))
    accepted: int = Field(description=_("该年度竣工验收户数"))
    owed: Decimal = Field(description=_("该年度验收各户的核定补助减已拨付（元）"))


@router.get("", response=list[FundsRowOut], url_name="funds_summary")
def funds(request: HttpRequest, filters: Query[FundsFiltersIn]):
    """P4: approved, paid and still owed subsidy per county and year in the caller's scope."""
    require_action(request.user, "cases.view")
    return funds_summary(request.user, year=filters.year)
