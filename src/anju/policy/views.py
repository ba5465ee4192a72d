"""Alert and monitoring-list pages: thin views over the selectors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.exchange import export_jobs
from anju.exchange.models import ExportKind
from anju.web.forms import paginate

from . import selectors
from .filters import AlertFilterForm, MonitoringFilterForm, ResponsibleFilterForm
from .models import Alert
from .rules import all_rules, rule_get

PAGE_SIZE = 30
PEOPLE_PAGE_SIZE = 50


#: Object types with a page of their own (`pk` = the alert's object id); others link to the household.
OBJECT_PAGES = {
    "inspections.appraisalrequest": "inspections:request_detail",
    "cases.case": "cases:case_detail",
    "divisions.division": "responsibility:chain",  # P18.unassigned: the chain page where the person is named
    "disasters.damagereport": "disasters:report_detail",
    "idle.idlehouse": "idle:idlehouse_detail",
    "returns.tracking": "returns:tracking_detail",
    "complaints.complaint": "complaints:complaint_detail",
    "complaints.opinionincident": "complaints:incident_detail",
    "supervision.planround": "supervision:round_detail",
    "supervision.finding": "supervision:finding_detail",
    "accounts.user": "responsibility:person_detail",  # P17 untrained staff, P13 staff without a card: their page
    "cases.craftsman": "cases:craftsman_training",  # P17 untrained craftsman: his trainings
}


def object_url(alert: Alert) -> str | None:
    """The page of the alert's object (an appraisal request, a ledger case) when its app has one, else the
    household."""
    if alert.object_type in OBJECT_PAGES:
        try:
            return reverse(OBJECT_PAGES[alert.object_type], kwargs={"pk": alert.object_id})
        except NoReverseMatch:
            pass
    if alert.household_id:
        return reverse("registry:household_detail", kwargs={"pk": alert.household_id})
    return None


def _alerts(request: HttpRequest, *, mine: bool) -> HttpResponse:
    require_action(request.user, "policy.view")
    form = AlertFilterForm(request.GET or None, actor=request.user)
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    if mine:
        filters["responsible"] = "me"
    page, query = paginate(request, selectors.alert_list(actor=request.user, filters=filters), PAGE_SIZE)
    today = timezone.localdate()
    for alert in page.object_list:
        alert.link = object_url(alert)
        alert.rule = rule_get(alert.rule_id)
        alert.overdue_days = (today - alert.due_on).days if alert.due_on else 0
    division = filters.get("division") or request.user.division  # None for a user without a division: sees nothing
    summary = division and selectors.alert_summary(actor=request.user, division=division, filters=filters)
    template = "policy/_alert_rows.html" if request.htmx else "policy/alert_list.html"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query,
            "summary": summary,
            "rules": all_rules(),
            "mine": mine,
            "filtered": bool(query),
            "today": today,
            "list_url": reverse("policy:alert_mine" if mine else "policy:alert_list"),
        },
    )


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    return _alerts(request, mine=False)


@login_required
def alert_mine(request: HttpRequest) -> HttpResponse:
    """The alerts the user answers for (P18: the responsible person named on each alert)."""
    return _alerts(request, mine=True)


@login_required
def responsible_summary(request: HttpRequest) -> HttpResponse:
    """Issue 4: open alerts per responsible person (P18) and rule in the user's subtree, each count linking to
    the alert list filtered to that person and rule."""
    require_action(request.user, "policy.view")
    form = ResponsibleFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    summary = selectors.responsible_summary(actor=request.user, filters=filters)
    page, query = paginate(request, summary["people"], PEOPLE_PAGE_SIZE)
    base = {"division": filters["division"].code} if filters.get("division") else {}
    for person in page.object_list:
        who = {"responsible": person["id"] if person["id"] is not None else "none"}
        person["url"] = _alerts_url(base | who)
        person["page"] = reverse("responsibility:person_detail", kwargs={"pk": person["id"]}) if person["id"] else ""
        person["links"] = [
            (n, _alerts_url(base | who | {"rule": r.id}))
            for r, n in zip(summary["rules"], person["per_rule"], strict=True)
        ]
    return render(
        request,
        "policy/responsible_summary.html",
        {"form": form, "page": page, "query": query, "summary": summary, "filtered": bool(query)},
    )


def _alerts_url(params: dict[str, Any]) -> str:
    return f"{reverse('policy:alert_list')}?{urlencode(params)}"


@login_required
def monitoring_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "policy.view")
    form = MonitoringFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    page, query = paginate(request, selectors.monitoring_list(actor=request.user, filters=filters), PAGE_SIZE)
    for household in page.object_list:
        household.reasons = selectors.monitoring_reasons(household)
    template = "policy/_monitoring_rows.html" if request.htmx else "policy/monitoring_list.html"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query,
            "counts": selectors.monitoring_counts(actor=request.user, filters=filters),
        },
    )


@login_required
def monitoring_export(request: HttpRequest) -> HttpResponse:
    """The list in the user's scope under the page's filters, as .xlsx: streamed at once when small, else a
    background job with a progress page (`anju.exchange.export_jobs`)."""
    require_action(request.user, "policy.view")
    form = MonitoringFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    division = filters.get("division") or request.user.division
    code = division.code if division else ""
    name = _("动态监测对象_{code}_{day}.xlsx").format(code=code, day=timezone.localdate().strftime("%Y%m%d"))
    return export_jobs.respond(request, ExportKind.MONITORING, {"filters": filters}, filename=name, division=division)
