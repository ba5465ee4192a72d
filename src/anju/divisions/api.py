from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action

from .models import Division
from .selectors import division_get, division_list

router = Router(tags=[_("行政区划")])


class DivisionOut(ModelSchema):
    parent_code: str | None = Field(None, alias="parent_id")
    display_name: str

    class Meta:
        model = Division
        fields = ["code", "name", "level", "is_sample"]


class DivisionFilters(Schema):
    division: str | None = Field(None, description=_("只列出该区划的下级（直属）"), max_length=12)
    level: str | None = Field(None, description="province/city/county/town/village")


@router.get("", response=list[DivisionOut], url_name="divisions_list")
@paginate(PageNumberPagination)
def divisions_list(request: HttpRequest, filters: Query[DivisionFilters]):
    require_action(request.user, "divisions.view")
    return division_list(actor=request.user, parent=filters.division, level=filters.level)


@router.get("/{code}", response=DivisionOut, url_name="divisions_detail")
def divisions_detail(request: HttpRequest, code: str):
    require_action(request.user, "divisions.view")
    return division_get(actor=request.user, code=code)
