"""Pages of complaints (信访, P14), hotlines, publicity and public opinion (宣传、舆情, P15): thin views over the
selectors and services.

Every page first checks the role's action (403), then finds the row in the user's subtree (404). A service's
refusal comes back on the form in Chinese; a form that moves a complaint sends the version it was shown at.
"""

from __future__ import annotations

import datetime as dt
import io
import mimetypes
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from anju.accounts.permissions import has_action, require_action
from anju.audit.models import Event
from anju.cases.models import Case
from anju.core.errors import DomainError
from anju.registry.models import House, Household
from anju.web.forms import add_domain_error, paginate

from . import exports, selectors, services
from . import forms as f
from .models import (
    AWAITING_REPLY,
    Complaint,
    ComplaintState,
    OpinionIncident,
    PublicityActivity,
    PublicityKind,
    ReplyMethod,
    ReviewResult,
    Satisfaction,
)

PAGE_SIZE = 30
FORM_TEMPLATE = "complaints/form.html"
STATE_LABELS = dict(ComplaintState.choices)
#: Fields of an event's `after` that the history shows, with their labels and, for codes, their choices.
HISTORY_FIELDS: dict[str, tuple[Any, dict[str, Any]]] = {
    "state": (gettext_lazy("状态"), STATE_LABELS),
    "handler_name": (gettext_lazy("承办人"), {}),
    "reply_due_on": (gettext_lazy("答复期限"), {}),
    "reply_method": (gettext_lazy("答复方式"), dict(ReplyMethod.choices)),
    "satisfaction": (gettext_lazy("满意度"), dict(Satisfaction.choices)),
    "review_result": (gettext_lazy("回头看结果"), dict(ReviewResult.choices)),
    "case": (gettext_lazy("台账"), {}),
    "phone": (gettext_lazy("联系电话"), {}),
    "response": (gettext_lazy("回应"), {}),
    "closed_on": (gettext_lazy("办结日期"), {}),
}
Run = Callable[[dict[str, Any]], Any]


def _history(events: QuerySet[Event]) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        after = event.after or {}
        details = []
        for key, (label, choices) in HISTORY_FIELDS.items():
            value = after.get(key)
            if value not in (None, ""):
                details.append(f"{label}：{choices.get(value, value)}")
        rows.append({"event": event, "details": details})
    return rows


def _linked(request: HttpRequest, form: forms.Form, model: type[Model], field: str) -> Any:
    """The household or case a form names by number, if it lies in the user's subtree (else a form error)."""
    pk = form.cleaned_data.get(field)
    if not pk:
        return None
    found = model.objects.visible_to(request.user).filter(pk=pk).first()
    if found is None:
        form.add_error(field, _("编号{pk}不存在或不在您的管辖范围内").format(pk=pk))
    return found


# -- complaints ---------------------------------------------------------------------------------------------------


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    """信访件: the user's complaints, narrowed by division, state, channel, category, overdue, 回头看, handler."""
    require_action(request.user, "complaints.view")
    form = f.ComplaintFilterForm(request.GET or None, actor=request.user)
    filters = form.filters()
    page, query = paginate(request, selectors.complaint_list(request.user, filters), PAGE_SIZE)
    today = dt.date.today()
    for complaint in page.object_list:
        complaint.overdue = selectors.is_overdue(complaint, today)
    counts = selectors.complaint_state_counts(request.user, filters)
    strip = []
    for state, label in ComplaintState.choices:
        query_state = request.GET.copy()
        query_state.pop("page", None)
        query_state["state"] = state
        strip.append({"state": state, "label": label, "n": counts.get(state, 0), "query": query_state.urlencode(),
                      "active": state == filters.state})  # fmt: skip
    context = {
        "form": form,
        "page": page,
        "query": query,
        "counts": strip,
        "total": sum(counts.values()),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
        "can_handle": has_action(request.user, "complaints.handle"),
        "title": _("信访件"),
    }
    template = "complaints/_complaint_rows.html" if request.htmx else "complaints/complaint_list.html"
    return render(request, template, context)


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole complaint: who, what, the handler and deadline, the reply, satisfaction, 回头看, history."""
    require_action(request.user, "complaints.view")
    complaint = selectors.complaint_get(request.user, pk)
    complaint.overdue = selectors.is_overdue(complaint)
    can_handle = has_action(request.user, "complaints.handle")
    state = complaint.state
    moves = []
    if can_handle:
        if state in AWAITING_REPLY:
            moves.append(("complaints:complaint_assign", _("交办") if state == ComplaintState.RECEIVED else _("改派")))
        if state == ComplaintState.HANDLING:
            moves.append(("complaints:complaint_reply", _("答复")))
        if state == ComplaintState.REPLIED:
            moves.append(("complaints:complaint_close", _("办结")))
        if state == ComplaintState.CLOSED:
            moves.append(("complaints:complaint_review", _("回头看")))
        if state != ComplaintState.CLOSED:
            moves.append(("complaints:complaint_edit", _("修改")))
        if complaint.household_id and not complaint.case_id and has_action(request.user, "cases.open"):
            moves.append(("complaints:complaint_open_case", _("登记台账")))
    context = {
        "complaint": complaint,
        "moves": moves,
        "can_handle": can_handle,
        "history": _history(selectors.complaint_history(complaint)),
        "title": _("信访件#{id}").format(id=complaint.pk),
    }
    return render(request, "complaints/complaint_detail.html", context)


@login_required
def complaint_add(request: HttpRequest) -> HttpResponse:
    """P14: receive a complaint (受理); from a household page the household and its village are filled in."""
    require_action(request.user, "complaints.handle")
    initial: dict[str, Any] = {}
    household_pk = request.GET.get("household", "")
    if household_pk.isdigit():
        household = get_object_or_404(Household.objects.visible_to(request.user), pk=household_pk)
        initial |= {"household": household.pk, "division_code": household.division_id}
    form = f.ComplaintForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        values["household"] = _linked(request, form, Household, "household")
        values["case"] = _linked(request, form, Case, "case")
        if not form.errors:
            try:
                complaint = services.complaint_register(actor=request.user, **values)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已受理信访件#{id}，答复期限{due}。").format(
                        id=complaint.pk, due=complaint.reply_due_on.isoformat()
                    ),
                )
                return redirect("complaints:complaint_detail", pk=complaint.pk)
    return render(request, FORM_TEMPLATE, {"form": form, "title": _("受理信访件"), "submit": _("受理")})


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    """A complaint the user may handle (else 403) in the user's subtree (else 404)."""
    require_action(request.user, "complaints.handle")
    complaints = selectors.complaints_visible(request.user).select_related("division__parent", "household")
    return get_object_or_404(complaints, pk=pk)


def _move(
    request: HttpRequest,
    complaint: Complaint,
    form_class: type[forms.Form],
    run: Callable[[forms.Form, dict[str, Any]], Any],
    *,
    title: str,
    done: str,
    initial: dict[str, Any] | None = None,
    form_kwargs: dict[str, Any] | None = None,
) -> HttpResponse:
    """Show the form; on a valid POST run the service, then go to the complaint page with `done` as the message."""
    initial = {**(initial or {}), "version": complaint.version} if issubclass(form_class, f.VersionForm) else initial
    form = form_class(request.POST or None, request.FILES or None, initial=initial, **(form_kwargs or {}))
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        version = values.pop("version", None)
        try:
            run(form, values | ({"expected_version": version} if version is not None else {}))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if not form.errors:
                messages.success(request, done)
                return redirect("complaints:complaint_detail", pk=complaint.pk)
    context = {"complaint": complaint, "form": form, "title": title, "submit": _("保存")}
    return render(request, FORM_TEMPLATE, context)


@login_required
def complaint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)

    def run(form: forms.Form, values: dict[str, Any]) -> None:
        if not values["phone"]:
            values.pop("phone")
        values["household"] = _linked(request, form, Household, "household")
        values["case"] = _linked(request, form, Case, "case")
        if not form.errors:
            services.complaint_update(actor=request.user, complaint=complaint, **values)

    initial = {
        "complainant_name": complaint.complainant_name,
        "category": complaint.category,
        "content": complaint.content,
        "household": complaint.household_id,
        "case": complaint.case_id,
    }
    return _move(
        request, complaint, f.ComplaintEditForm, run, title=_("修改信访件"), done=_("已保存。"), initial=initial
    )


@login_required
def complaint_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """P14: give the complaint to a handler (交办/改派)."""
    complaint = _complaint(request, pk)

    def run(form: forms.Form, values: dict[str, Any]) -> None:
        handler = get_user_model().objects.filter(pk=values.pop("handler")).first()
        services.complaint_assign(actor=request.user, complaint=complaint, handler=handler, **values)

    return _move(
        request,
        complaint,
        f.AssignForm,
        run,
        title=_("交办信访件"),
        done=_("已交办。"),
        initial={"handler": complaint.handler_id, "reply_due_on": complaint.reply_due_on},
        form_kwargs={"complaint": complaint},
    )


@login_required
def complaint_reply(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    return _move(
        request,
        complaint,
        f.ReplyForm,
        lambda form, v: services.complaint_reply(actor=request.user, complaint=complaint, **v),
        title=_("答复信访人"),
        done=_("已记录答复。"),
    )


@login_required
def complaint_close(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    return _move(
        request,
        complaint,
        f.CloseForm,
        lambda form, v: services.complaint_close(actor=request.user, complaint=complaint, **v),
        title=_("信访件办结"),
        done=_("已办结。"),
    )


@login_required
def complaint_review(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    return _move(
        request,
        complaint,
        f.ReviewForm,
        lambda form, v: services.complaint_review(actor=request.user, complaint=complaint, **v),
        title=_("回头看"),
        done=_("已记录回头看情况。"),
        initial={"review_result": complaint.review_result, "review_note": complaint.review_note},
    )


@login_required
def complaint_open_case(request: HttpRequest, pk: int) -> HttpResponse:
    """P14, P19: the complaint's household gets a ledger case (source 信访)."""
    complaint = _complaint(request, pk)
    require_action(request.user, "cases.open")
    houses = House.objects.visible_to(request.user).filter(household_id=complaint.household_id).order_by("id")
    form = f.OpenCaseForm(request.POST or None, houses=houses)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.complaint_open_case(actor=request.user, complaint=complaint, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记台账#{id}。").format(id=case.pk))
            return redirect("cases:case_detail", pk=case.pk)
    context = {"complaint": complaint, "form": form, "title": _("登记台账"), "submit": _("登记")}
    return render(request, FORM_TEMPLATE, context)


@login_required
@require_POST
def complaint_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows the full phone number in place (htmx); the service audits every such view."""
    complaint = _complaint(request, pk)
    full = services.complaint_reveal_phone(actor=request.user, complaint=complaint)
    return HttpResponse(f'<span class="font-monospace" id="complaint-phone">{full}</span>')


@login_required
def complaint_export(request: HttpRequest) -> HttpResponse:
    """The complaints under the list page's filters as .xlsx (phones masked); the export is audited."""
    require_action(request.user, "complaints.view")
    form = f.ComplaintFilterForm(request.GET or None, actor=request.user)
    filters = form.filters()
    if "division" in form.errors:
        raise Http404(_("区划不存在或不在您的管辖范围内"))
    buffer = io.BytesIO()
    exports.complaints_export(actor=request.user, filters=filters, output=buffer)
    name = _("信访件_{day}.xlsx").format(day=f"{timezone.localdate():%Y%m%d}")
    buffer.seek(0)
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# -- hotlines -----------------------------------------------------------------------------------------------------


@login_required
def hotline_list(request: HttpRequest) -> HttpResponse:
    """P14: the published complaint hotlines, for staff to give to households."""
    require_action(request.user, "complaints.view")
    context = {
        "hotlines": list(selectors.hotline_list(request.user)),
        "can_set": has_action(request.user, "complaints.handle"),
        "title": _("监督举报电话"),
    }
    return render(request, "complaints/hotline_list.html", context)


@login_required
def hotline_set(request: HttpRequest) -> HttpResponse:
    """P14: a county publishes (or changes) its complaint hotline."""
    require_action(request.user, "complaints.handle")
    form = f.HotlineForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.hotline_set(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存监督举报电话。"))
            return redirect("complaints:hotline_list")
    return render(request, FORM_TEMPLATE, {"form": form, "title": _("公布监督举报电话"), "submit": _("保存")})


# -- publicity ----------------------------------------------------------------------------------------------------


@login_required
def publicity_list(request: HttpRequest) -> HttpResponse:
    """P15: the publicity ledger (宣传台账), by year and form."""
    require_action(request.user, "complaints.view")
    year = request.GET.get("year", "")
    kind = request.GET.get("kind", "")
    rows = selectors.publicity_list(
        request.user,
        year=int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None,
        kind=kind if kind in PublicityKind.values else "",
    )
    page, query = paginate(request, rows, PAGE_SIZE)
    context = {
        "page": page,
        "query": query,
        "year": year,
        "kind": kind,
        "kinds": PublicityKind.choices,
        "years": range(timezone.localdate().year, timezone.localdate().year - 6, -1),
        "can_record": has_action(request.user, "complaints.publicity"),
        "title": _("宣传活动"),
    }
    return render(request, "complaints/publicity_list.html", context)


@login_required
def publicity_add(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "complaints.publicity")
    form = f.PublicityForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.publicity_record(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记宣传活动。"))
            return redirect("complaints:publicity_list")
    return render(request, FORM_TEMPLATE, {"form": form, "title": _("登记宣传活动"), "submit": _("登记")})


@login_required
def publicity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "complaints.publicity")
    activity = get_object_or_404(PublicityActivity.objects.visible_to(request.user), pk=pk)
    initial = {k: getattr(activity, k) for k in ("held_on", "kind", "title", "audience", "notes")}
    form = f.PublicityForm(
        request.POST or None, request.FILES or None, actor=request.user, editing=True, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "photo" or v}
        try:
            services.publicity_update(actor=request.user, activity=activity, **values)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("complaints:publicity_list")
    return render(request, FORM_TEMPLATE, {"form": form, "title": _("修改宣传活动"), "submit": _("保存")})


@login_required
def publicity_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A publicity photo, only through the scope (404 outside it)."""
    require_action(request.user, "complaints.view")
    activity = get_object_or_404(PublicityActivity.objects.visible_to(request.user), pk=pk)
    if not activity.photo:
        raise Http404
    try:
        handle = activity.photo.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=mimetypes.guess_type(activity.photo.name)[0] or "image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    return response


# -- public opinion -----------------------------------------------------------------------------------------------


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    """P15: public-opinion incidents (舆情); `open=1` hides closed ones, `unanswered=1` shows the late ones."""
    require_action(request.user, "complaints.view")
    open_only, unanswered = request.GET.get("open") == "1", request.GET.get("unanswered") == "1"
    rows = selectors.incident_list(request.user, open_only=open_only, unanswered=unanswered)
    page, query = paginate(request, rows, PAGE_SIZE)
    for incident in page.object_list:
        incident.late = selectors.is_unanswered(incident)
    context = {
        "page": page,
        "query": query,
        "open_only": open_only,
        "unanswered": unanswered,
        "can_record": has_action(request.user, "complaints.publicity"),
        "title": _("舆情"),
    }
    return render(request, "complaints/incident_list.html", context)


@login_required
def incident_add(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "complaints.publicity")
    form = f.IncidentForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_record(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记舆情，请在1天内回应。"))
            return redirect("complaints:incident_detail", pk=incident.pk)
    return render(request, FORM_TEMPLATE, {"form": form, "title": _("登记舆情"), "submit": _("登记")})


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "complaints.view")
    incident = get_object_or_404(selectors.incident_list(request.user), pk=pk)
    can_act = has_action(request.user, "complaints.publicity") and incident.is_open
    context = {
        "incident": incident,
        "respond_form": f.RespondForm(initial={"response": incident.response}) if can_act else None,
        "close_form": f.IncidentCloseForm() if can_act and incident.responded_on else None,
        "history": _history(selectors.incident_history(incident)),
        "title": _("舆情#{id}").format(id=incident.pk),
    }
    return render(request, "complaints/incident_detail.html", context)


def _incident_move(request: HttpRequest, pk: int, form_class: type[forms.Form], run: Run, done: str) -> HttpResponse:
    require_action(request.user, "complaints.publicity")
    incident = get_object_or_404(OpinionIncident.objects.visible_to(request.user), pk=pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run({"incident": incident, **form.cleaned_data})
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("complaints:incident_detail", pk=pk)
    context = {"incident": incident, "form": form, "title": _("舆情#{id}").format(id=pk), "submit": _("保存")}
    return render(request, FORM_TEMPLATE, context)


@login_required
def incident_respond(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_move(
        request,
        pk,
        f.RespondForm,
        lambda v: services.incident_respond(actor=request.user, **v),
        _("已记录回应。"),
    )


@login_required
def incident_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_move(
        request, pk, f.IncidentCloseForm, lambda v: services.incident_close(actor=request.user, **v), _("已办结。")
    )


urlpatterns: list[URLPattern] = [
    path("complaints/", complaint_list, name="complaint_list"),
    path("complaints/new/", complaint_add, name="complaint_add"),
    path("complaints/export.xlsx", complaint_export, name="complaint_export"),
    path("complaints/hotlines/", hotline_list, name="hotline_list"),
    path("complaints/hotlines/set/", hotline_set, name="hotline_set"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/edit/", complaint_edit, name="complaint_edit"),
    path("complaints/<int:pk>/assign/", complaint_assign, name="complaint_assign"),
    path("complaints/<int:pk>/reply/", complaint_reply, name="complaint_reply"),
    path("complaints/<int:pk>/close/", complaint_close, name="complaint_close"),
    path("complaints/<int:pk>/review/", complaint_review, name="complaint_review"),
    path("complaints/<int:pk>/open-case/", complaint_open_case, name="complaint_open_case"),
    path("complaints/<int:pk>/phone/", complaint_phone, name="complaint_phone"),
    path("publicity/", publicity_list, name="publicity_list"),
    path("publicity/new/", publicity_add, name="publicity_add"),
    path("publicity/<int:pk>/edit/", publicity_edit, name="publicity_edit"),
    path("publicity/<int:pk>/photo/", publicity_photo, name="publicity_photo"),
    path("publicity/incidents/", incident_list, name="incident_list"),
    path("publicity/incidents/new/", incident_add, name="incident_add"),
    path("publicity/incidents/<int:pk>/", incident_detail, name="incident_detail"),
    path("publicity/incidents/<int:pk>/respond/", incident_respond, name="incident_respond"),
    path("publicity/incidents/<int:pk>/close/", incident_close, name="incident_close"),
]
