"""One page per ledger move (P2, P10, P19–P22): a form parses the input, the service decides, the case page follows.

Every page first checks the role's action (403), then finds the case in the user's subtree (404). A service's
refusal comes back on the form in Chinese; a form that moves the case sends the version it was shown at, so a
stale page is refused instead of moving the case twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.inspections.models import Appraisal
from anju.registry.models import House, Household
from anju.training.selectors import trained_exists
from anju.web.forms import add_domain_error

from .. import forms as f
from ..models import (
    Case,
    Craftsman,
    RenovationMethod,
    SignOff,
    SignOffKind,
    SignOffLevel,
    SiteVisit,
    SubsidyPayment,
    TransitionalHousing,
)
from ..services import cases as case_services
from ..services import renovation as works
from ..services.registries import subsidy_for
from ..services.signoffs import missing_signoffs, signable, signer_level, signoff_sign

FORM_TEMPLATE = "cases/move_form.html"
Run = Callable[[dict[str, Any]], Any]


def _case(request: HttpRequest, pk: int, action: str) -> Case:
    """The case, if the role may do `action` (else 403) and the case lies in the user's subtree (else 404)."""
    require_action(request.user, action)
    cases = Case.objects.visible_to(request.user).select_related("household", "house", "division__parent__parent")
    return get_object_or_404(cases, pk=pk)


def _form(request: HttpRequest, form_class: type[forms.Form], case: Case | None = None, **kwargs: Any) -> Any:
    initial = kwargs.pop("initial", {})
    if case is not None and issubclass(form_class, f.MoveForm):
        initial["version"] = case.version
    return form_class(request.POST or None, request.FILES or None, initial=initial, **kwargs)


def _page(
    request: HttpRequest,
    case: Case,
    form: forms.Form,
    run: Run,
    *,
    title: str,
    done: str,
    submit: str = "",
    template: str = FORM_TEMPLATE,
    **context: Any,
) -> HttpResponse:
    """Show the form; on a valid POST run the service, then go to the case page with `done` as the message."""
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        values.pop("version", None)
        try:
            run(values)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("cases:case_detail", pk=case.pk)
    context |= {"case": case, "form": form, "title": title, "submit": submit or _("保存")}
    return render(request, template, context)


def _version(form: forms.Form) -> int:
    return form.cleaned_data["version"]


# -- opening and settling -------------------------------------------------------------------------------------------


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    """P1, P19: a household's housing problem goes into the ledger (from the household page)."""
    require_action(request.user, "cases.open")
    pk = request.GET.get("household", "")
    if not pk.isdigit():
        raise Http404
    household = get_object_or_404(
        Household.objects.visible_to(request.user).select_related("division__parent__parent"), pk=pk
    )
    houses = House.objects.visible_to(request.user).filter(household=household).order_by("id")
    form = f.CaseOpenForm(request.POST or None, houses=houses)
    if request.method == "POST" and form.is_valid():
        try:
            case = case_services.case_open(actor=request.user, household=household, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记台账#{id}。").format(id=case.pk))
            return redirect("cases:case_detail", pk=case.pk)
    return render(
        request,
        "cases/move_create.html",
        {"form": form, "household": household, "title": _("登记台账"), "submit": _("登记")},
    )


@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "cases.open")
    form = _form(request, f.CaseEditForm, case, initial={"description": case.description, "measures": case.measures})
    return _page(
        request,
        case,
        form,
        lambda v: case_services.case_update(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("修改问题描述与整改措施"),
        done=_("已保存。"),
    )


@login_required
def case_request_appraisal(request: HttpRequest, pk: int) -> HttpResponse:
    """P1, P8: the county has the house appraised."""
    case = _case(request, pk, "cases.open")
    form = _form(request, f.RequestAppraisalForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: case_services.case_request_appraisal(
            actor=request.user, case=case, expected_version=_version(form), **v
        ),
        title=_("申请鉴定"),
        done=_("已提出鉴定申请，县级将指派鉴定人员。"),
        submit=_("申请鉴定"),
    )


@login_required
def case_use_appraisal(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "cases.manage")
    appraisals = Appraisal.objects.visible_to(request.user).filter(house_id=case.house_id).order_by("-appraised_on")
    form = _form(request, f.UseAppraisalForm, case, appraisals=appraisals if case.house_id else appraisals.none())
    return _page(
        request,
        case,
        form,
        lambda v: case_services.case_use_appraisal(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("采用已有鉴定结果"),
        done=_("已记录鉴定结果。"),
    )


# -- renovation (P20–P22) -------------------------------------------------------------------------------------------


@login_required
def case_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """P20: the household applies, and its will and choices are recorded."""
    case = _case(request, pk, "cases.apply")
    renovation = works.renovation_of(case)
    initial = {}
    if renovation.pk:
        names = [n for n in f.ApplyForm.base_fields if n != "version"]
        initial = {n: getattr(renovation, n) for n in names}
    form = _form(request, f.ApplyForm, case, initial=initial)
    return _page(
        request,
        case,
        form,
        lambda v: works.renovation_apply(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("农户申请与改造意愿"),
        done=_("已登记农户申请与改造意愿。"),
    )


def _subsidies(case: Case, year: int) -> list[tuple[str, Any]]:
    """P21: what each method would bring this household this year, or None where the city has set no rate."""
    rows = []
    for method in RenovationMethod:
        try:
            amount = subsidy_for(household=case.household, year=year, method=method, grade=case.grade).amount
        except DomainError:
            amount = None
        rows.append((method.label, amount))
    return rows


@login_required
def case_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """P20, P21: the case goes into the renovation plan; the subsidy follows from the city's rates."""
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.PlanForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.case_plan(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("纳入改造计划"),
        done=_("已纳入改造计划。"),
        template="cases/move_plan.html",
        subsidies=_subsidies(case, dt.date.today().year),
        renovation=works.renovation_of(case),
    )


@login_required
def case_design(request: HttpRequest, pk: int) -> HttpResponse:
    """P12, P22: the atlas design by its number, or an uploaded design."""
    case = _case(request, pk, "cases.manage")
    renovation = works.renovation_of(case)
    initial = {"design_kind": renovation.design_kind or "atlas", "design_reference": renovation.design_reference}
    form = _form(request, f.DesignForm, case, initial=initial)
    return _page(
        request,
        case,
        form,
        lambda v: works.renovation_design(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("基本结构设计"),
        done=_("已登记结构设计。"),
    )


def _builders(case: Case, year: int) -> dict[int, str]:
    """P17, P22: the county's active craftsmen, the untrained marked (the service refuses them)."""
    people = Craftsman.objects.filter(division_id=case.division_id[:6] + "000000", is_active=True).annotate(
        trained=trained_exists(year, "craftsman")
    )
    return {
        c.pk: c.name if c.trained else _("{name}（未参加{year}年度培训）").format(name=c.name, year=year)
        for c in people.order_by("name", "id")
    }


@login_required
def case_builder(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "cases.manage")
    builders = _builders(case, dt.date.today().year)
    renovation = works.renovation_of(case)
    form = _form(
        request, f.BuilderForm, case, builders=list(builders.items()), initial={"builder": renovation.builder_id}
    )

    def run(values: dict[str, Any]) -> Any:
        builder = Craftsman.objects.get(pk=values["builder"])
        return works.renovation_builder(actor=request.user, case=case, builder=builder, expected_version=_version(form))

    return _page(request, case, form, run, title=_("确定施工工匠"), done=_("已确定施工工匠。"))


@login_required
def case_start(request: HttpRequest, pk: int) -> HttpResponse:
    """P12, P22: works start with a design and a trained craftsman."""
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.StartForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.case_start(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("开工"),
        done=_("已登记开工。"),
        submit=_("登记开工"),
    )


@login_required
def case_visit(request: HttpRequest, pk: int) -> HttpResponse:
    """P22: a county site visit (逐户巡查)."""
    case = _case(request, pk, "cases.visit")
    form = _form(request, f.VisitForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.site_visit_add(actor=request.user, case=case, **v),
        title=_("施工巡查"),
        done=_("已登记巡查。"),
    )


@login_required
def visit_fix(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "cases.visit")
    visit = get_object_or_404(SiteVisit.objects.visible_to(request.user), pk=pk)
    case = _case(request, visit.case_id, "cases.visit")
    form = _form(request, f.VisitFixForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.site_visit_fix(actor=request.user, visit=visit, **v),
        title=_("整改完成"),
        done=_("已登记整改完成。"),
        template="cases/move_visit_fix.html",
        visit=visit,
    )


@login_required
def case_complete(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.CompleteForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.case_complete(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("竣工"),
        done=_("已登记竣工。"),
        submit=_("登记竣工"),
    )


@login_required
def case_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """P20, P22: joint acceptance with the household."""
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.AcceptForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.case_accept(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("竣工验收"),
        done=_("已登记竣工验收。"),
        submit=_("登记验收"),
    )


@login_required
def case_payment(request: HttpRequest, pk: int) -> HttpResponse:
    """P4, P21: a subsidy payment after the acceptance; the account is stored masked."""
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.PaymentForm, case)
    paid = SubsidyPayment.objects.filter(case=case).aggregate(total=Sum("amount"))["total"]
    return _page(
        request,
        case,
        form,
        lambda v: works.subsidy_payment_add(actor=request.user, case=case, **v),
        title=_("补助资金拨付"),
        done=_("已登记拨付。"),
        template="cases/move_payment.html",
        renovation=works.renovation_of(case),
        paid=paid or 0,
    )


@login_required
def case_transitional(request: HttpRequest, pk: int) -> HttpResponse:
    """P19: where the household lives during the works."""
    case = _case(request, pk, "cases.apply")
    form = _form(request, f.TransitionalForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.transitional_add(actor=request.user, case=case, **v),
        title=_("过渡安置"),
        done=_("已登记过渡安置。"),
    )


@login_required
def transitional_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "cases.apply")
    housing = get_object_or_404(TransitionalHousing.objects.visible_to(request.user), pk=pk)
    case = _case(request, housing.case_id, "cases.apply")
    form = _form(request, f.TransitionalConfirmForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.transitional_confirm(actor=request.user, housing=housing, **v),
        title=_("确认过渡住房安全"),
        done=_("已确认过渡住房安全。"),
        submit=_("确认安全"),
        template="cases/move_transitional_confirm.html",
        housing=housing,
    )


@login_required
def case_photo(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "cases.apply")
    form = _form(request, f.PhotoForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: works.case_photo_add(
            actor=request.user, case=case, stage=v["stage"], file=v["photo"], caption=v["caption"]
        ),
        title=_("上传照片"),
        done=_("已上传照片。"),
        submit=_("上传"),
    )


# -- the end: made safe, cancelled, signed off, closed ----------------------------------------------------------------


@login_required
def case_secure(request: HttpRequest, pk: int) -> HttpResponse:
    """P10, P19: the household is made safe by other means, with evidence."""
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.SecureForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: case_services.case_secure(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("通过其他方式保障住房安全"),
        done=_("已登记为保障安全。"),
    )


@login_required
def case_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.CancelForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: case_services.case_cancel(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("撤销台账"),
        done=_("已撤销台账。"),
        submit=_("撤销"),
    )


@login_required
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    """销号 (P2, P19): only with all twelve sign-offs; the page lists what is missing."""
    case = _case(request, pk, "cases.manage")
    form = _form(request, f.CloseForm, case)
    return _page(
        request,
        case,
        form,
        lambda v: case_services.case_close(actor=request.user, case=case, expected_version=_version(form), **v),
        title=_("销号"),
        done=_("已销号。"),
        submit=_("销号"),
        template="cases/move_close.html",
        missing=missing_signoffs(case),
    )


@login_required
def case_sign(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """P2: the responsible person of one level signs one of the four clears; the page shows what is signed."""
    if kind not in SignOffKind.values:
        raise Http404
    case = _case(request, pk, "cases.sign")
    form = _form(request, f.SignForm, case)
    level = signer_level(request.user, case)
    return _page(
        request,
        case,
        form,
        lambda v: signoff_sign(actor=request.user, case=case, kind=kind, **v),
        title=_("签字确认「{kind}」").format(kind=SignOffKind(kind).label),
        done=_("已签字。"),
        submit=_("签字确认"),
        template="cases/move_sign.html",
        kind_label=SignOffKind(kind).label,
        level_label=SignOffLevel(level).label if level else "",
        may_sign=level is not None and signable(case, kind),
        signed=SignOff.objects.filter(case=case, kind=kind).order_by("signed_at", "id"),
    )


urlpatterns: list[URLPattern] = [
    path("cases/new/", case_create, name="case_create"),
    path("cases/<int:pk>/edit/", case_edit, name="case_edit"),
    path("cases/<int:pk>/request-appraisal/", case_request_appraisal, name="case_request_appraisal"),
    path("cases/<int:pk>/use-appraisal/", case_use_appraisal, name="case_use_appraisal"),
    path("cases/<int:pk>/application/", case_apply, name="case_apply"),
    path("cases/<int:pk>/plan/", case_plan, name="case_plan"),
    path("cases/<int:pk>/design/", case_design, name="case_design"),
    path("cases/<int:pk>/builder/", case_builder, name="case_builder"),
    path("cases/<int:pk>/start/", case_start, name="case_start"),
    path("cases/<int:pk>/visits/new/", case_visit, name="case_visit"),
    path("cases/visits/<int:pk>/fix/", visit_fix, name="visit_fix"),
    path("cases/<int:pk>/complete/", case_complete, name="case_complete"),
    path("cases/<int:pk>/accept/", case_accept, name="case_accept"),
    path("cases/<int:pk>/payments/new/", case_payment, name="case_payment"),
    path("cases/<int:pk>/transitional/new/", case_transitional, name="case_transitional"),
    path("cases/transitional/<int:pk>/confirm/", transitional_confirm, name="transitional_confirm"),
    path("cases/<int:pk>/photos/new/", case_photo, name="case_photo"),
    path("cases/<int:pk>/secure/", case_secure, name="case_secure"),
    path("cases/<int:pk>/cancel/", case_cancel, name="case_cancel"),
    path("cases/<int:pk>/close/", case_close, name="case_close"),
    path("cases/<int:pk>/sign/<str:kind>/", case_sign, name="case_sign"),
]
