"""Check pages: the phone-friendly entry form, the list (mine / recent), detail, edit, and the scoped photo view."""

from __future__ import annotations

import io
import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.registry.models import Household
from anju.web.forms import add_domain_error, paginate

from .. import selectors
from ..forms_checks import CheckFilterForm, CheckForm, finding_forms
from ..models import Campaign, CheckRecord
from ..services import checks as services

PAGE_SIZE = 30
SEARCH_LIMIT = 20
THUMB_PX = 480


@login_required
def check_list(request: HttpRequest) -> HttpResponse:
    """Recent checks in the user's scope; `mine=1` narrows to the checks the user made."""
    require_action(request.user, "inspections.view")
    form = CheckFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.check_list(actor=request.user, filters=filters)
    page, query = paginate(request, queryset, PAGE_SIZE)
    template = "inspections/_check_rows.html" if request.htmx else "inspections/check_list.html"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query,
            "can_check": has_action(request.user, "inspections.check"),
        },
    )


def _campaign(request: HttpRequest, raw: Any) -> Campaign | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return selectors.campaign_current(actor=request.user)
    return Campaign.objects.visible_to(request.user).select_related("division").filter(pk=pk).first()


def _household(request: HttpRequest, raw: Any) -> Household | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return Household.objects.visible_to(request.user).select_related("division__parent").filter(pk=pk).first()


def _findings_of(forms_: list) -> list[dict[str, Any]]:
    return [f.finding() for f in forms_]


@login_required
def check_add(request: HttpRequest) -> HttpResponse:
    """Pick the campaign (default: the running one) and a household not yet checked, then one card per house."""
    require_action(request.user, "inspections.check")
    source = request.POST if request.method == "POST" else request.GET
    campaign = _campaign(request, source.get("campaign"))
    household = _household(request, source.get("household"))
    existing = None
    if campaign is not None and household is not None:
        existing = CheckRecord.objects.filter(campaign=campaign, household=household).first()
    houses = list(household.houses.order_by("id")) if household is not None else []
    initial = {"campaign": campaign.pk if campaign else None, "household": household.pk if household else None}
    form = CheckForm(request.POST or None, request.FILES or None, actor=request.user, initial=initial)
    cards = finding_forms(request.POST or None, houses)
    if request.method == "POST":
        if household is None:
            form.add_error(None, _("请选择农户（农户不存在或不在您的管辖范围内）"))
        elif campaign is None:
            form.add_error("campaign", _("请选择核查批次"))
        elif form.is_valid() and all(card.is_valid() for card in cards):
            data = form.cleaned_data
            try:
                check = services.check_record(
                    actor=request.user,
                    campaign=campaign,
                    household=household,
                    checked_on=data["checked_on"],
                    verdict=data["verdict"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    note=data["note"],
                    findings=_findings_of(cards),
                    photos=data["photos"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已录入「{name}」的核查记录（{verdict}）。").format(
                        name=household.head_name, verdict=check.get_verdict_display()
                    ),
                )
                return redirect("inspections:check_detail", pk=check.pk)
    return render(
        request,
        "inspections/check_form.html",
        {
            "form": form,
            "cards": cards,
            "campaign": campaign,
            "household": household,
            "existing": existing,
            "title": _("录入核查"),
        },
    )


@login_required
def check_households(request: HttpRequest) -> HttpResponse:
    """htmx: households of the campaign not yet checked, in the user's scope, by name prefix or full ID number."""
    require_action(request.user, "inspections.check")
    campaign = _campaign(request, request.GET.get("campaign"))
    q = (request.GET.get("q") or "").strip()[:40]
    households: list[Household] = []
    if campaign is not None:
        division = selectors.progress_division(actor=request.user, campaign=campaign)
        households = list(
            selectors.campaign_unchecked_list(actor=request.user, campaign=campaign, division=division, q=q)[
                :SEARCH_LIMIT
            ]
        )
    return render(
        request,
        "inspections/_check_household_options.html",
        {"campaign": campaign, "households": households, "q": q, "limit": SEARCH_LIMIT},
    )


@login_required
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.view")
    check = selectors.check_get(actor=request.user, pk=pk)
    return render(
        request,
        "inspections/check_detail.html",
        {"check": check, "can_change": has_action(request.user, "inspections.check")},
    )


@login_required
def check_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "inspections.check")
    check = selectors.check_get(actor=request.user, pk=pk)
    initial = {f: getattr(check, f) for f in ("checked_on", "verdict", "latitude", "longitude", "note")}
    form = CheckForm(request.POST or None, request.FILES or None, actor=request.user, editing=True, initial=initial)
    houses = list(check.household.houses.order_by("id"))
    cards = finding_forms(request.POST or None, houses, {f.house_id: f for f in check.findings.all()})
    if request.method == "POST" and form.is_valid() and all(card.is_valid() for card in cards):
        data = form.cleaned_data
        try:
            services.check_update(
                actor=request.user,
                check=check,
                checked_on=data["checked_on"],
                verdict=data["verdict"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                note=data["note"],
                findings=_findings_of(cards),
                photos=data["photos"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("inspections:check_detail", pk=check.pk)
    return render(
        request,
        "inspections/check_form.html",
        {
            "form": form,
            "cards": cards,
            "campaign": check.campaign,
            "household": check.household,
            "check": check,
            "title": _("修改核查记录"),
        },
    )


@login_required
def photo_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo, only through the scope (404 outside it); `?thumb=1` answers a small JPEG for lists and phones."""
    require_action(request.user, "inspections.view")
    photo = selectors.photo_get(actor=request.user, pk=pk)
    try:
        handle = photo.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    if request.GET.get("thumb"):
        with handle, Image.open(handle) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((THUMB_PX, THUMB_PX))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=80)
        response = HttpResponse(buffer.getvalue(), content_type="image/jpeg")
    else:
        content_type = mimetypes.guess_type(photo.file.name)[0] or "application/octet-stream"
        response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("checks/", check_list, name="check_list"),
    path("checks/add/", check_add, name="check_add"),
    path("checks/households/", check_households, name="check_households"),
    path("checks/<int:pk>/", check_detail, name="check_detail"),
    path("checks/<int:pk>/edit/", check_edit, name="check_edit"),
    path("photos/<int:pk>/", photo_detail, name="photo_detail"),
]
