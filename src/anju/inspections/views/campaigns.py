"""Campaign pages: list, create (and the one-click annual check), detail with progress per division, unchecked list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.core.scope import in_scope
from anju.divisions.selectors import division_path
from anju.web.forms import add_domain_error, paginate

from .. import selectors
from ..forms_campaigns import CampaignEditForm, CampaignFilterForm, CampaignForm
from ..models import Campaign, CampaignKind
from ..services import campaigns as services

PAGE_SIZE = 30


def _can_change(user, campaign: Campaign) -> bool:
    return has_action(user, "inspections.manage") and in_scope(campaign.division_id, user.scope_prefix)


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "inspections.view")
    form = CampaignFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.campaign_list(actor=request.user, filters=filters)
    page, query = paginate(request, queryset, PAGE_SIZE)
    year = timezone.localdate().year
    can_manage = has_action(request.user, "inspections.manage") and bool(request.user.division_id)
    has_annual = (
        can_manage
        and selectors.campaign_list(actor=request.user, filters={"kind": CampaignKind.ANNUAL, "year": year}).exists()
    )
    return render(
        request,
        "inspections/campaign_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "can_manage": can_manage,
            "offer_annual": can_manage and not has_annual,
            "year": year,
            "annual_period": services.annual_period(year),
            "can_check": has_action(request.user, "inspections.check"),
        },
    )


@login_required
@require_POST
def campaign_annual(request: HttpRequest) -> HttpResponse:
    """P5: one click creates this year's 1 March – 30 April check for the user's division."""
    require_action(request.user, "inspections.manage")
    try:
        campaign = services.campaign_create_annual(actor=request.user)
    except DomainError as exc:
        messages.error(request, " ".join([exc.message, *exc.errors.values()]))
        return redirect("inspections:campaign_list")
    messages.success(request, _("已创建「{name}」。").format(name=campaign.name))
    return redirect("inspections:campaign_detail", pk=campaign.pk)


@login_required
def campaign_add(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "inspections.manage")
    form = CampaignForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已创建「{name}」。").format(name=campaign.name))
            return redirect("inspections:campaign_detail", pk=campaign.pk)
    return render(request, "inspections/campaign_form.html", {"form": form, "title": _("创建核查批次")})


@login_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.manage")
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    if not _can_change(request.user, campaign):
        raise PermissionDenied(_("该核查批次由上级创建，只能由上级修改"))
    initial = {f: getattr(campaign, f) for f in ("name", "starts_on", "ends_on", "note")}
    form = CampaignEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(actor=request.user, campaign=campaign, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("inspections:campaign_detail", pk=campaign.pk)
    return render(
        request,
        "inspections/campaign_form.html",
        {"form": form, "campaign": campaign, "title": _("修改核查批次：{name}").format(name=campaign.name)},
    )


def _breadcrumbs(request: HttpRequest, campaign: Campaign, division) -> list:
    """From the top division the user may look at in this campaign down to `division`."""
    base = selectors.progress_division(actor=request.user, campaign=campaign)
    return [d for d in division_path(division) if d.code.startswith(base.prefix)]


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.view")
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    division = selectors.progress_division(actor=request.user, campaign=campaign, code=request.GET.get("division"))
    progress = selectors.campaign_progress(actor=request.user, campaign=campaign, division=division)
    chart = {
        "names": [child.name for child, _row in progress["children"]],
        "coverage": [row.coverage or 0 for _child, row in progress["children"]],
        "checked": [row.checked for _child, row in progress["children"]],
        "unchecked": [row.unchecked for _child, row in progress["children"]],
        "labels": {
            "coverage": _("覆盖率"),
            "axis": _("覆盖率（%）"),
            "checked": _("已核查"),
            "unchecked": _("未核查"),
            "unit": _("户"),
        },
    }
    return render(
        request,
        "inspections/campaign_detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "division": division,
            "path": _breadcrumbs(request, campaign, division),
            "chart": chart,
            "can_change": _can_change(request.user, campaign),
            "can_check": has_action(request.user, "inspections.check"),
        },
    )


@login_required
def campaign_unchecked(request: HttpRequest, pk: int) -> HttpResponse:
    """The households still to check (late once the campaign has ended), each with a link to record its check."""
    require_action(request.user, "inspections.view")
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    division = selectors.progress_division(actor=request.user, campaign=campaign, code=request.GET.get("division"))
    q = (request.GET.get("q") or "").strip()[:40]
    queryset = selectors.campaign_unchecked_list(actor=request.user, campaign=campaign, division=division, q=q)
    page, query = paginate(request, queryset, PAGE_SIZE)
    return render(
        request,
        "inspections/campaign_unchecked.html",
        {
            "campaign": campaign,
            "division": division,
            "path": _breadcrumbs(request, campaign, division),
            "page": page,
            "q": q,
            "query": query,
            "ended": timezone.localdate() > campaign.ends_on,
            "can_check": has_action(request.user, "inspections.check"),
        },
    )


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/add/", campaign_add, name="campaign_add"),
    path("campaigns/annual/", campaign_annual, name="campaign_annual"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/unchecked/", campaign_unchecked, name="campaign_unchecked"),
]
