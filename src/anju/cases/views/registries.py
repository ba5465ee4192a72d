"""The registries the renovation guards read: craftsmen (P22), kept by each county, with their trainings from the
training ledger (P17), and the subsidy rates (P21), set by the city and read by everyone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.divisions.models import Division, Level
from anju.registry.models import TargetCategory
from anju.training.selectors import craftsman_trainings, trained_exists
from anju.web.forms import add_domain_error, paginate, style_form

from ..models import Craftsman, CraftsmanKind, RenovationMethod, SubsidyRate
from ..services.registries import craftsman_register, craftsman_training_add, subsidy_rate_set

PAGE_SIZE = 50


def _counties(actor: Any) -> list[Division]:
    return list(Division.objects.visible_to(actor).filter(level=Level.COUNTY).order_by("code"))


class CraftsmanFilterForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("县（市、区）"), required=False)
    q = forms.CharField(label=gettext_lazy("姓名/名称"), required=False, max_length=40)

    def __init__(self, *args: Any, counties: list[Division], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [("", _("全部"))] + [(d.code, d.name) for d in counties]
        style_form(self)


class CraftsmanForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("县（市、区）"))
    name = forms.CharField(label=gettext_lazy("姓名/名称"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("类别"), choices=CraftsmanKind.choices)
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False)
    certificate = forms.CharField(label=gettext_lazy("证书/资质编号"), max_length=64, required=False)

    def __init__(self, *args: Any, counties: list[Division], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [(d.code, d.name) for d in counties]
        style_form(self)


class TrainingForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("培训年度"), min_value=2000, max_value=2100)
    trained_on = forms.DateField(
        label=gettext_lazy("培训日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    topic = forms.CharField(label=gettext_lazy("培训内容"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class RateForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    method = forms.ChoiceField(label=gettext_lazy("改造方式"), choices=RenovationMethod.choices)
    grade = forms.ChoiceField(
        label=gettext_lazy("鉴定等级"), required=False, choices=[("", gettext_lazy("不限")), ("C", "C"), ("D", "D")]
    )
    category_code = forms.ChoiceField(label=gettext_lazy("重点对象类型"), required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("补助标准（元/户）"), min_value=Decimal(0), max_digits=12, decimal_places=2
    )
    note = forms.CharField(label=gettext_lazy("依据"), max_length=200, required=False)
    is_sample = forms.BooleanField(label=gettext_lazy("示例数据（待确认）"), required=False)

    def __init__(self, *args: Any, categories: dict[str, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category_code"].choices = [("", _("不限")), *categories.items()]
        style_form(self)


@login_required
def craftsman_list(request: HttpRequest) -> HttpResponse:
    """P17, P22: the county's craftsmen and builders, and whether each took this year's training."""
    require_action(request.user, "cases.view")
    year = dt.date.today().year
    counties = _counties(request.user)
    form = CraftsmanFilterForm(request.GET or None, counties=counties)
    qs = (
        Craftsman.objects.visible_to(request.user)
        .select_related("division")
        .annotate(
            trained_this_year=trained_exists(year, "craftsman"),
            last_training=Max("attendances__session__held_on", filter=Q(attendances__signed_in=True)),
        )
        .order_by("division_id", "name", "id")
    )
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("county"):
        qs = qs.filter(division_id=data["county"])
    if data.get("q"):
        qs = qs.filter(name__startswith=data["q"].strip())
    page, query = paginate(request, qs, PAGE_SIZE)
    return render(
        request,
        "cases/craftsman_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "year": year,
            "can_manage": has_action(request.user, "cases.manage"),
            "can_train": has_action(request.user, "training.manage"),
            "title": _("建筑工匠"),
        },
    )


@login_required
def craftsman_create(request: HttpRequest) -> HttpResponse:
    """P22: the county registers a craftsman or builder (only registered, trained craftsmen may take jobs)."""
    require_action(request.user, "cases.manage")
    counties = _counties(request.user)
    form = CraftsmanForm(request.POST or None, counties=counties)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            craftsman = craftsman_register(
                actor=request.user,
                county_code=data["county"],
                name=data["name"],
                kind=data["kind"],
                phone=data["phone"],
                certificate=data["certificate"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("已登记{name}，请登记其本年度培训后再确定为施工工匠。").format(name=craftsman.name)
            )
            return redirect("cases:craftsman_training", pk=craftsman.pk)
    return render(request, "cases/craftsman_form.html", {"form": form, "title": _("登记建筑工匠")})


@login_required
def craftsman_training(request: HttpRequest, pk: int) -> HttpResponse:
    """P17: the craftsman's trainings from the ledger, and a form to record one in a step."""
    require_action(request.user, "training.manage")
    craftsman = get_object_or_404(Craftsman.objects.visible_to(request.user).select_related("division"), pk=pk)
    form = TrainingForm(request.POST or None, initial={"year": dt.date.today().year})
    if request.method == "POST" and form.is_valid():
        try:
            craftsman_training_add(actor=request.user, craftsman=craftsman, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("已登记{name}{year}年度培训。").format(name=craftsman.name, year=form.cleaned_data["year"])
            )
            return redirect("cases:craftsman_training", pk=craftsman.pk)
    trainings = craftsman_trainings(craftsman)
    return render(
        request,
        "cases/craftsman_training.html",
        {"form": form, "craftsman": craftsman, "trainings": trainings, "title": _("工匠培训")},
    )


@login_required
def rate_list(request: HttpRequest) -> HttpResponse:
    """P21: the subsidy rates per year, method, grade and category; the city (cases.configure) sets them here."""
    require_action(request.user, "cases.view")
    can_configure = has_action(request.user, "cases.configure")
    if request.method == "POST":
        require_action(request.user, "cases.configure")
    categories = dict(TargetCategory.objects.order_by("sort_order").values_list("code", "name"))
    form = None
    if can_configure:
        initial: dict[str, Any] = {"year": dt.date.today().year}
        edit = (
            SubsidyRate.objects.filter(pk=request.GET["edit"]).first()
            if request.GET.get("edit", "").isdigit()
            else None
        )
        if edit is not None:
            initial = {f: getattr(edit, f) for f in ("year", "method", "grade", "category_code", "amount", "note")}
            initial["is_sample"] = edit.is_sample
        form = RateForm(request.POST or None, initial=initial, categories=categories)
        if request.method == "POST" and form.is_valid():
            try:
                rate = subsidy_rate_set(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request, _("已保存补助标准：{rate}，{amount}元/户。").format(rate=rate, amount=rate.amount)
                )
                return redirect("cases:rate_list")
    rates = list(SubsidyRate.objects.all())
    for rate in rates:
        rate.category_name = categories.get(rate.category_code, rate.category_code)
    return render(
        request,
        "cases/rate_list.html",
        {"rates": rates, "form": form, "can_configure": can_configure, "title": _("补助标准")},
    )


urlpatterns: list[URLPattern] = [
    path("craftsmen/", craftsman_list, name="craftsman_list"),
    path("craftsmen/new/", craftsman_create, name="craftsman_create"),
    path("craftsmen/<int:pk>/training/", craftsman_training, name="craftsman_training"),
    path("subsidy-rates/", rate_list, name="rate_list"),
]
