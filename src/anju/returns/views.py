"""Pages of P10's tracking: thin over `selectors` and `services`. Records are looked up through the scope (404
outside it); a role without `returns.track` gets 403 on every form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.idle.selectors import by_division
from anju.registry.models import House, Household
from anju.web.forms import add_domain_error, paginate

from . import forms as f
from . import selectors, services
from .models import OPEN_STATES, Tracking, TrackingKind, TrackingState

PAGE_SIZE = 30
FORM_TEMPLATE = "returns/tracking_form.html"


@login_required
def tracking_list(request: HttpRequest) -> HttpResponse:
    """重新申请与返乡户: the households followed, counted per kind and step and per division (P10)."""
    require_action(request.user, "returns.view")
    form = f.TrackingFilterForm(request.GET or None, actor=request.user)
    filters = form.filters()
    page, query = paginate(request, selectors.tracking_list(request.user, filters), PAGE_SIZE)
    today = dt.date.today()
    base = selectors.tracking_filter(selectors.tracking_visible(request.user), filters, today)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "counts": selectors.tracking_counts(request.user, filters, today),
        "by_division": by_division(
            base,
            request.user,
            filters.division,
            open=Count("id", filter=Q(state__in=OPEN_STATES)),
            returned=Count("id", filter=Q(state__in=OPEN_STATES, kind=TrackingKind.RETURNED)),
            wish=Count("id", filter=Q(state=TrackingState.WISH_CONFIRMED)),
            cases=Count("id", filter=Q(state=TrackingState.CASE_OPENED)),
        ),
        "can_track": has_action(request.user, "returns.track"),
        "title": _("重新申请与返乡户"),
    }
    return render(request, "returns/tracking_list.html", context)


@login_required
def tracking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "returns.view")
    tracking = selectors.tracking_get(request.user, pk)
    stalled = selectors.tracking_filter(
        Tracking.objects.filter(pk=tracking.pk), selectors.TrackingFilters(stalled=True)
    ).exists()
    context = {
        "tracking": tracking,
        "may_track": services.may_track(request.user, tracking),
        "may_open_case": tracking.state == TrackingState.WISH_CONFIRMED and has_action(request.user, "cases.open"),
        "stalled": stalled,
        "reapplication_days": selectors.REAPPLICATION_DAYS,
        "title": _("跟踪#{id} {name}户").format(id=tracking.pk, name=tracking.household.head_name),
    }
    return render(request, "returns/tracking_detail.html", context)


def _start_target(request: HttpRequest) -> tuple[Household, Any] | None:
    """The household (and the secured ledger case) named by `?case=` or `?household=`, through the scope."""
    from anju.cases.models import Case

    case_pk, household_pk = request.GET.get("case", ""), request.GET.get("household", "")
    if case_pk:
        if not case_pk.isdigit():
            raise Http404
        case = get_object_or_404(
            Case.objects.visible_to(request.user).filter(services.secured_case_q()).select_related("household"),
            pk=case_pk,
        )
        return case.household, case
    if household_pk:
        if not household_pk.isdigit():
            raise Http404
        return get_object_or_404(Household.objects.visible_to(request.user), pk=household_pk), None
    return None


@login_required
def tracking_add(request: HttpRequest) -> HttpResponse:
    """P10: start following a household. Without `?case=` or `?household=` the page offers the secured cases not
    yet followed and a search by name (for returning migrant workers and households recorded directly)."""
    require_action(request.user, "returns.track")
    target = _start_target(request)
    if target is None:
        q = (request.GET.get("q") or "").strip()[:40]
        page, query = paginate(request, selectors.untracked_secured(request.user), PAGE_SIZE)
        found = list(selectors.households_named(request.user, q)[:PAGE_SIZE]) if q else []
        context = {"page": page, "query": query, "q": q, "found": found, "title": _("登记跟踪农户")}
        return render(request, "returns/tracking_candidates.html", context)
    household, case = target
    initial = {
        "kind": TrackingKind.SECURED if case else TrackingKind.RETURNED,
        "followed_by_code": household.division_id,
    }
    form = f.TrackingStartForm(request.POST or None, initial=initial, followers=services.follower_choices(household))
    if request.method == "POST" and form.is_valid():
        try:
            tracking = services.tracking_start(
                actor=request.user, household=household, origin_case=case, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记跟踪。"))
            return redirect("returns:tracking_detail", pk=tracking.pk)
    context = {"form": form, "household": household, "case": case, "title": _("登记跟踪农户"), "submit": _("登记")}
    return render(request, FORM_TEMPLATE, context)


def _record(request: HttpRequest, pk: int) -> Tracking:
    require_action(request.user, "returns.track")
    return get_object_or_404(
        selectors.tracking_visible(request.user).select_related("household", "division", "division__parent"), pk=pk
    )


def _page(
    request: HttpRequest,
    tracking: Tracking,
    form: forms.Form,
    run: Callable[[dict[str, Any]], Any],
    *,
    title: str,
    done: str,
    submit: str = "",
) -> HttpResponse:
    """Show the form; on a valid POST run the service (with the shown version), then go to the record."""
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        if "version" in values:
            values["expected_version"] = values.pop("version")
        try:
            run(values)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("returns:tracking_detail", pk=tracking.pk)
    context = {
        "form": form,
        "tracking": tracking,
        "household": tracking.household,
        "title": title,
        "submit": submit or _("保存"),
    }
    return render(request, FORM_TEMPLATE, context)


def _bound(request: HttpRequest, form_class: type[forms.Form], tracking: Tracking, **kwargs: Any) -> Any:
    initial = kwargs.pop("initial", {}) | {"version": tracking.version}
    return form_class(request.POST or None, initial=initial, **kwargs)


@login_required
def tracking_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tracking = _record(request, pk)
    fields = ("housing", "housed_since", "returned_on", "follower_name", "notes", "last_contact_on")
    initial = {k: getattr(tracking, k) for k in fields} | {"followed_by_code": tracking.followed_by_id}
    form = _bound(
        request, f.TrackingEditForm, tracking, initial=initial, followers=services.follower_choices(tracking.household)
    )
    run = lambda v: services.tracking_update(actor=request.user, tracking=tracking, **v)  # noqa: E731
    return _page(request, tracking, form, run, title=_("修改跟踪情况"), done=_("跟踪情况已更新。"))


@login_required
def tracking_explain(request: HttpRequest, pk: int) -> HttpResponse:
    tracking = _record(request, pk)
    name = request.user.full_name or request.user.username
    form = _bound(request, f.ExplainForm, tracking, initial={"explained_by": tracking.explained_by or name})
    run = lambda v: services.tracking_explain(actor=request.user, tracking=tracking, **v)  # noqa: E731
    return _page(request, tracking, form, run, title=_("登记政策解释"), done=_("已登记政策解释。"))


@login_required
def tracking_wish(request: HttpRequest, pk: int) -> HttpResponse:
    tracking = _record(request, pk)
    form = _bound(request, f.WishForm, tracking, initial={"signed_by": tracking.household.head_name})
    run = lambda v: services.tracking_confirm_wish(actor=request.user, tracking=tracking, **v)  # noqa: E731
    return _page(request, tracking, form, run, title=_("确认改造意愿"), done=_("已确认改造意愿。"))


@login_required
def tracking_case(request: HttpRequest, pk: int) -> HttpResponse:
    """P10: open the re-application's ledger case (source 重新申请) once the wish is confirmed."""
    tracking = _record(request, pk)
    require_action(request.user, "cases.open")
    houses = House.objects.visible_to(request.user).filter(household=tracking.household_id).order_by("id")
    form = f.OpenCaseForm(request.POST or None, houses=houses)
    run = lambda v: services.tracking_open_case(actor=request.user, tracking=tracking, **v)  # noqa: E731
    return _page(
        request,
        tracking,
        form,
        run,
        title=_("登记重新申请台账"),
        done=_("已登记台账，纳入改造计划。"),
        submit=_("登记台账"),
    )


@login_required
def tracking_close(request: HttpRequest, pk: int) -> HttpResponse:
    tracking = _record(request, pk)
    form = _bound(request, f.CloseForm, tracking)
    run = lambda v: services.tracking_close(actor=request.user, tracking=tracking, **v)  # noqa: E731
    return _page(request, tracking, form, run, title=_("结束跟踪"), done=_("已结束跟踪。"), submit=_("结束跟踪"))


urlpatterns: list[URLPattern] = [
    path("returns/", tracking_list, name="tracking_list"),
    path("returns/new/", tracking_add, name="tracking_add"),
    path("returns/<int:pk>/", tracking_detail, name="tracking_detail"),
    path("returns/<int:pk>/edit/", tracking_edit, name="tracking_edit"),
    path("returns/<int:pk>/explain/", tracking_explain, name="tracking_explain"),
    path("returns/<int:pk>/wish/", tracking_wish, name="tracking_wish"),
    path("returns/<int:pk>/case/", tracking_case, name="tracking_case"),
    path("returns/<int:pk>/close/", tracking_close, name="tracking_close"),
]
