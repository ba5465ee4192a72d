"""Training pages (P17, P22): sessions (list, record, correct, detail with sign-in), and the ledger per person.

Every page checks the role's action first (403), then finds the session in the user's subtree (404).
"""

from __future__ import annotations

import io
import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import Role, has_action, require_action
from anju.cases.models import Craftsman
from anju.core.errors import DomainError
from anju.core.scope import code_prefix, scope_q
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code
from anju.web.forms import add_domain_error, paginate

from . import selectors, services
from .api import ledger_filters
from .exports import ledger_export
from .forms import LedgerFilterForm, SessionFilterForm, SessionForm
from .models import Session

PAGE_SIZE = 50
LEDGER_PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _organisers(actor: Any) -> list[tuple[str, str]]:
    """The city, counties and towns in the actor's subtree, each named with its county."""
    rows = (
        Division.objects.visible_to(actor)
        .filter(level__in=[Level.CITY, Level.COUNTY, Level.TOWN])
        .select_related("parent")
        .order_by("code")
    )
    return [(d.code, f"{d.parent.name} {d.name}" if d.level == Level.TOWN and d.parent else d.name) for d in rows]


def _prefix(code: str) -> str:
    return code_prefix(code, level_of_code(code))


def _candidates(actor: Any, code: str | None) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Staff who must be trained and craftsmen, in the subtree of `code` (default: the actor's), as choices."""
    prefix = _prefix(code) if code else actor.scope_prefix
    where = scope_q("division_id", prefix) & scope_q("division_id", actor.scope_prefix)
    wanted = {str(r) for r in selectors.TRAINED_ROLES}
    labels = dict(Role.choices)
    people = User.objects.filter(where, is_active=True).select_related("division").order_by("division_id", "id")
    users = [
        (
            u.pk,
            f"{u.get_full_name()}（{'、'.join(str(labels[r]) for r in u.roles if r in labels)} · {u.division.name}）",
        )
        for u in people
        if wanted.intersection(u.roles or [])
    ]
    county = (code or actor.division_id or "")[:6] + "000000"
    craftsmen_where = where | (scope_q("division_id", actor.scope_prefix) & scope_q("division_id", county[:6]))
    craftsmen = [
        (c.pk, f"{c.name}（{c.get_kind_display()} · {c.division.name}）")
        for c in Craftsman.objects.filter(craftsmen_where, is_active=True).select_related("division")
    ]
    return users, craftsmen


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    """P17: the sessions organised in the user's subtree."""
    require_action(request.user, "training.view")
    form = SessionFilterForm(request.GET or None, divisions=_organisers(request.user))
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.SessionFilters(
        division=data.get("division") or "", year=data.get("year"), kind=data.get("kind") or "", q=data.get("q") or ""
    )
    page, query = paginate(request, selectors.session_list(actor=request.user, filters=filters), PAGE_SIZE)
    return render(
        request,
        "training/session_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "can_manage": has_action(request.user, "training.manage"),
            "title": _("培训场次"),
        },
    )


def _people(form: SessionForm) -> tuple[list[User], list[Craftsman]]:
    users = list(User.objects.filter(pk__in=form.cleaned_data["users"]))
    craftsmen = list(Craftsman.objects.filter(pk__in=form.cleaned_data["craftsmen"]))
    return users, craftsmen


def _fields(form: SessionForm) -> dict[str, Any]:
    keep = ("held_on", "topic", "kind", "trainer", "hours", "place")
    return {k: form.cleaned_data[k] for k in keep} | {"materials": form.cleaned_data.get("materials")}


@login_required
def session_add(request: HttpRequest) -> HttpResponse:
    """P17: record a session and who came; `?division=` narrows the people offered to one organiser's."""
    require_action(request.user, "training.manage")
    organisers = _organisers(request.user)
    wanted = request.GET.get("division", "")
    code = wanted if wanted in dict(organisers) and request.method == "GET" else None
    users, craftsmen = _candidates(request.user, code)
    initial = {"division_code": code, "held_on": timezone.localdate(), "signed_in": True}
    form = SessionForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        divisions=organisers,
        users=users,
        craftsmen=craftsmen,
    )
    if request.method == "POST" and form.is_valid():
        people, trained_craftsmen = _people(form)
        try:
            session = services.session_create(
                actor=request.user,
                division_code=form.cleaned_data["division_code"],
                users=people,
                craftsmen=trained_craftsmen,
                signed_in=form.cleaned_data["signed_in"],
                **_fields(form),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记培训：{session}").format(session=session))
            return redirect("training:session_detail", pk=session.pk)
    return render(request, "training/session_form.html", {"form": form, "title": _("登记培训")})


def _session(request: HttpRequest, pk: int) -> Session:
    return get_object_or_404(Session.objects.visible_to(request.user).select_related("division"), pk=pk)


@login_required
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a session and its list (the organiser stays)."""
    require_action(request.user, "training.manage")
    session = _session(request, pk)
    users, craftsmen = _candidates(request.user, session.division_id)
    current = list(session.attendances.values_list("user_id", "craftsman_id"))
    initial = {f: getattr(session, f) for f in ("held_on", "topic", "kind", "trainer", "hours", "place")} | {
        "users": [str(u) for u, _c in current if u],
        "craftsmen": [str(c) for _u, c in current if c],
    }
    form = SessionForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        divisions=[],
        users=users,
        craftsmen=craftsmen,
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        people, trained_craftsmen = _people(form)
        try:
            services.session_update(
                actor=request.user, session=session, users=people, craftsmen=trained_craftsmen, **_fields(form)
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("training:session_detail", pk=session.pk)
    return render(request, "training/session_form.html", {"form": form, "session": session, "title": _("修改培训记录")})


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The session and its attendees; a manager signs people in or takes them off the list here (POST)."""
    require_action(request.user, "training.view")
    if request.method == "POST":
        require_action(request.user, "training.manage")
    session = selectors.session_get(actor=request.user, pk=pk)
    if request.method == "POST":
        attendance = get_object_or_404(session.attendances.all(), pk=request.POST.get("attendance") or 0)
        op = request.POST.get("op")
        try:
            if op == "remove":
                services.attendee_remove(actor=request.user, attendance=attendance)
            elif op in ("sign", "unsign"):
                services.attendee_add(
                    actor=request.user,
                    session=session,
                    user=attendance.user,
                    craftsman=attendance.craftsman,
                    signed_in=op == "sign",
                )
            else:
                raise PermissionDenied
        except DomainError as exc:
            messages.error(request, exc.message + " " + " ".join(exc.errors.values()))
        return redirect("training:session_detail", pk=session.pk)
    attendees = list(session.attendances.all())
    return render(
        request,
        "training/session_detail.html",
        {
            "session": session,
            "attendees": attendees,
            "signed": sum(1 for a in attendees if a.signed_in),
            "can_manage": has_action(request.user, "training.manage"),
            "title": _("培训记录"),
        },
    )


@login_required
def session_materials(request: HttpRequest, pk: int) -> HttpResponse:
    """The session's uploaded materials, only through the scope (404 outside it), never from a public URL."""
    require_action(request.user, "training.view")
    session = _session(request, pk)
    if not session.materials:
        raise Http404
    try:
        handle = session.materials.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    name = session.materials.name.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    """P17 培训台账: who in the user's subtree is trained this year and who is not; `?export=xlsx` downloads it."""
    require_action(request.user, "training.view")
    divisions = _organisers(request.user)
    form = LedgerFilterForm(request.GET or None, divisions=divisions, initial={"year": timezone.localdate().year})
    data = form.cleaned_data if form.is_valid() else {}
    try:
        filters = ledger_filters(data)
    except DomainError:
        filters = ledger_filters({})
    if request.GET.get("export") == "xlsx":
        buffer = io.BytesIO()
        ledger_export(actor=request.user, filters=filters, output=buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        filename = f"training-ledger-{filters.year}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    rows = selectors.ledger_rows(actor=request.user, filters=filters)
    page, query = paginate(request, rows, LEDGER_PAGE_SIZE)
    trained = sum(1 for r in rows if r.trained)
    return render(
        request,
        "training/ledger.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "filters": filters,
            "total": len(rows),
            "trained": trained,
            "untrained": len(rows) - trained,
            "title": _("培训台账"),
        },
    )


urlpatterns: list[URLPattern] = [
    path("training/", session_list, name="session_list"),
    path("training/new/", session_add, name="session_add"),
    path("training/<int:pk>/", session_detail, name="session_detail"),
    path("training/<int:pk>/edit/", session_edit, name="session_edit"),
    path("training/<int:pk>/materials/", session_materials, name="session_materials"),
    path("training/ledger/", ledger, name="ledger"),
]
