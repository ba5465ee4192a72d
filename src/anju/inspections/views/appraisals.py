"""Pages for suspected dangers (P8) and appraisals: thin views over the selectors and services."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anju.accounts.models import User
from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.registry.models import House, Structure
from anju.web.forms import add_domain_error, paginate

from .. import selectors_appraisals as selectors
from ..filters_appraisals import AppraisalFilterForm, RequestFilterForm
from ..forms_appraisals import AppraisalForm, AssignForm, CancelForm, ComponentForm, RequestForm, ReviewForm
from ..models import AppraisalRequest, ComponentSpec, RequestStatus
from ..reports import appraisal_report_pdf
from ..services import appraisals as services

PAGE_SIZE = 30


def _refused(form, exc: DomainError) -> None:
    """The service's summary on top of the form (it carries the rule, e.g. P17), then its messages per field."""
    if exc.errors:
        form.add_error(None, exc.message)
    add_domain_error(form, exc)


def _with_days_left(rows, today: dt.date) -> None:
    for row in rows:
        row.days_left = (row.due_on - today).days
        row.days_overdue = -row.days_left
        row.is_overdue = row.status in (RequestStatus.OPEN, RequestStatus.ASSIGNED) and row.days_left < 0


def _house(request: HttpRequest, pk: int) -> House:
    return get_object_or_404(
        House.objects.visible_to(request.user, "view").select_related("household", "division__parent__parent"),
        pk=pk,
    )


# -- suspected dangers ----------------------------------------------------------------------------------------------


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "inspections.view")
    today = dt.date.today()
    form = RequestFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    page, query = paginate(request, selectors.request_list(actor=request.user, filters=filters, today=today), PAGE_SIZE)
    _with_days_left(page.object_list, today)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "counts": selectors.request_counts(actor=request.user, filters=filters, today=today),
        "can_assign": has_action(request.user, "inspections.assign"),
        "title": _("疑似危房与鉴定申请"),
    }
    template = "inspections/_request_rows.html" if request.htmx else "inspections/request_list.html"
    return render(request, template, context)


@login_required
def request_mine(request: HttpRequest) -> HttpResponse:
    """The appraiser's queue ("我的鉴定任务")."""
    require_action(request.user, "inspections.appraise")
    today = dt.date.today()
    page, query = paginate(request, selectors.request_queue(actor=request.user), PAGE_SIZE)
    _with_days_left(page.object_list, today)
    return render(
        request,
        "inspections/request_mine.html",
        {"page": page, "query": query, "title": _("我的鉴定任务")},
    )


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.view")
    req = selectors.request_get(actor=request.user, pk=pk)
    _with_days_left([req], dt.date.today())
    pending = req.status in (RequestStatus.OPEN, RequestStatus.ASSIGNED)
    appraisal = getattr(req, "appraisal", None) if req.status == RequestStatus.DONE else None
    return render(
        request,
        "inspections/request_detail.html",
        {
            "req": req,
            "appraisal": appraisal,
            "cancel_reason": selectors.request_cancel_reason(req) if req.status == RequestStatus.CANCELLED else "",
            "can_assign": pending and has_action(request.user, "inspections.assign"),
            "can_appraise": pending
            and has_action(request.user, "inspections.appraise")
            and (req.appraiser_id == request.user.pk or "admin" in (request.user.roles or [])),
            "cancel_form": CancelForm(),
        },
    )


@login_required
def request_add(request: HttpRequest, house_pk: int) -> HttpResponse:
    """ "上报疑似危房" for one house (P8), reached from the household page."""
    require_action(request.user, "inspections.report")
    house = _house(request, house_pk)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            req = services.request_open(actor=request.user, house=house, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(
                request,
                _("已上报疑似危房，县级将指派鉴定人员，鉴定期限{due}。").format(due=req.due_on.isoformat()),
            )
            return redirect("inspections:request_detail", pk=req.pk)
    return render(request, "inspections/request_form.html", {"form": form, "house": house, "title": _("上报疑似危房")})


@login_required
def request_assign(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.assign")
    req = selectors.request_get(actor=request.user, pk=pk)
    appraisers = selectors.appraiser_choices(actor=request.user, request=req)
    form = AssignForm(request.POST or None, appraisers=appraisers, initial={"appraiser": req.appraiser_id})
    if request.method == "POST" and form.is_valid():
        appraiser = User.objects.filter(pk=form.cleaned_data["appraiser"]).select_related("division").first()
        try:
            services.request_assign(
                actor=request.user, request=req, appraiser=appraiser, assigned_on=form.cleaned_data["assigned_on"]
            )
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已指派鉴定人员{name}。").format(name=appraiser.get_full_name()))
            return redirect("inspections:request_detail", pk=req.pk)
    return render(
        request,
        "inspections/request_assign.html",
        {"form": form, "req": req, "title": _("指派鉴定人员")},
    )


@login_required
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.assign")
    req = selectors.request_get(actor=request.user, pk=pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_cancel(actor=request.user, request=req, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已撤销该鉴定申请。"))
            return redirect("inspections:request_detail", pk=req.pk)
    return render(request, "inspections/request_cancel.html", {"form": form, "req": req, "title": _("撤销鉴定申请")})


# -- appraisals -----------------------------------------------------------------------------------------------------


@login_required
def appraisal_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "inspections.view")
    form = AppraisalFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    page, query = paginate(request, selectors.appraisal_list(actor=request.user, filters=filters), PAGE_SIZE)
    template = "inspections/_appraisal_rows.html" if request.htmx else "inspections/appraisal_list.html"
    return render(request, template, {"form": form, "page": page, "query": query, "title": _("鉴定记录")})


@login_required
def appraisal_review_list(request: HttpRequest) -> HttpResponse:
    """Appraisals whose final grade differs from the computed one, waiting for the county's review."""
    require_action(request.user, "inspections.review")
    page, query = paginate(request, selectors.appraisal_list(actor=request.user, filters={"flagged": "1"}), PAGE_SIZE)
    return render(
        request,
        "inspections/appraisal_review_list.html",
        {"page": page, "query": query, "title": _("调整等级待复核")},
    )


@login_required
def appraisal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.view")
    appraisal = selectors.appraisal_get(actor=request.user, pk=pk)
    may_review = (
        appraisal.flagged_for_review
        and has_action(request.user, "inspections.review")
        and appraisal.lead_appraiser_id != request.user.pk
    )
    return render(
        request,
        "inspections/appraisal_detail.html",
        {"appraisal": appraisal, "review_form": ReviewForm() if may_review else None},
    )


@login_required
@require_POST
def appraisal_review(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.review")
    appraisal = selectors.appraisal_get(actor=request.user, pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.appraisal_review(actor=request.user, appraisal=appraisal, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已复核。"))
            return redirect("inspections:appraisal_detail", pk=appraisal.pk)
    return render(
        request, "inspections/appraisal_detail.html", {"appraisal": appraisal, "review_form": form}, status=400
    )


def _open_request(request: HttpRequest, house: House) -> AppraisalRequest | None:
    """The request named in ?request=, else the house's open one (the service answers it either way)."""
    qs = AppraisalRequest.objects.visible_to(request.user).filter(house=house).select_related("appraiser")
    pk = request.GET.get("request") or request.POST.get("request")
    if pk and str(pk).isdigit():
        return get_object_or_404(qs, pk=pk)
    return qs.filter(status__in=[RequestStatus.OPEN, RequestStatus.ASSIGNED]).first()


@login_required
def appraisal_add(request: HttpRequest, house_pk: int) -> HttpResponse:
    """The appraisal form: the components of the house's structure with their a–d descriptions."""
    require_action(request.user, "inspections.appraise")
    house = _house(request, house_pk)
    req = _open_request(request, house)
    specs = services.component_specs(house.structure)
    form = AppraisalForm(request.POST or None, request.FILES or None, specs=specs)
    if request.method == "POST" and form.is_valid():
        try:
            appraisal = services.appraisal_record(actor=request.user, house=house, request=req, **form.service_values())
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已录入鉴定结果：{grade}级。").format(grade=appraisal.final_grade))
            return redirect("inspections:appraisal_detail", pk=appraisal.pk)
    preview = _preview(form, house) if form.is_bound else None
    return render(
        request,
        "inspections/appraisal_form.html",
        {"form": form, "house": house, "req": req, "preview": preview, "title": _("房屋安全性鉴定")},
    )


def _preview(form: AppraisalForm, house: House):
    return services.grade_preview(
        structure=house.structure,
        site_dangerous=form.data.get("site_dangerous") == "1",
        components=form.raw_components(),
    )


@login_required
@require_POST
def appraisal_grade(request: HttpRequest, house_pk: int) -> HttpResponse:
    """The live computed grade (htmx): the same `grading.grade_house` the service uses, no copy in JavaScript."""
    require_action(request.user, "inspections.appraise")
    house = _house(request, house_pk)
    form = AppraisalForm(request.POST, specs=services.component_specs(house.structure))
    return render(
        request,
        "inspections/_appraisal_grade.html",
        {"preview": _preview(form, house), "final_grade": request.POST.get("final_grade", "")},
    )


@login_required
def appraisal_report(request: HttpRequest, pk: int) -> HttpResponse:
    """鉴定报告 (PDF, A4). ID numbers stay masked on paper."""
    require_action(request.user, "inspections.view")
    appraisal = selectors.appraisal_get(actor=request.user, pk=pk)
    response = HttpResponse(appraisal_report_pdf(appraisal), content_type="application/pdf")
    filename = f"appraisal-{appraisal.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# -- component lists ------------------------------------------------------------------------------------------------


@login_required
def component_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "inspections.view")
    specs = list(selectors.component_list())
    by_structure = [(label, [s for s in specs if value in (s.structures or [])]) for value, label in Structure.choices]
    return render(
        request,
        "inspections/component_list.html",
        {
            "specs": specs,
            "by_structure": by_structure,
            "can_edit": services.may_configure_components(request.user),
            "title": _("鉴定构件清单"),
        },
    )


@login_required
def component_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.manage")
    if not services.may_configure_components(request.user):
        raise PermissionDenied(_("鉴定构件清单由市级统一配置"))
    spec = get_object_or_404(ComponentSpec, pk=pk)
    form = ComponentForm(request.POST or None, instance=ComponentSpec.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.component_update(actor=request.user, spec=spec, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已保存构件「{name}」。").format(name=spec.name))
            return redirect("inspections:component_list")
    return render(
        request,
        "inspections/component_form.html",
        {"form": form, "spec": spec, "title": _("修改鉴定构件")},
    )


urlpatterns: list[URLPattern] = [
    path("requests/", request_list, name="request_list"),
    path("requests/mine/", request_mine, name="request_mine"),
    path("requests/<int:pk>/", request_detail, name="request_detail"),
    path("requests/<int:pk>/assign/", request_assign, name="request_assign"),
    path("requests/<int:pk>/cancel/", request_cancel, name="request_cancel"),
    path("houses/<int:house_pk>/report/", request_add, name="request_add"),
    path("houses/<int:house_pk>/appraise/", appraisal_add, name="appraisal_add"),
    path("houses/<int:house_pk>/appraise/grade/", appraisal_grade, name="appraisal_grade"),
    path("appraisals/", appraisal_list, name="appraisal_list"),
    path("appraisals/review/", appraisal_review_list, name="appraisal_review_list"),
    path("appraisals/<int:pk>/", appraisal_detail, name="appraisal_detail"),
    path("appraisals/<int:pk>/review/", appraisal_review, name="appraisal_review"),
    path("appraisals/<int:pk>/report.pdf", appraisal_report, name="appraisal_report"),
    path("components/", component_list, name="component_list"),
    path("components/<int:pk>/edit/", component_edit, name="component_edit"),
]
