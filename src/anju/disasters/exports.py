"""The event dashboard as a workbook (P9, P23): the counts per division, then every report the user may see, in the
one export style of `anju.exchange.xlsx` (frozen header, real dates and numbers, text kept as text)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from django.utils.translation import gettext as _

from anju.exchange import xlsx

from .models import DisasterEvent
from .selectors import MEASURES, DashboardRow


def _measure_titles() -> list[str]:
    return [_("上报户数"), _("已过渡安置"), _("已鉴定"), _("鉴定为C/D级"), _("已改造（验收或销号）")]


def dashboard_workbook(
    output: IO[bytes], *, event: DisasterEvent, rows: list[DashboardRow], total: DashboardRow, reports: Iterable[Any]
) -> int:
    """Write the workbook; returns the number of reports written (for the export's audit event)."""
    book, styles = xlsx.workbook(output, title=event.name, constant_memory=False)
    title = _("{name}（{kind}，{start}起）灾情统计").format(
        name=event.name, kind=event.get_kind_display(), start=event.started_on.isoformat()
    )
    columns = [(_("区划代码"), 14), (_("区划"), 16)] + [(t, 12) for t in _measure_titles()]
    summary = xlsx.Table(book, styles, _("汇总"), columns, title=title)
    for row in rows:
        summary.add([row.code, row.name, *(row.counts[m] for m in MEASURES)])
    summary.add(["", _("合计"), *(total.counts[m] for m in MEASURES)])
    summary.close()
    detail = xlsx.Table(
        book,
        styles,
        _("灾损明细"),
        [
            (_("区划代码"), 14),
            (_("村"), 14),
            (_("户主姓名"), 10),
            (_("受损程度"), 9),
            (_("受灾人数"), 9),
            (_("伤亡人数"), 9),
            (_("需过渡安置"), 10),
            (_("已安置"), 8),
            (_("上报日期"), 12),
            (_("受损情况"), 40),
        ],
        title=title,
    )
    for report in reports:
        detail.add(
            [
                report.division_id,
                report.division.name,
                report.household.head_name,
                report.get_level_display(),
                report.people_affected,
                report.casualties,
                report.needs_resettlement,
                bool(report.resettled),
                report.reported_on,
                report.description,
            ]
        )
    detail.close()
    book.close()
    return detail.rows
