"""Pages of special periods and disasters (P9, P23): thin over `selectors` and `services`.

Every page checks the role's action first (403), then finds its object in the user's subtree (404). The damage
report and resettlement forms are single-column, large-control forms meant for a phone in the field.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anju.accounts.permissions import has_action, require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import DomainError
from anju.core.scope import scope_q
from anju.registry.models import House
from anju.web.forms import add_domain_error, paginate

from . import forms as f
from . import selectors, services
from .exports import dashboard_workbook
from .models import DEFAULT_WINDOWS, DamagePhoto, DisasterEvent, EmergencyPlan

PAGE_SIZE = 30
HOUSE_CHOICES = 200


def _event(request: HttpRequest, pk: int, action: str = "disasters.view") -> DisasterEvent:
    require_action(request.user, action)
    return selectors.event_get(request.user, pk)


def _report(request: HttpRequest, pk: int, action: str = "disasters.view") -> Any:
    require_action(request.user, action)
    return selectors.report_get(request.user, pk)


def _serve(file: Any, filename: str | None = None) -> FileResponse:
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=filename is not None, filename=filename or "")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- plans and seasons ----------------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """P9: each county's seasons, their current or next run, the plan filed for it; then every plan filed."""
    require_action(request.user, "disasters.view")
    page, query = paginate(request, selectors.plan_list(request.user), PAGE_SIZE)
    context = {
        "page": page,
        "query": query,
        "seasons": selectors.season_rows(request.user, timezone.localdate()),
        "lead_days": services.PLAN_LEAD_DAYS,
        "can_manage": has_action(request.user, "disasters.manage"),
        "title": _("特殊时段应急预案"),
    }
    return render(request, "disasters/plan_list.html", context)


@login_required
def plan_add(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "disasters.manage")
    form = f.PlanForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            services.plan_file(actor=request.user, county_code=values.pop("county").code, **values)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("应急预案已备案。"))
            return redirect("disasters:plan_list")
    return render(
        request, "disasters/form.html", {"form": form, "title": _("备案应急预案"), "back": "disasters:plan_list"}
    )


@login_required
def season_edit(request: HttpRequest) -> HttpResponse:
    """P9: a county sets its own dates of the flood or freeze-thaw season (Yulin's default until it does)."""
    require_action(request.user, "disasters.manage")
    season = request.GET.get("season", "")
    initial: dict[str, Any] = {"season": season}
    if season in DEFAULT_WINDOWS:
        initial |= dict(zip(("start_month", "start_day", "end_month", "end_day"), DEFAULT_WINDOWS[season], strict=True))
    form = f.SeasonForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            services.season_window_set(actor=request.user, county_code=values.pop("county").code, **values)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存本县特殊时段。"))
            return redirect("disasters:plan_list")
    context = {"form": form, "title": _("调整特殊时段"), "back": "disasters:plan_list"}
    return render(request, "disasters/form.html", context)


@login_required
def plan_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan's document, only through the scope (404 outside it)."""
    require_action(request.user, "disasters.view")
    plan = get_object_or_404(EmergencyPlan.objects.visible_to(request.user), pk=pk)
    suffix = plan.document.name.rsplit(".", 1)[-1].lower() if "." in plan.document.name else "bin"
    return _serve(plan.document, f"{plan.title}.{suffix}")


# -- events ---------------------------------------------------------------------------------------------------


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "disasters.view")
    events = selectors.events_visible(request.user).select_related("division")
    page, query = paginate(request, events, PAGE_SIZE)
    context = {
        "page": page,
        "query": query,
        "can_manage": has_action(request.user, "disasters.manage"),
        "title": _("灾害事件"),
    }
    return render(request, "disasters/event_list.html", context)


@login_required
def event_add(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "disasters.manage")
    form = f.EventForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_declare(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记灾害事件，村级信息员可以上报房屋灾损。"))
            return redirect("disasters:event_detail", pk=event.pk)
    return render(
        request, "disasters/form.html", {"form": form, "title": _("登记灾害事件"), "back": "disasters:event_list"}
    )


@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event(request, pk, "disasters.manage")
    initial = {
        "name": event.name,
        "ended_on": event.ended_on,
        "affected_codes": event.affected_codes,
        "description": event.description,
    }
    form = f.EventForm(request.POST or None, actor=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.event_update(actor=request.user, event=event, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("disasters:event_detail", pk=event.pk)
    context = {"form": form, "title": _("修改灾害事件"), "event": event, "back": "disasters:event_list"}
    return render(request, "disasters/form.html", context)


def _chart(rows: list[selectors.DashboardRow]) -> dict[str, Any]:
    return {
        "names": [r.name for r in rows],
        "series": {m: [r.counts[m] for r in rows] for m in selectors.MEASURES},
        "labels": dict(zip(selectors.MEASURES, _measure_labels(), strict=True)),
    }


def _measure_labels() -> list[str]:
    return [_("上报"), _("已安置"), _("已鉴定"), _("C/D级"), _("已改造")]


@login_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The event dashboard (P9, P23): per division how many houses were reported, resettled, appraised, found
    dangerous and rebuilt, as a chart and a table; then the reports and the coordination notes."""
    event = _event(request, pk)
    rows, total = selectors.dashboard(request.user, event)
    reports = selectors.report_list(request.user, event=event.pk)
    page, query = paginate(request, reports, PAGE_SIZE)
    context = {
        "event": event,
        "rows": rows,
        "total": total,
        "measures": list(zip(selectors.MEASURES, _measure_labels(), strict=True)),
        "totals": [(m, label, total.counts[m]) for m, label in zip(selectors.MEASURES, _measure_labels(), strict=True)],
        "chart": _chart(rows),
        "page": page,
        "query": query,
        "notes": list(selectors.note_list(request.user, event=event.pk)),
        "can_report": has_action(request.user, "disasters.report"),
        "can_manage": has_action(request.user, "disasters.manage"),
        "title": event.name,
    }
    return render(request, "disasters/event_detail.html", context)


@login_required
def event_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The dashboard and the reports the user may see, as an .xlsx (audited like every export)."""
    event = _event(request, pk)
    rows, total = selectors.dashboard(request.user, event)
    buffer = io.BytesIO()
    count = dashboard_workbook(
        buffer, event=event, rows=rows, total=total, reports=selectors.report_list(request.user, event=event.pk)
    )
    event_record(
        actor=request.user,
        action=Action.DISASTER_EXPORTED,
        obj=event,
        extra={"reports": count, "scope": request.user.division_id},
    )
    buffer.seek(0)
    name = _("{name}_灾情统计_{day}.xlsx").format(name=event.name, day=f"{timezone.localdate():%Y%m%d}")
    return FileResponse(buffer, as_attachment=True, filename=name)


# -- damage reports -------------------------------------------------------------------------------------------


def _houses(request: HttpRequest, event: DisasterEvent, q: str) -> Any:
    """Houses of the user's subtree in the event's affected divisions, narrowed by the head's name."""
    houses = House.objects.visible_to(request.user).select_related("household", "division")
    where = Q()
    for code in event.affected_codes:
        where |= scope_q("division_id", code[: 6 if code[6:] == "000000" else 9])
    houses = houses.filter(where) if event.affected_codes else houses.none()
    if q:
        houses = houses.filter(household__head_name__startswith=q)
    return houses.order_by("household__head_name", "id")


@login_required
def report_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P9: report one damaged house of the event at once (from a phone in the village)."""
    event = _event(request, pk, "disasters.report")
    q = request.GET.get("q", "").strip()[:32]
    houses = _houses(request, event, q)
    selected = request.POST.get("house") or request.GET.get("house") or ""
    shown = [*houses.values_list("pk", flat=True)[:HOUSE_CHOICES], *([int(selected)] if selected.isdigit() else [])]
    # validated against every house the user may report (POST); listed: the first HOUSE_CHOICES and the chosen one
    form = f.ReportForm(
        request.POST or None,
        request.FILES or None,
        houses=houses if request.method == "POST" else houses.filter(pk__in=shown),
        initial={"house": selected},
    )
    if request.method == "POST" and form.is_valid():
        try:
            report = services.damage_report(actor=request.user, event=event, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            done = _("已上报灾损。")
            if report.appraisal_request_id:
                done += _("房屋已转县级安排鉴定。")
            if report.needs_resettlement:
                done += _("请尽快登记过渡安置。")
            messages.success(request, done)
            return redirect("disasters:report_detail", pk=report.pk)
    form.fields["house"].queryset = houses.filter(pk__in=shown)
    context = {"form": form, "event": event, "q": q, "title": _("上报房屋灾损")}
    return render(request, "disasters/report_form.html", context)


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    context = {
        "report": report,
        "event": report.event,
        "photos": list(report.photos.all()),
        "resettlements": list(report.resettlements.all()),
        "appraisals": list(
            report.house.appraisals.filter(appraised_on__gte=report.reported_on).order_by("-appraised_on")
        ),
        "photo_form": f.PhotoForm(),
        "can_report": has_action(request.user, "disasters.report"),
        "title": _("{name}户灾损报告").format(name=report.household.head_name),
    }
    return render(request, "disasters/report_detail.html", context)


@login_required
@require_POST
def report_photos(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk, "disasters.report")
    form = f.PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            for file in form.cleaned_data["photos"]:
                services.damage_photo_add(actor=request.user, report=report, file=file)
        except DomainError as exc:
            messages.error(request, exc.message if not exc.errors else "；".join(exc.errors.values()))
        else:
            messages.success(request, _("照片已上传。"))
    else:
        messages.error(request, _("请选择照片"))
    return redirect("disasters:report_detail", pk=report.pk)


@login_required
def report_photo_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A damage photo, only through the scope (404 outside it)."""
    require_action(request.user, "disasters.view")
    photo = get_object_or_404(DamagePhoto.objects.visible_to(request.user), pk=pk)
    return _serve(photo.file)


@login_required
@require_POST
def report_request_appraisal(request: HttpRequest, pk: int) -> HttpResponse:
    """P23: send a slightly or moderately damaged house to appraisal."""
    report = _report(request, pk, "disasters.report")
    try:
        services.damage_request_appraisal(actor=request.user, report=report)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已申请鉴定，县级将指派鉴定人员。"))
    return redirect("disasters:report_detail", pk=report.pk)


@login_required
def resettlement_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P9: where the damaged household lives meanwhile (过渡安置), recorded from a phone."""
    report = _report(request, pk, "disasters.report")
    form = f.ResettlementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.resettlement_record(actor=request.user, report=report, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记过渡安置。"))
            return redirect("disasters:report_detail", pk=report.pk)
    context = {"form": form, "report": report, "title": _("登记过渡安置")}
    return render(request, "disasters/resettlement_form.html", context)


@login_required
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P9: coordination with 应急管理, 民政, 财政 or another department about the event."""
    event = _event(request, pk, "disasters.manage")
    form = f.NoteForm(request.POST or None, initial={"noted_on": dt.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.note_record(actor=request.user, event=event, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记部门协调情况。"))
            return redirect("disasters:event_detail", pk=event.pk)
    context = {"form": form, "event": event, "title": _("登记部门协调"), "back": "disasters:event_list"}
    return render(request, "disasters/form.html", context)


urlpatterns: list[URLPattern] = [
    path("disasters/", event_list, name="event_list"),
    path("disasters/events/add/", event_add, name="event_add"),
    path("disasters/events/<int:pk>/", event_detail, name="event_detail"),
    path("disasters/events/<int:pk>/edit/", event_edit, name="event_edit"),
    path("disasters/events/<int:pk>/export.xlsx", event_export, name="event_export"),
    path("disasters/events/<int:pk>/reports/add/", report_add, name="report_add"),
    path("disasters/events/<int:pk>/notes/add/", note_add, name="note_add"),
    path("disasters/reports/<int:pk>/", report_detail, name="report_detail"),
    path("disasters/reports/<int:pk>/photos/", report_photos, name="report_photos"),
    path("disasters/reports/<int:pk>/request-appraisal/", report_request_appraisal, name="report_request_appraisal"),
    path("disasters/reports/<int:pk>/resettlement/add/", resettlement_add, name="resettlement_add"),
    path("disasters/photos/<int:pk>/", report_photo_file, name="report_photo_file"),
    path("disasters/plans/", plan_list, name="plan_list"),
    path("disasters/plans/add/", plan_add, name="plan_add"),
    path("disasters/seasons/edit/", season_edit, name="season_edit"),
    path("disasters/plans/<int:pk>/document/", plan_document, name="plan_document"),
]
