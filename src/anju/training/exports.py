"""The training ledger (培训台账, P17) as an .xlsx workbook in the project's one workbook style."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.divisions.models import Division
from anju.exchange import xlsx
from anju.exchange.xlsx import Output

from .selectors import LedgerFilters, ledger_rows


def ledger_columns() -> list[tuple[str, float]]:
    return [
        (_("序号"), 6),
        (_("姓名/名称"), 14),
        (_("人员类别"), 18),
        (_("所属区划"), 16),
        (_("区划代码"), 14),
        (_("联系电话"), 14),
        (_("是否已培训"), 10),
        (_("培训场次"), 9),
        (_("培训学时"), 9),
        (_("最近培训日期"), 13),
    ]


def ledger_export(*, actor: Any, filters: LedgerFilters, output: Output) -> int:
    """Write the ledger of `filters.year` in the actor's scope to `output`; returns the rows written. Names and
    phones leave the system, so the export is an audit event."""
    rows = ledger_rows(actor=actor, filters=filters)
    code = filters.division or actor.division_id
    scope = Division.objects.filter(code=code).values_list("name", flat=True).first() or _("全部")
    book, styles = xlsx.workbook(output, title=_("培训台账"))
    title = _("{year}年度培训台账（{scope}）").format(year=filters.year, scope=scope)
    table = xlsx.Table(book, styles, _("培训台账"), ledger_columns(), title=title)
    for n, row in enumerate(rows, start=1):
        table.add(
            [
                n,
                row.name,
                "、".join(row.roles),
                row.division_name,
                row.division_code,
                row.phone,
                row.trained,
                row.sessions,
                xlsx.decimals(row.hours, 1),
                row.last_on,
            ]
        )
    table.close()
    book.close()
    event_record(
        actor=actor,
        action=Action.TRAINING_LEDGER_EXPORTED,
        division_code=code or "",
        extra={"rows": len(rows), "filters": {k: v for k, v in vars(filters).items() if v}},
    )
    return len(rows)
