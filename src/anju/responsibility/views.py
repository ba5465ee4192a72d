"""Pages of the responsibility chain (P18): a chain page per division, assign and end forms, a page per person.
Thin over the selectors and services; out-of-scope objects answer 404, roles without the action 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.divisions.models import Division, Level
from anju.registry.models import Household
from anju.web.forms import add_domain_error, paginate

from . import selectors
from .forms import AssignForm, EndForm
from .models import TargetLevel
from .services import DIVISION_LEVELS, assignment_assign, assignment_end, may_assign

PAGE_SIZE = 50
CHILD_LEVEL = {Level.CITY: TargetLevel.COUNTY, Level.COUNTY: TargetLevel.TOWN, Level.TOWN: TargetLevel.VILLAGE,
               Level.VILLAGE: TargetLevel.HOUSEHOLD}  # fmt: skip


@login_required
def chain_home(request: HttpRequest) -> HttpResponse:
    """The chain of the user's own division."""
    require_action(request.user, "responsibility.view")
    if not request.user.division_id:
        raise Http404
    return redirect("responsibility:chain", pk=request.user.division_id)


@login_required
def chain(request: HttpRequest, pk: str) -> HttpResponse:
    """P18: a division, who answers for it and above it, and its children (towns, villages or households) with
    their persons; the unassigned ones highlighted, or alone with `?unassigned=1`."""
    require_action(request.user, "responsibility.view")
    division = selectors.division_get(actor=request.user, code=pk)
    unassigned_only = request.GET.get("unassigned") == "1"
    children = selectors.chain_children(actor=request.user, division=division, unassigned_only=unassigned_only)
    page, query = paginate(request, children, PAGE_SIZE)
    rows = selectors.attach_current(list(page.object_list))
    everyone = selectors.chain_children(actor=request.user, division=division)
    child_level = CHILD_LEVEL.get(division.level)
    return render(
        request,
        "responsibility/chain.html",
        {
            "division": division,
            "above": selectors.chain_above(division),
            "history": selectors.division_history(division).select_related("division")[:20],
            "rows": rows,
            "page": page,
            "query": query,
            "unassigned_only": unassigned_only,
            "total": everyone.count(),
            "unassigned": everyone.filter(assigned=False).count(),
            "child_level": TargetLevel(child_level).label if child_level else "",
            "households": division.level == Level.VILLAGE,
            "may_assign_children": bool(child_level) and may_assign(request.user, child_level, division.code),
            "may_assign_self": division.level in DIVISION_LEVELS
            and may_assign(request.user, DIVISION_LEVELS[division.level], division.code),
        },
    )


def _assign(
    request: HttpRequest, *, division: Division | None = None, household: Household | None = None
) -> HttpResponse:
    code = household.division_id if household else division.code
    form = AssignForm(request.POST or None, code=code)
    if request.method == "POST" and form.is_valid():
        try:
            assignment_assign(actor=request.user, division=division, household=household, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已指定包抓责任人。"))
            return redirect("responsibility:chain", pk=code if household else (division.parent_id or code))
    history = selectors.household_history(household) if household else selectors.division_history(division)
    return render(
        request,
        "responsibility/assign.html",
        {"form": form, "division": division, "household": household, "history": history[:50], "code": code},
    )


@login_required
def division_assign(request: HttpRequest, pk: str) -> HttpResponse:
    """P18: name (or change) the person of a county, town or village; the old one ends, the history stays."""
    require_action(request.user, "responsibility.assign")
    division = selectors.division_get(actor=request.user, code=pk)
    if division.level not in DIVISION_LEVELS:
        raise Http404
    return _assign(request, division=division)


@login_required
def household_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """P18 (镇包村户): name the person of one household."""
    require_action(request.user, "responsibility.assign")
    household = get_object_or_404(Household.objects.visible_to(request.user).select_related("division"), pk=pk)
    return _assign(request, household=household)


@login_required
def assignment_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """P18: the person no longer answers (left the post) and nobody is named yet: the row ends, with a reason."""
    require_action(request.user, "responsibility.assign")
    assignment = selectors.assignment_get(actor=request.user, pk=pk)
    form = EndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assignment_end(actor=request.user, assignment=assignment, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已解除包抓责任人。"))
            parent = assignment.division.parent_id if assignment.household_id is None else None
            return redirect("responsibility:chain", pk=parent or assignment.division_id)
    return render(request, "responsibility/end.html", {"form": form, "assignment": assignment})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """P18: what a person answers for now and before, and the open alerts that name them."""
    require_action(request.user, "responsibility.view")
    person = selectors.person_get(actor=request.user, pk=pk)
    alerts = selectors.person_alerts(actor=request.user, person=person)
    page, query = paginate(request, alerts, PAGE_SIZE)
    current = list(selectors.person_assignments(actor=request.user, person=person))
    context: dict[str, Any] = {
        "person": person,
        "current": current,
        "history": selectors.person_assignments(actor=request.user, person=person, history=True).exclude(
            ended_at__isnull=True
        )[:50],
        "page": page,
        "query": query,
        "phone": next((a.phone for a in current if a.phone), person.phone),
    }
    return render(request, "responsibility/person_detail.html", context)
