"""The ledger (台账, P19) and the case page: thin views over `selectors` and the `actions` table; photos and design
files are served only through the scope (404 outside it), like check photos."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import mimetypes
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from anju.accounts.permissions import has_action, require_action
from anju.audit.actions import Action
from anju.web.forms import paginate

from ..actions import case_moves
from ..filters import CaseFilterForm
from ..models import RENOVATION_DONE_STATES, Case, CasePhoto, CaseState, Renovation, RenovationMethod, SignOffKind
from ..selectors import DUE_SOON_DAYS, case_filter, case_get, case_history, case_list, cases_visible, is_late
from ..services.signoffs import LEVELS

PAGE_SIZE = 30
THUMB_PX = 480
STATE_LABELS = dict(CaseState.choices)
METHOD_LABELS = dict(RenovationMethod.choices)
#: Fields of an event's `after` that the history shows, with their labels.
HISTORY_FIELDS = {
    "state": gettext_lazy("状态"),
    "grade": gettext_lazy("鉴定等级"),
    "due_on": gettext_lazy("完成时限"),
    "method": gettext_lazy("改造方式"),
    "subsidy_amount": gettext_lazy("补助资金"),
    "comment": gettext_lazy("意见"),
    "reason": gettext_lazy("理由"),
    "findings": gettext_lazy("巡查情况"),
    "amount": gettext_lazy("金额"),
    "place": gettext_lazy("安置地点"),
}


def _deadline_flags(case: Case, today: dt.date) -> None:
    """P19: late (deadline passed, works not done) or due within DUE_SOON_DAYS days; same rule as `case_filter`."""
    case.late = is_late(case, today)
    case.due_soon = bool(
        case.due_on
        and not case.late
        and case.state not in RENOVATION_DONE_STATES
        and today <= case.due_on <= today + dt.timedelta(days=DUE_SOON_DAYS)
    )


def _state_counts(request: HttpRequest, form: CaseFilterForm) -> list[dict[str, Any]]:
    """The number of cases per state under every filter but the state itself (one GROUP BY), with the link that
    narrows the ledger to that state."""
    filters = dataclasses.replace(form.filters(), state="")
    rows = (
        case_filter(cases_visible(request.user), filters)
        .order_by()
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    counts = dict(rows)
    current = form.filters().state
    strip = []
    for state, label in CaseState.choices:
        if not counts.get(state):
            continue
        query = request.GET.copy()
        query.pop("page", None)
        query["state"] = state
        strip.append({"state": state, "label": label, "n": counts[state], "query": query.urlencode(),
                      "active": state == current})  # fmt: skip
    return strip


@login_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    """台账: the user's cases, narrowed by division, state, source, grade, deadline, responsible person, name."""
    require_action(request.user, "cases.view")
    form = CaseFilterForm(request.GET or None, actor=request.user)
    filters = form.filters()
    page, query = paginate(request, case_list(request.user, filters), PAGE_SIZE)
    today = dt.date.today()
    for case in page.object_list:
        _deadline_flags(case, today)
    all_query = request.GET.copy()
    all_query.pop("page", None)
    all_query.pop("state", None)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "counts": _state_counts(request, form),
        "all_states_query": all_query.urlencode(),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
        "can_open": has_action(request.user, "cases.open"),
        "title": _("危房台账"),
    }
    template = "cases/_ledger_rows.html" if request.htmx else "cases/ledger_list.html"
    return render(request, template, context)


def _signoff_grid(case: Case) -> list[dict[str, Any]]:
    """四清 (P2): the four clears × village, town, county, each the signature or None (未签)."""
    signed = {(s.kind, s.level): s for s in case.signoffs.all()}
    return [
        {"kind": kind, "cells": [(level, signed.get((kind.value, level.value))) for level in LEVELS]}
        for kind in SignOffKind
    ]


def _history(case: Case) -> list[dict[str, Any]]:
    """The case's audit events, oldest first, with the changed fields a reader cares about."""
    rows = []
    for event in case_history(case):
        after = event.after or {}
        details = []
        for key, label in HISTORY_FIELDS.items():
            value = after.get(key)
            if value in (None, ""):
                continue
            if key == "state":
                value = STATE_LABELS.get(value, value)
            elif key == "method":
                value = METHOD_LABELS.get(value, value)
            details.append(f"{label}：{value}")
        if event.action == Action.SIGNOFF_SIGNED:
            kind, level = after.get("kind"), after.get("level")
            details.insert(0, f"{SignOffKind(kind).label if kind in SignOffKind.values else kind}（{level}）")
        rows.append({"event": event, "details": details})
    return rows


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole case: household, house, appraisal, renovation, visits, photos, money, 四清, history, and the moves
    the user may make now."""
    require_action(request.user, "cases.view")
    case = case_get(request.user, pk)
    _deadline_flags(case, dt.date.today())
    try:
        renovation = case.renovation
    except Case.renovation.RelatedObjectDoesNotExist:
        renovation = None
    moves = case_moves(request.user, case)
    signoffs = _signoff_grid(case)
    context = {
        "case": case,
        "renovation": renovation,
        "moves": moves,
        "signoffs": signoffs,
        "signed_count": sum(1 for row in signoffs for _level, s in row["cells"] if s),
        "history": _history(case),
        "visits": list(case.visits.all()),
        "photos": list(case.photos.all()),
        "housing": list(case.transitional_housing.all()),
        "payments": list(case.payments.all()),
        "paid_total": sum(p.amount for p in case.payments.all()),
        "title": _("台账#{id} {name}").format(id=case.pk, name=case.household.head_name),
    }
    return render(request, "cases/case_detail.html", context)


def _serve(request: HttpRequest, file: Any, *, thumb: bool) -> HttpResponse:
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    if thumb:
        try:
            with handle, Image.open(handle) as image:
                image = ImageOps.exif_transpose(image)
                image.thumbnail((THUMB_PX, THUMB_PX))
                buffer = io.BytesIO()
                image.convert("RGB").save(buffer, "JPEG", quality=80)
        except (UnidentifiedImageError, OSError) as exc:
            raise Http404 from exc
        response = HttpResponse(buffer.getvalue(), content_type="image/jpeg")
    else:
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def case_photo_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A case photo, only through the scope (404 outside it); `?thumb=1` answers a small JPEG for the case page."""
    require_action(request.user, "cases.view")
    photo = get_object_or_404(CasePhoto.objects.visible_to(request.user), pk=pk)
    return _serve(request, photo.file, thumb=bool(request.GET.get("thumb")))


@login_required
def design_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploaded structural design of case `pk` (P22), only through the scope."""
    require_action(request.user, "cases.view")
    renovation = get_object_or_404(Renovation.objects.visible_to(request.user), case_id=pk)
    if not renovation.design_file:
        raise Http404
    response = _serve(request, renovation.design_file, thumb=False)
    response["Content-Disposition"] = f'inline; filename="design-{pk}{_suffix(renovation.design_file.name)}"'
    return response


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > name.rfind("/") else ""


urlpatterns: list[URLPattern] = [
    path("cases/", case_list_view, name="case_list"),
    path("cases/<int:pk>/", case_detail, name="case_detail"),
    path("cases/<int:pk>/design-file/", design_file, name="design_file"),
    path("cases/photos/<int:pk>/", case_photo_file, name="case_photo_file"),
]
