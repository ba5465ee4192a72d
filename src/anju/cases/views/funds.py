"""P4: the subsidy money per county and year (项目资金监管) — a page with a chart and the same table as .xlsx.

The table is at most (counties × years) rows, so the download is written in the request; the figures come from
`selectors.funds_summary`, the one place that adds them up."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.exchange import xlsx

from ..selectors import FundsRow, funds_summary

COLUMNS = (
    ("county", 8), ("name", 16), ("year", 8), ("planned", 12), ("approved", 16), ("payments", 10), ("paid", 16),
    ("accepted", 12), ("owed", 16),
)  # fmt: skip


def _labels() -> dict[str, str]:
    return {
        "county": _("县代码"),
        "name": _("县（市、区）"),
        "year": _("年度"),
        "planned": _("纳入计划户数"),
        "approved": _("核定补助（元）"),
        "payments": _("拨付笔数"),
        "paid": _("已拨付（元）"),
        "accepted": _("竣工验收户数"),
        "owed": _("验收后待拨付（元）"),
    }


def _year(request: HttpRequest) -> int | None:
    text = request.GET.get("year", "").strip()
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else None


def _totals(rows: list[FundsRow]) -> dict[str, Any]:
    measures = ("planned", "approved", "payments", "paid", "accepted", "owed")
    return {
        m: sum((getattr(r, m) for r in rows), Decimal(0) if m in ("approved", "paid", "owed") else 0) for m in measures
    }


@login_required
def funds(request: HttpRequest) -> HttpResponse:
    """Approved, paid and still owed subsidy per county and year in the user's scope (P4, P21)."""
    require_action(request.user, "cases.view")
    year = _year(request)
    rows = funds_summary(request.user, year=year)
    shown = [r for r in rows if r.year == (year or (rows[0].year if rows else 0))]
    chart = {
        "names": [r.name for r in shown],
        "series": [
            {"name": _("核定补助"), "data": [float(r.approved) for r in shown]},
            {"name": _("已拨付"), "data": [float(r.paid) for r in shown]},
        ],
        "unit": _("元"),
    }
    years = sorted({r.year for r in rows}, reverse=True)
    return render(
        request,
        "cases/funds.html",
        {
            "title": _("补助资金"),
            "rows": rows,
            "totals": _totals(rows),
            "year": year,
            "years": years,
            "chart": chart,
            "chart_year": shown[0].year if shown else None,
        },
    )


@login_required
def funds_export(request: HttpRequest) -> HttpResponse:
    """The funds table as .xlsx in the project's one workbook style."""
    require_action(request.user, "cases.view")
    rows = funds_summary(request.user, year=_year(request))
    labels = _labels()
    buffer = io.BytesIO()
    book, styles = xlsx.workbook(buffer, title=_("补助资金拨付情况"), constant_memory=False)
    table = xlsx.Table(
        book, styles, _("补助资金"), [(labels[k], w) for k, w in COLUMNS], title=_("补助资金拨付情况（按县、年度）")
    )
    for row in rows:
        table.add([getattr(row, key) for key, _w in COLUMNS])
    table.close()
    book.close()
    buffer.seek(0)
    name = _("补助资金_{day}.xlsx").format(day=f"{timezone.localdate():%Y%m%d}")
    return FileResponse(buffer, as_attachment=True, filename=name)


urlpatterns: list[URLPattern] = [
    path("funds/", funds, name="funds"),
    path("funds/export/", funds_export, name="funds_export"),
]
