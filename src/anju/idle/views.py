"""Pages of the idle dangerous house list (P11): thin over `selectors` and `services`. Listings are looked up
through the scope (404 outside it); a role without `idle.manage` gets 403 on every form."""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.registry.models import DANGEROUS_GRADES, House
from anju.web.forms import add_domain_error, paginate

from . import forms as f
from . import selectors, services
from .models import IdleHouse

PAGE_SIZE = 30
FORM_TEMPLATE = "idle/idle_form.html"


@login_required
def idlehouse_list(request: HttpRequest) -> HttpResponse:
    """闲置危房: the user's listings with the P11 problems counted, by division and one by one."""
    require_action(request.user, "idle.view")
    form = f.IdleFilterForm(request.GET or None, actor=request.user)
    filters = form.filters()
    rows = selectors.idle_list(request.user, filters)
    page, query = paginate(request, rows, PAGE_SIZE)
    today = dt.date.today()
    base = selectors.idle_filter(selectors.idle_visible(request.user), filters, today)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "today": today,
        "counts": selectors.idle_counts(request.user, filters, today),
        "by_division": selectors.by_division(
            base,
            request.user,
            filters.division,
            missed=Count("id", filter=selectors.visit_missed_q(today)),
            unsecured=Count("id", filter=selectors.not_secured_q(today)),
            occupied=Count("id", filter=selectors.occupied_q()),
        ),
        "can_manage": has_action(request.user, "idle.manage"),
        "title": _("闲置危房"),
    }
    return render(request, "idle/idle_list.html", context)


@login_required
def idlehouse_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "idle.view")
    idle = selectors.idle_get(request.user, pk)
    context = {
        "idle": idle,
        "visits": list(selectors.visits_of(idle)),
        "may_manage": services.may_manage(request.user, idle),
        "problems": selectors.idle_problems(idle),
        "grace_days": selectors.SECURE_GRACE_DAYS,
        "title": _("闲置危房#{id} {name}户").format(id=idle.pk, name=idle.household.head_name),
    }
    return render(request, "idle/idle_detail.html", context)


def _candidates(user: Any) -> Any:
    """C/D houses of the user's subtree not on the list; those the registry marks idle (是否闲置) first."""
    listed = IdleHouse.objects.filter(house=OuterRef("pk"), ended_on__isnull=True)
    return (
        House.objects.visible_to(user)
        .filter(~Exists(listed), grade__in=DANGEROUS_GRADES)
        .select_related("household", "division", "division__parent")
        .order_by("-is_idle", "division_id", "id")
    )


@login_required
def idlehouse_add(request: HttpRequest) -> HttpResponse:
    """P11: put a C/D house on the list. Without `?house=` the page offers the houses that could be listed."""
    require_action(request.user, "idle.manage")
    pk = request.GET.get("house", "")
    if not pk:
        page, query = paginate(request, _candidates(request.user), PAGE_SIZE)
        return render(request, "idle/idle_candidates.html", {"page": page, "query": query, "title": _("列入闲置危房")})
    if not pk.isdigit():
        raise Http404
    house = get_object_or_404(
        House.objects.visible_to(request.user).select_related("household", "division", "division__parent"), pk=pk
    )
    form = f.IdleListForm(request.POST or None, code=house.division_id)
    if request.method == "POST" and form.is_valid():
        try:
            idle = services.idle_list(actor=request.user, house=house, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已列入闲置危房名单。"))
            return redirect("idle:idlehouse_detail", pk=idle.pk)
    context = {"form": form, "house": house, "title": _("列入闲置危房"), "submit": _("列入名单")}
    return render(request, FORM_TEMPLATE, context)


def _listing(request: HttpRequest, pk: int) -> IdleHouse:
    require_action(request.user, "idle.manage")
    return get_object_or_404(
        selectors.idle_visible(request.user).select_related("household", "house", "division", "division__parent"),
        pk=pk,
    )


def _page(
    request: HttpRequest,
    idle: IdleHouse,
    form: forms.Form,
    run: Callable[[dict[str, Any]], Any],
    *,
    title: str,
    done: str,
    submit: str = "",
) -> HttpResponse:
    """Show the form; on a valid POST run the service with the shown version, then go to the listing."""
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        version = values.pop("version")
        try:
            run(values | {"expected_version": version})
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("idle:idlehouse_detail", pk=idle.pk)
    context = {"form": form, "idle": idle, "house": idle.house, "title": title, "submit": submit or _("保存")}
    return render(request, FORM_TEMPLATE, context)


def _bound(request: HttpRequest, form_class: type[forms.Form], idle: IdleHouse, **kwargs: Any) -> Any:
    initial = kwargs.pop("initial", {}) | {"version": idle.version}
    return form_class(request.POST or None, request.FILES or None, initial=initial, **kwargs)


@login_required
def idlehouse_edit(request: HttpRequest, pk: int) -> HttpResponse:
    idle = _listing(request, pk)
    initial = {
        "watcher": idle.watcher_id,
        "watcher_name": idle.watcher_name,
        "watcher_phone": idle.watcher_phone,
        "visit_interval_days": idle.visit_interval_days,
        "note": idle.note,
    }
    form = _bound(request, f.IdleEditForm, idle, initial=initial, code=idle.division_id)
    run = lambda v: services.idle_update(actor=request.user, idle=idle, **v)  # noqa: E731
    return _page(request, idle, form, run, title=_("修改巡查安排"), done=_("巡查安排已更新。"))


@login_required
def idlehouse_secure(request: HttpRequest, pk: int) -> HttpResponse:
    idle = _listing(request, pk)
    initial = {"sealed_on": idle.sealed_on, "sealed_by": idle.sealed_by, "sign_posted_on": idle.sign_posted_on}
    form = _bound(request, f.IdleSecureForm, idle, initial=initial)
    run = lambda v: services.idle_secure(actor=request.user, idle=idle, **v)  # noqa: E731
    return _page(request, idle, form, run, title=_("封存与警示标识"), done=_("已登记封存与警示标识。"))


@login_required
def idlehouse_visit(request: HttpRequest, pk: int) -> HttpResponse:
    idle = _listing(request, pk)
    form = _bound(request, f.IdleVisitForm, idle)
    run = lambda v: services.idle_visit(actor=request.user, idle=idle, **v)  # noqa: E731
    return _page(request, idle, form, run, title=_("登记巡查"), done=_("已登记巡查。"), submit=_("提交巡查"))


@login_required
def idlehouse_end(request: HttpRequest, pk: int) -> HttpResponse:
    idle = _listing(request, pk)
    form = _bound(request, f.IdleEndForm, idle)
    run = lambda v: services.idle_end(  # noqa: E731
        actor=request.user,
        idle=idle,
        ended_on=v["ended_on"],
        reason=v["end_reason"],
        note=v["end_note"],
        expected_version=v["expected_version"],
    )
    return _page(request, idle, form, run, title=_("闲置危房销号"), done=_("已销号。"), submit=_("销号"))


@login_required
def idlehouse_sign_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The warning sign's photo, only through the scope (404 outside it or when there is none)."""
    require_action(request.user, "idle.view")
    idle = get_object_or_404(selectors.idle_visible(request.user).filter(~Q(sign_photo="")), pk=pk)
    try:
        handle = idle.sign_photo.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=mimetypes.guess_type(idle.sign_photo.name)[0] or "image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns: list[URLPattern] = [
    path("idle-houses/", idlehouse_list, name="idlehouse_list"),
    path("idle-houses/new/", idlehouse_add, name="idlehouse_add"),
    path("idle-houses/<int:pk>/", idlehouse_detail, name="idlehouse_detail"),
    path("idle-houses/<int:pk>/edit/", idlehouse_edit, name="idlehouse_edit"),
    path("idle-houses/<int:pk>/secure/", idlehouse_secure, name="idlehouse_secure"),
    path("idle-houses/<int:pk>/visit/", idlehouse_visit, name="idlehouse_visit"),
    path("idle-houses/<int:pk>/end/", idlehouse_end, name="idlehouse_end"),
    path("idle-houses/<int:pk>/sign-photo/", idlehouse_sign_photo, name="idlehouse_sign_photo"),
]
