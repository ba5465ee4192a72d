"""P3, P24: supervision visits, their findings fed back at once, the county's rectification within one week after
the visit ends, and the team accepting or returning it. The finding and rectification forms are one column, for
a phone on site."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.core.scope import code_prefix, scope_q
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code
from anju.registry.filters import search_condition
from anju.registry.models import Household
from anju.web.forms import add_domain_error, paginate

from .. import selectors, services
from ..forms import (
    FindingCaseForm,
    FindingFilterForm,
    FindingForm,
    RectificationForm,
    ReviewForm,
    VisitFilterForm,
    VisitForm,
)
from ..models import Rectification, Visit
from ._common import PAGE_SIZE, counties_of, serve


def _team() -> Any:
    """Who can be named on a team: active users of the city (or the province, for spot checks)."""
    return User.objects.filter(is_active=True, division__level__in=[Level.CITY, Level.PROVINCE]).order_by("username")


def _finding_divisions(visit: Visit) -> list[tuple[str, str]]:
    """The places the visit went to first, then the county and every town and village of it (a native picker on a
    phone handles a few hundred options)."""
    rows = list(
        Division.objects.filter(scope_q("code", visit.division_id[:6]))
        .order_by("code")
        .values_list("code", "name", "level")
    )
    indent = {Level.COUNTY: "", Level.TOWN: "　", Level.VILLAGE: "　　"}
    labels = {code: indent.get(level, "") + name for code, name, level in rows}
    first = [(code, labels[code].strip()) for code in visit.places if code in labels]
    return first + [(code, label) for code, label in labels.items()]


def _household(actor: Any, text: str, division_code: str, form: FindingForm) -> Household | None:
    """The household a finding names, by household number, ID number or head's name within the chosen division.
    Several with one name are listed on the form, so the team picks by number."""
    text = (text or "").strip()
    if not text:
        return None
    qs = Household.objects.visible_to(actor).filter(
        scope_q("division_id", code_prefix(division_code, level_of_code(division_code)))
    )
    found = list(
        qs.filter(pk=int(text))[:2] if text.isdigit() and len(text) < 12 else qs.filter(search_condition(text))[:6]
    )
    if len(found) == 1:
        return found[0]
    if not found:
        form.add_error("household", _("所选区划内没有该农户"))
    else:
        names = "、".join(f"{h.head_name}（{_('编号')}{h.pk}）" for h in found[:5])
        form.add_error("household", _("有多户同名，请填写农户编号：{names}").format(names=names))
    return None


def _visit_initial(visit: Visit) -> dict[str, Any]:
    return {
        "county": visit.division_id, "level": visit.level, "mode": visit.mode, "starts_on": visit.starts_on,
        "ends_on": visit.ends_on, "places": " ".join(visit.places), "members": list(visit.members.all()),
        "member_names": visit.member_names, "scope_note": visit.scope_note,
    }  # fmt: skip


# -- visits --------------------------------------------------------------------------------------------------------


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    """P3, P24: visits to the counties of the user's subtree, with open and late findings."""
    require_action(request.user, "supervision.view")
    form = VisitFilterForm(request.GET or None, counties=counties_of(request.user))
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.VisitFilters(
        division=data.get("county") or "", level=data.get("level") or "", mode=data.get("mode") or "",
        year=data.get("year"),
    )  # fmt: skip
    page, query = paginate(request, selectors.visit_list(request.user, filters), PAGE_SIZE)
    return render(
        request,
        "supervision/visit_list.html",
        {
            "title": _("督导检查"),
            "form": form,
            "page": page,
            "query": query,
            "can_inspect": has_action(request.user, "supervision.inspect"),
        },
    )


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "supervision.view")
    visit = selectors.visit_get(request.user, pk)
    places = dict(Division.objects.filter(code__in=visit.places).values_list("code", "name"))
    return render(
        request,
        "supervision/visit_detail.html",
        {
            "title": _("督导检查#{id}").format(id=visit.pk),
            "visit": visit,
            "places": [places.get(code, code) for code in visit.places],
            "members": visit.members.all(),
            "findings": selectors.visit_findings(request.user, visit),
            "today": dt.date.today(),
            "can_inspect": has_action(request.user, "supervision.inspect"),
        },
    )


def _visit_form_page(request: HttpRequest, visit: Visit | None) -> HttpResponse:
    counties = counties_of(request.user)
    initial = _visit_initial(visit) if visit else {"starts_on": dt.date.today(), "ends_on": dt.date.today()}
    form = VisitForm(request.POST or None, initial=initial, counties=counties, team=_team())
    if visit is not None:
        form.fields["county"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        county = data.pop("county")
        try:
            if visit is None:
                visit = services.visit_record(actor=request.user, county_code=county, **data)
            else:
                visit = services.visit_update(actor=request.user, visit=visit, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存督导检查；发现的问题请在本页逐条反馈。"))
            return redirect("supervision:visit_detail", pk=visit.pk)
    title = _("登记督导检查") if visit is None else _("修改督导检查#{id}").format(id=visit.pk)
    return render(request, "supervision/form.html", {"form": form, "title": title, "back": "visit_list"})


@login_required
def visit_add(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "supervision.inspect")
    return _visit_form_page(request, None)


@login_required
def visit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "supervision.inspect")
    return _visit_form_page(request, selectors.visit_get(request.user, pk))


# -- findings ------------------------------------------------------------------------------------------------------


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    """P3: findings about the user's subtree; `late` is the same condition as the alert P3.finding_late."""
    require_action(request.user, "supervision.view")
    form = FindingFilterForm(request.GET or None, counties=counties_of(request.user))
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.FindingFilters(
        division=data.get("county") or "", state=data.get("state") or "", severity=data.get("severity") or "",
        late=bool(data.get("late")),
    )  # fmt: skip
    page, query = paginate(request, selectors.finding_list(request.user, filters), PAGE_SIZE)
    return render(
        request,
        "supervision/finding_list.html",
        {"title": _("督导问题"), "form": form, "page": page, "query": query, "today": dt.date.today()},
    )


@login_required
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "supervision.view")
    finding = selectors.finding_get(request.user, pk)
    can_rectify = has_action(request.user, "supervision.rectify") and finding.state in ("open", "returned")
    pending = next((r for r in finding.rectifications.all() if not r.verdict), None)
    today = dt.date.today()
    return render(
        request,
        "supervision/finding_detail.html",
        {
            "title": _("督导问题#{id}").format(id=finding.pk),
            "finding": finding,
            "today": today,  # the state badge in the title compares the deadline with it, as the list does
            "late": finding.is_late(today),
            "pending": pending,
            "can_rectify": can_rectify,
            "can_review": has_action(request.user, "supervision.inspect") and pending is not None,
            "can_open_case": has_action(request.user, "supervision.rectify")
            and has_action(request.user, "cases.open")
            and finding.household_id
            and not finding.case_id,
            "rectify_form": RectificationForm() if can_rectify else None,
            "review_form": ReviewForm() if pending else None,
            "history": selectors.finding_history(finding),
        },
    )


@login_required
def finding_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P3: feed a finding of the visit back at once (phone-friendly); due one week after the visit ends."""
    require_action(request.user, "supervision.inspect")
    visit = selectors.visit_get(request.user, pk)
    divisions = _finding_divisions(visit)
    form = FindingForm(request.POST or None, divisions=divisions)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        household = _household(request.user, data.pop("household"), data["division_code"], form)
        if not form.errors:
            try:
                finding = services.finding_record(actor=request.user, visit=visit, household=household, **data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("已反馈，整改期限为{due}。").format(due=finding.due_on.isoformat()))
                return redirect("supervision:visit_detail", pk=visit.pk)
    return render(
        request,
        "supervision/finding_form.html",
        {"form": form, "visit": visit, "title": _("反馈督导问题"), "due": visit.rectify_due},
    )


@login_required
def finding_rectify(request: HttpRequest, pk: int) -> HttpResponse:
    """P3: the county reports its rectification with evidence (phone-friendly: a photo from the camera)."""
    require_action(request.user, "supervision.rectify")
    finding = selectors.finding_get(request.user, pk)
    form = RectificationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rectification_submit(actor=request.user, finding=finding, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("整改情况已报送，等待督导组验收。"))
            return redirect("supervision:finding_detail", pk=finding.pk)
    return render(
        request, "supervision/finding_form.html", {"form": form, "finding": finding, "title": _("报送整改情况")}
    )


@login_required
def rectification_review(request: HttpRequest, pk: int) -> HttpResponse:
    """P3: the team accepts the rectification or returns it with a note."""
    require_action(request.user, "supervision.inspect")
    rectification = get_object_or_404(Rectification.objects.visible_to(request.user), pk=pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rectification_review(actor=request.user, rectification=rectification, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已验收。"))
            return redirect("supervision:finding_detail", pk=rectification.finding_id)
    finding = selectors.finding_get(request.user, rectification.finding_id)
    return render(request, "supervision/finding_form.html", {"form": form, "finding": finding, "title": _("验收整改")})


@login_required
def rectification_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "supervision.view")
    rectification = Rectification.objects.visible_to(request.user).filter(pk=pk).first()
    if rectification is None:
        raise Http404
    return serve(rectification.evidence)


@login_required
def finding_case(request: HttpRequest, pk: int) -> HttpResponse:
    """P3, P19: a finding about a dangerous house opens a ledger case (source 督导)."""
    require_action(request.user, "supervision.rectify")
    finding = selectors.finding_get(request.user, pk)
    form = FindingCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.finding_open_case(actor=request.user, finding=finding, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记台账#{id}。").format(id=case.pk))
            return redirect("cases:case_detail", pk=case.pk)
    return render(
        request, "supervision/finding_form.html", {"form": form, "finding": finding, "title": _("登记危房台账")}
    )


urlpatterns: list[URLPattern] = [
    path("visits/", visit_list, name="visit_list"),
    path("visits/add/", visit_add, name="visit_add"),
    path("visits/<int:pk>/", visit_detail, name="visit_detail"),
    path("visits/<int:pk>/edit/", visit_edit, name="visit_edit"),
    path("visits/<int:pk>/findings/add/", finding_add, name="finding_add"),
    path("findings/", finding_list, name="finding_list"),
    path("findings/<int:pk>/", finding_detail, name="finding_detail"),
    path("findings/<int:pk>/rectify/", finding_rectify, name="finding_rectify"),
    path("findings/<int:pk>/case/", finding_case, name="finding_case"),
    path("rectifications/<int:pk>/review/", rectification_review, name="rectification_review"),
    path("rectifications/<int:pk>/evidence/", rectification_evidence, name="rectification_evidence"),
]
