"""P24: interviews (约谈) and accountability (问责), and the annual county assessment — a table computed from the
system's own figures, each measure with its formula on the page and in the workbook, and a weighted score with
weights the city sets."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import DomainError
from anju.exchange import xlsx
from anju.exchange.xlsx import Decimals, decimals
from anju.web.forms import add_domain_error, paginate

from .. import selectors, services
from ..forms import MeasureFilterForm, MeasureForm, WeightsForm
from ..models import Finding
from ._common import PAGE_SIZE, counties_of

SCORE_FORMULA = "综合得分 = Σ(权重 × 得分率) ÷ Σ(有数据指标的权重)"


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    this_year = dt.date.today().year
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= this_year + 1 else this_year


# -- interviews and accountability ---------------------------------------------------------------------------------


@login_required
def measure_list(request: HttpRequest) -> HttpResponse:
    require_action(request.user, "supervision.view")
    form = MeasureFilterForm(request.GET or None, counties=counties_of(request.user))
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.measure_list(
        request.user, division=data.get("county") or "", kind=data.get("kind") or "", year=data.get("year")
    )
    page, query = paginate(request, qs, PAGE_SIZE)
    return render(
        request,
        "supervision/measure_list.html",
        {
            "title": _("约谈问责"),
            "form": form,
            "page": page,
            "query": query,
            "can_inspect": has_action(request.user, "supervision.inspect"),
        },
    )


@login_required
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_action(request.user, "supervision.view")
    measure = selectors.measure_get(request.user, pk)
    return render(request, "supervision/measure_detail.html", {"title": str(measure), "measure": measure})


@login_required
def measure_add(request: HttpRequest) -> HttpResponse:
    """P24: record an interview or an accountability decision about a county."""
    require_action(request.user, "supervision.inspect")
    initial = {"findings": request.GET.get("findings", "")}
    form = MeasureForm(request.POST or None, initial=initial, counties=counties_of(request.user))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        ids = data.pop("findings")
        findings = list(Finding.objects.visible_to(request.user).filter(pk__in=ids))
        if len(findings) != len(set(ids)):
            form.add_error("findings", _("问题编号不存在或不在您的管辖范围内"))
        else:
            try:
                measure = services.measure_record(
                    actor=request.user, county_code=data.pop("county"), findings=findings, **data
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("已登记。"))
                return redirect("supervision:measure_detail", pk=measure.pk)
    return render(request, "supervision/form.html", {"form": form, "title": _("登记约谈问责"), "back": "measure_list"})


# -- the annual assessment -----------------------------------------------------------------------------------------


@login_required
def assessment(request: HttpRequest) -> HttpResponse:
    """P24: the year's table per county with each measure's formula, the weights and the weighted score."""
    require_action(request.user, "supervision.view")
    year = _year(request)
    data = selectors.assessment(request.user, year)
    return render(
        request,
        "supervision/assessment.html",
        {
            "title": _("年度考核"),
            "data": data,
            "year": year,
            "years": list(range(dt.date.today().year, 2019, -1)),
            "keys": [d.key for d in data["defs"]],
            "score_formula": _(SCORE_FORMULA),
            "can_inspect": has_action(request.user, "supervision.inspect"),
        },
    )


def _rate(value: float | None) -> Decimals | None:
    return decimals(value, 1) if value is not None else None


@login_required
def assessment_export(request: HttpRequest) -> HttpResponse:
    """P24: the assessment as .xlsx: the table (numerator, denominator and rate of each measure, the score) and a
    "说明" sheet with each formula and weight."""
    require_action(request.user, "supervision.view")
    year = _year(request)
    data = selectors.assessment(request.user, year)
    defs, weights = data["defs"], data["weights"]
    buffer = io.BytesIO()
    title = _("{year}年度县级农村住房安全保障工作考核").format(year=year)
    book, styles = xlsx.workbook(buffer, title=title, constant_memory=False)
    columns: list[tuple[str, float]] = [(_("区划代码"), 14), (_("县（市、区）"), 12)]
    for d in defs:
        columns += [(f"{d.label}·{d.numerator}", 10), (f"{d.label}·{d.denominator}", 10), (f"{d.label}（%）", 10)]
    columns.append((_("综合得分"), 10))
    table = xlsx.Table(
        book, styles, _("考核表"), columns, title=_("{title}（截至{day}）").format(title=title, day=data["as_of"])
    )
    for row in data["rows"]:
        values: list[Any] = [row.code, row.name]
        for d in defs:
            figure = row.figures[d.key]
            values += [figure.numerator, figure.denominator, _rate(figure.rate)]
        values.append(_rate(row.score))
        table.add(values)
    table.close()
    notes = book.add_worksheet(_("说明"))
    rows = [(f"{d.label}（{_('权重')}{weights[d.key]}）", d.formula) for d in defs]
    rows.append((_("综合得分"), _(SCORE_FORMULA)))
    rows.append((_("考核日"), _("当年为今天，往年为12月31日：{day}").format(day=data["as_of"])))
    xlsx.write_definitions(notes, styles, rows)
    book.close()
    buffer.seek(0)
    event_record(
        actor=request.user,
        action=Action.ASSESSMENT_EXPORTED,
        division_code=request.user.division_id or "",
        extra={"year": year, "rows": len(data["rows"])},
    )
    name = _("年度考核_{year}_{day}.xlsx").format(year=year, day=f"{timezone.localdate():%Y%m%d}")
    return FileResponse(buffer, as_attachment=True, filename=name)


@login_required
def weights_edit(request: HttpRequest) -> HttpResponse:
    """P24: the city sets the weights of a year's assessment."""
    require_action(request.user, "supervision.inspect")
    year = _year(request)
    weights, _row = selectors.weights_for(year)
    form = WeightsForm(request.POST or None, initial=weights)
    if request.method == "POST" and form.is_valid():
        try:
            services.weights_set(actor=request.user, year=year, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存{year}年度考核权重。").format(year=year))
            return redirect(f"{reverse('supervision:assessment')}?year={year}")
    return render(
        request,
        "supervision/form.html",
        {"form": form, "title": _("{year}年度考核权重").format(year=year), "back": "assessment"},
    )


urlpatterns: list[URLPattern] = [
    path("measures/", measure_list, name="measure_list"),
    path("measures/add/", measure_add, name="measure_add"),
    path("measures/<int:pk>/", measure_detail, name="measure_detail"),
    path("assessment/", assessment, name="assessment"),
    path("assessment/export/", assessment_export, name="assessment_export"),
    path("assessment/weights/", weights_edit, name="weights_edit"),
]
