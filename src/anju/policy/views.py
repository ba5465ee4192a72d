"""Alert and monitoring-list pages: thin views over the selectors."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.web.forms import paginate

from . import selectors
from .exports import monitoring_export as write_monitoring
from .filters import AlertFilterForm, MonitoringFilterForm
from .models import Alert
from .rules import all_rules, rule_get

PAGE_SIZE = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def object_url(alert: Alert) -> str | None:
    """The page of the alert's object: the request page when the inspections app has one, else the household."""
    if alert.object_type == "inspections.appraisalrequest":
        try:
            return reverse("inspections:request_detail", kwargs={"pk": alert.object_id})
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
    """The list in the user's scope under the page's filters, as .xlsx (written to a temporary file in
    constant memory and streamed from it)."""
    require_action(request.user, "policy.view")
    form = MonitoringFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115  (FileResponse closes it)
    write_monitoring(actor=request.user, filters=filters, output=output)
    output.seek(0)
    code = filters["division"].code if filters.get("division") else request.user.division_id or ""
    name = _("动态监测对象_{code}_{day}.xlsx").format(code=code, day=timezone.localdate().strftime("%Y%m%d"))
    return FileResponse(output, as_attachment=True, filename=name, content_type=XLSX)
