"""P13 pages: coverage by division, the two card texts (the city edits them), who should get a card and the
distribution form, and the printable PDFs (one A5 card, or a batch two to an A4 sheet)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.accounts.permissions import has_action, require_action
from anju.core.errors import DomainError
from anju.divisions.models import Division
from anju.exchange import export_jobs
from anju.exchange.models import ExportKind
from anju.web.forms import add_domain_error, style_form

from .models import Audience, CardRound, CardTemplate
from .printing import MAX_CARDS, build_cards, cards_pdf
from .selectors import coverage, recipients
from .services import cards_distribute, current_template, print_recipients, round_set, template_save

#: Rows of the recipient list: a village or a town; a county narrows by town first.
MAX_ROWS = 1000


def _division(request: HttpRequest) -> Division:
    """?division= within the user's subtree (default: their own); a foreign or unknown code is a 404."""
    code = (request.GET.get("division") or request.user.division_id or "").strip()
    division = Division.objects.visible_to(request.user).filter(code=code).first() if code else None
    if division is None:
        raise Http404(_("区划不存在或不在您的管辖范围内"))
    return division


def _audience(value: str) -> str:
    if value not in Audience.values:
        raise Http404(_("明白卡对象无效"))
    return value


class TemplateForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=60)
    body = forms.CharField(
        label=gettext_lazy("政策要点（每行一条）"), max_length=1500, widget=forms.Textarea(attrs={"rows": 8})
    )
    feedback = forms.CharField(
        label=gettext_lazy("反映问题渠道 / 接待要求"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class RoundForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    deadline = forms.DateField(
        label=gettext_lazy("发放截止日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class DistributeForm(forms.Form):
    distributed_on = forms.DateField(
        label=gettext_lazy("发放日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    signed = forms.BooleanField(label=gettext_lazy("本人已签收"), required=False, initial=True)
    note = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Cards due and handed out per child division; the current texts and the year's round (set by the city)."""
    require_action(request.user, "cards.view")
    division = _division(request)
    can_configure = has_action(request.user, "cards.configure")
    form = None
    if can_configure:
        form = RoundForm(request.POST or None, initial={"year": timezone.localdate().year})
        if request.method == "POST" and form.is_valid():
            try:
                card_round = round_set(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已设置{year}年度明白卡发放截止日期：{deadline}。").format(
                        year=card_round.year, deadline=card_round.deadline.isoformat()
                    ),
                )
                return redirect("cards:overview")
    elif request.method == "POST":
        require_action(request.user, "cards.configure")
    total, children = coverage(division)
    templates = [CardTemplate.objects.filter(audience=a).order_by("-version").first() for a in Audience.values]
    return render(
        request,
        "cards/overview.html",
        {
            "title": _("明白卡"),
            "division": division,
            "total": total,
            "children": children,
            "templates": [t for t in templates if t is not None],
            "rounds": CardRound.objects.all()[:5],
            "form": form,
            "can_configure": can_configure,
            "can_distribute": has_action(request.user, "cards.distribute"),
        },
    )


@login_required
def template_edit(request: HttpRequest, audience: str) -> HttpResponse:
    """The city edits a card's text; saving makes a new version (distributions keep the version they handed out)."""
    require_action(request.user, "cards.configure")
    audience = _audience(audience)
    current = CardTemplate.objects.filter(audience=audience).order_by("-version").first()
    initial = {"title": current.title, "body": current.body, "feedback": current.feedback} if current else {}
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = template_save(actor=request.user, audience=audience, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已保存{card}第{version}版。").format(card=saved.get_audience_display(), version=saved.version),
            )
            return redirect("cards:overview")
    return render(
        request,
        "cards/template_form.html",
        {"title": Audience(audience).label, "form": form, "audience": audience, "current": current},
    )


def _pdf_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    return response


@login_required
def template_preview(request: HttpRequest, audience: str) -> HttpResponse:
    """The current text as one A5 card made out to the viewer (how it will print)."""
    require_action(request.user, "cards.view")
    audience = _audience(audience)
    try:
        template = current_template(audience)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    code = request.user.division_id or ""
    cards = build_cards(audience, [(0, _("（样张）"), code)])
    return _pdf_response(cards_pdf(template, cards, per_sheet=1), _("明白卡样张.pdf"))


@login_required
def recipient_list(request: HttpRequest) -> HttpResponse:
    """Who in a division should get the card, who has it; tick and record a distribution (cards.distribute)."""
    require_action(request.user, "cards.view")
    audience = _audience(request.GET.get("audience") or Audience.HOUSEHOLD)
    division = _division(request)
    missing = request.GET.get("missing") == "1"
    can_distribute = has_action(request.user, "cards.distribute")
    form = DistributeForm(request.POST or None, initial={"distributed_on": timezone.localdate(), "signed": True})
    if request.method == "POST":
        require_action(request.user, "cards.distribute")
        ids = [int(i) for i in request.POST.getlist("recipient") if i.isdigit()]
        if form.is_valid():
            try:
                rows = cards_distribute(actor=request.user, audience=audience, recipient_ids=ids, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("已登记{n}张明白卡的发放。").format(n=len(rows)))
                return redirect(request.get_full_path())
    people = recipients(request.user, audience, division.prefix, missing_only=missing)
    return render(
        request,
        "cards/recipient_list.html",
        {
            "title": _("明白卡发放"),
            "audience": audience,
            "audiences": Audience.choices,
            "division": division,
            "missing": missing,
            "people": people[:MAX_ROWS],
            "total": len(people),
            "form": form if can_distribute else None,
            "max_cards": MAX_CARDS,
        },
    )


@login_required
def print_batch(request: HttpRequest) -> HttpResponse:
    """A batch of cards for a division (only those not yet handed out with ?missing=1), two per A4 sheet: opened
    at once when small, else printed by a background job whose page follows it (export_jobs)."""
    require_action(request.user, "cards.distribute")
    audience = _audience(request.GET.get("audience") or Audience.HOUSEHOLD)
    division = _division(request)
    missing = request.GET.get("missing") == "1"
    try:
        print_recipients(request.user, audience, division, missing_only=missing)
    except DomainError as exc:
        return render(
            request, "cards/print_refused.html", {"title": _("打印明白卡"), "message": exc.message}, status=400
        )
    name = _("明白卡_{name}_{day}.pdf").format(name=division.name, day=f"{timezone.localdate():%Y%m%d}")
    params = {"audience": audience, "division": division.code, "missing": missing}
    return export_jobs.respond(request, ExportKind.CARDS, params, filename=name, division=division)


urlpatterns: list[URLPattern] = [
    path("cards/", overview, name="overview"),
    path("cards/templates/<str:audience>/", template_edit, name="template_edit"),
    path("cards/templates/<str:audience>/preview.pdf", template_preview, name="template_preview"),
    path("cards/recipients/", recipient_list, name="recipient_list"),
    path("cards/print.pdf", print_batch, name="print_batch"),
]
