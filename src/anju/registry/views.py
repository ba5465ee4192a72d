"""Registry pages: thin views over the selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.web.forms import add_domain_error, paginate

from . import selectors, services
from .filters import HouseholdFilterForm
from .forms import HouseForm, HouseholdForm
from .models import GradeSource, House, Household

PAGE_SIZE = 30


@login_required
def household_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "registry.view")
    form = HouseholdFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.household_list(actor=request.user, filters=filters)
    page, query = paginate(request, queryset, PAGE_SIZE)
    template = "registry/_household_rows.html" if request.htmx else "registry/household_list.html"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query,
            "can_add": has_action(request.user, "registry.add"),
        },
    )


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "registry.view")
    household = selectors.household_get(actor=request.user, pk=pk)
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "can_change": has_action(request.user, "registry.change"),
            "can_view_id": has_action(request.user, "registry.view_id"),
        },
    )


@login_required
@require_POST
def household_id_number(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows the full ID number in place (htmx); the service audits every such view."""
    require_action(request.user, "registry.view_id")
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=pk)
    full = services.household_reveal_id(actor=request.user, household=household)
    return HttpResponse(f'<span class="font-monospace" id="id-number">{full}</span>')


def _household_values(form: HouseholdForm) -> dict:
    data = dict(form.cleaned_data)
    data.pop("categories", None)
    data.pop("certified_on", None)
    return data


@login_required
def household_add(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "registry.add")
    form = HouseholdForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            certified_on = form.cleaned_data["certified_on"]
            household = services.household_register(
                actor=request.user,
                categories=[(c.code, certified_on) for c in form.cleaned_data["categories"]],
                **_household_values(form),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记农户「{name}」，请继续登记其房屋。").format(name=household.head_name))
            return redirect("registry:household_detail", pk=household.pk)
    return render(request, "registry/household_form.html", {"form": form, "title": _("登记农户")})


@login_required
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "registry.change")
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=pk)
    initial = {
        f: getattr(household, f)
        for f in ("head_name", "phone", "size", "group_name", "security_method", "note", "to_verify")
    } | {"division_code": household.division_id}
    form = HouseholdForm(request.POST or None, actor=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = _household_values(form)
        id_number = data.pop("id_number") or None
        try:
            services.household_update(actor=request.user, household=household, id_number=id_number, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/household_form.html",
        {"form": form, "title": _("修改农户：{name}").format(name=household.head_name), "household": household},
    )


def _house_grade_values(form: HouseForm) -> tuple[dict, str, object, str]:
    data = dict(form.cleaned_data)
    grade, graded_on, appraiser = data.pop("grade"), data.pop("graded_on"), data.pop("appraiser")
    return data, grade, graded_on, appraiser


@login_required
def house_add(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "registry.add")
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=pk)
    form = HouseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data, grade, graded_on, appraiser = _house_grade_values(form)
        try:
            services.house_create(
                actor=request.user,
                household=household,
                grade=grade,
                graded_on=graded_on,
                appraiser=appraiser,
                grade_source=GradeSource.MANUAL,
                **data,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记房屋。"))
            return redirect("registry:household_detail", pk=household.pk)
    return render(request, "registry/house_form.html", {"form": form, "household": household, "title": _("登记房屋")})


@login_required
def house_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "registry.change")
    house = get_object_or_404(House.objects.visible_to(request.user).select_related("household"), pk=pk)
    form = HouseForm(request.POST or None, instance=house)
    if request.method == "POST" and form.is_valid():
        data, grade, graded_on, appraiser = _house_grade_values(form)
        try:
            with transaction.atomic():
                services.house_update(actor=request.user, house=house, **data)
                if grade != house.grade or (graded_on and graded_on != house.graded_on):
                    services.house_grade(
                        actor=request.user,
                        house=house,
                        grade=grade,
                        graded_on=graded_on,
                        source=GradeSource.MANUAL,
                        appraiser=appraiser,
                    )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存房屋信息。"))
            return redirect("registry:household_detail", pk=house.household_id)
    return render(
        request,
        "registry/house_form.html",
        {"form": form, "household": house.household, "house": house, "title": _("修改房屋")},
    )
