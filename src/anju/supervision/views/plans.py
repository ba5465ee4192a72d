"""P16: filing rounds the city sets, each county's implementation plan, and the city receiving or returning it."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.web.forms import add_domain_error, paginate

from .. import selectors, services
from ..forms import FilingForm, FilingReviewForm, RoundForm
from ._common import PAGE_SIZE, counties_of, serve


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    """P16: the filing rounds, newest first."""
    require_action(request.user, "supervision.view")
    page, query = paginate(request, selectors.round_list(request.user), PAGE_SIZE)
    return render(
        request,
        "supervision/round_list.html",
        {
            "title": _("实施方案备案"),
            "page": page,
            "query": query,
            "today": dt.date.today(),
            "can_inspect": has_action(request.user, "supervision.inspect"),
        },
    )


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """P16: a round and every county of the user's subtree: filed, received, returned, or late."""
    require_action(request.user, "supervision.view")
    plan_round = selectors.round_get(request.user, pk)
    rows = selectors.round_counties(request.user, plan_round)
    return render(
        request,
        "supervision/round_detail.html",
        {
            "title": plan_round.title,
            "round": plan_round,
            "rows": rows,
            "late": sum(r.late for r in rows),
            "can_inspect": has_action(request.user, "supervision.inspect"),
            "can_file": has_action(request.user, "supervision.rectify"),
        },
    )


@login_required
def round_add(request: HttpRequest) -> HttpResponse:
    """P16: the city opens a round with its own deadline."""
    require_action(request.user, "supervision.inspect")
    form = RoundForm(request.POST or None, initial={"year": dt.date.today().year})
    if request.method == "POST" and form.is_valid():
        try:
            plan_round = services.round_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已设置备案批次，各县可报送实施方案。"))
            return redirect("supervision:round_detail", pk=plan_round.pk)
    return render(request, "supervision/form.html", {"form": form, "title": _("设置备案批次"), "back": "round_list"})


@login_required
def round_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """P16: move the deadline or reword the round."""
    require_action(request.user, "supervision.inspect")
    plan_round = selectors.round_get(request.user, pk)
    initial = {"year": plan_round.year, "title": plan_round.title, "deadline": plan_round.deadline}
    form = RoundForm(request.POST or None, initial=initial | {"note": plan_round.note})
    form.fields["year"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("title", "deadline", "note")}
        try:
            services.round_update(actor=request.user, plan_round=plan_round, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("supervision:round_detail", pk=plan_round.pk)
    return render(request, "supervision/form.html", {"form": form, "title": _("修改备案批次"), "back": "round_list"})


@login_required
def filing_add(request: HttpRequest, pk: int) -> HttpResponse:
    """P16: the county files its plan for the round (or files again a plan the city returned)."""
    require_action(request.user, "supervision.rectify")
    plan_round = selectors.round_get(request.user, pk)
    counties = counties_of(request.user)
    form = FilingForm(request.POST or None, request.FILES or None, counties=counties)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_submit(
                actor=request.user,
                plan_round=plan_round,
                county_code=data["county"],
                title=data["title"],
                filed_on=data["filed_on"],
                document=data["document"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("实施方案已报送，等待市级备案。"))
            return redirect("supervision:round_detail", pk=plan_round.pk)
    return render(
        request,
        "supervision/form.html",
        {"form": form, "title": _("报送实施方案：{round}").format(round=plan_round.title), "multipart": True,
         "back": "round_list"},
    )  # fmt: skip


@login_required
def filing_review(request: HttpRequest, pk: int) -> HttpResponse:
    """P16: the city receives the plan (备案) or returns it with a note."""
    require_action(request.user, "supervision.inspect")
    filing = selectors.filing_get(request.user, pk)
    form = FilingReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_review(actor=request.user, filing=filing, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已处理。"))
            return redirect("supervision:round_detail", pk=filing.round_id)
    return render(
        request, "supervision/filing_review.html", {"form": form, "filing": filing, "title": _("实施方案备案")}
    )


@login_required
def filing_document(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "supervision.view")
    return serve(selectors.filing_get(request.user, pk).document)


urlpatterns: list[URLPattern] = [
    path("plans/", round_list, name="round_list"),
    path("plans/add/", round_add, name="round_add"),
    path("plans/<int:pk>/", round_detail, name="round_detail"),
    path("plans/<int:pk>/edit/", round_edit, name="round_edit"),
    path("plans/<int:pk>/file/", filing_add, name="filing_add"),
    path("filings/<int:pk>/review/", filing_review, name="filing_review"),
    path("filings/<int:pk>/document/", filing_document, name="filing_document"),
]
