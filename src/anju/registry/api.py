"""Registry endpoints: thin — parse, call a selector or service, return."""

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError

from . import selectors, services
from .filters import HouseholdFilterForm
from .models import GradeSource, House, Household
from .schemas import (
    HouseDetailOut,
    HouseholdDetailOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    HouseIn,
    HouseOut,
    HousePatch,
)

households_router = Router(tags=[_("农户")])
houses_router = Router(tags=[_("房屋")])


class RegistryFilters(Schema):
    division: str | None = None
    category: str | None = None
    grade: str | None = None
    structure: str | None = None
    idle: str | None = None
    q: str | None = None


def _filters(filters: RegistryFilters) -> dict[str, Any]:
    form = HouseholdFilterForm(data={k: v for k, v in filters.dict().items() if v is not None})
    if not form.is_valid():
        raise DomainError(gettext("筛选条件有误"), errors={k: " ".join(v) for k, v in form.errors.items()})
    return form.cleaned_data


def _with_full_id(request: HttpRequest, household: Household, reveal_id: bool) -> Household:
    if reveal_id:
        household.id_masked = services.household_reveal_id(actor=request.user, household=household)
    return household


@households_router.get("", response=list[HouseholdOut], url_name="households_list")
@paginate(PageNumberPagination)
def households_list(request: HttpRequest, filters: Query[RegistryFilters]):
    require_action(request.user, "registry.view")
    return selectors.household_list(actor=request.user, filters=_filters(filters))


@households_router.get("/{int:pk}", response=HouseholdDetailOut, url_name="households_detail")
def households_detail(request: HttpRequest, pk: int, reveal_id: bool = False):
    require_action(request.user, "registry.view")
    household = selectors.household_get(actor=request.user, pk=pk)
    return _with_full_id(request, household, reveal_id)


@households_router.post("", response={201: HouseholdDetailOut}, url_name="households_create")
def households_create(request: HttpRequest, payload: HouseholdIn):
    household = services.household_register(
        actor=request.user,
        categories=[(item.code, item.certified_on) for item in payload.categories],
        members=[member.dict() for member in payload.members],
        **payload.dict(exclude={"categories", "members"}),
    )
    return Status(201, selectors.household_get(actor=request.user, pk=household.pk))


@households_router.patch("/{int:pk}", response=HouseholdDetailOut, url_name="households_update")
def households_update(request: HttpRequest, pk: int, payload: HouseholdPatch):
    require_action(request.user, "registry.change")
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=pk)
    services.household_update(actor=request.user, household=household, **payload.dict(exclude_unset=True))
    return selectors.household_get(actor=request.user, pk=pk)


@houses_router.get("", response=list[HouseOut], url_name="houses_list")
@paginate(PageNumberPagination)
def houses_list(request: HttpRequest, filters: Query[RegistryFilters]):
    require_action(request.user, "registry.view")
    return selectors.house_list(actor=request.user, filters=_filters(filters))


@houses_router.get("/{int:pk}", response=HouseDetailOut, url_name="houses_detail")
def houses_detail(request: HttpRequest, pk: int):
    require_action(request.user, "registry.view")
    return selectors.house_get(actor=request.user, pk=pk)


@houses_router.post("", response={201: HouseDetailOut}, url_name="houses_create")
def houses_create(request: HttpRequest, payload: HouseIn):
    require_action(request.user, "registry.add")
    data = payload.dict()
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=data.pop("household_id"))
    house = services.house_create(actor=request.user, household=household, **data)
    return Status(201, selectors.house_get(actor=request.user, pk=house.pk))


@houses_router.patch("/{int:pk}", response=HouseDetailOut, url_name="houses_update")
@transaction.atomic
def houses_update(request: HttpRequest, pk: int, payload: HousePatch):
    require_action(request.user, "registry.change")
    house = get_object_or_404(House.objects.visible_to(request.user), pk=pk)
    changes = payload.dict(exclude_unset=True)
    grade, graded_on = changes.pop("grade", None), changes.pop("graded_on", None)
    appraiser = changes.pop("appraiser", "")
    if changes:
        services.house_update(actor=request.user, house=house, **changes)
    if grade is not None:
        services.house_grade(
            actor=request.user,
            house=house,
            grade=grade,
            graded_on=graded_on,
            source=GradeSource.MANUAL,
            appraiser=appraiser,
        )
    return selectors.house_get(actor=request.user, pk=pk)
