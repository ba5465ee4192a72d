"""The complaints (信访件, P14) as an .xlsx workbook in the one export style (`anju.exchange.xlsx`).

Phones stay masked in the file: a spreadsheet travels further than a page. Who exported how many rows under which
filters is an audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.divisions.models import Division
from anju.exchange import xlsx

from .models import Category, Channel, Complaint, ComplaintState, ReplyMethod, ReviewResult, Satisfaction
from .selectors import ComplaintFilters, complaint_list, is_overdue

CHUNK = 2000


def complaint_columns() -> list[tuple[str, int]]:
    return [
        (_("序号"), 7),
        (_("编号"), 8),
        (_("县"), 10),
        (_("乡镇"), 12),
        (_("村"), 14),
        (_("来源渠道"), 9),
        (_("受理日期"), 11),
        (_("信访人"), 10),
        (_("联系电话"), 14),
        (_("问题类别"), 10),
        (_("反映内容"), 40),
        (_("承办人"), 10),
        (_("答复期限"), 11),
        (_("答复日期"), 11),
        (_("答复方式"), 10),
        (_("答复内容"), 40),
        (_("满意度"), 9),
        (_("办结日期"), 11),
        (_("状态"), 9),
        (_("是否逾期"), 9),
        (_("回头看"), 7),
        (_("回头看结果"), 12),
        (_("关联台账"), 9),
    ]


def _places(complaint: Complaint) -> dict[str, str]:
    names = {"county": "", "town": "", "village": ""}
    division = complaint.division
    while division is not None and division.level in names:
        names[division.level] = division.name
        division = division.parent if division.level != "county" else None  # what the list selected, no further
    return names


def complaint_row(n: int, complaint: Complaint, labels: dict[str, dict[str, str]], today: dt.date) -> list[Any]:
    places = _places(complaint)
    return [
        n,
        complaint.pk,
        places["county"],
        places["town"],
        places["village"],
        labels["channel"][complaint.channel],
        complaint.received_on,
        complaint.complainant_name,
        complaint.phone_masked,
        labels["category"][complaint.category],
        complaint.content,
        complaint.handler_name,
        complaint.reply_due_on,
        complaint.replied_on,
        labels["reply_method"].get(complaint.reply_method, ""),
        complaint.reply_text,
        labels["satisfaction"].get(complaint.satisfaction, ""),
        complaint.closed_on,
        labels["state"][complaint.state],
        is_overdue(complaint, today),
        complaint.is_review,
        labels["review_result"].get(complaint.review_result, ""),
        complaint.case_id,
    ]


def complaints_export(
    *, actor: Any, filters: ComplaintFilters, output: xlsx.Output, today: dt.date | None = None
) -> int:
    """Write the actor's complaints under `filters` to `output`; returns the rows written."""
    today = today or dt.date.today()
    labels = {
        name: {code: str(label) for code, label in choices}
        for name, choices in (
            ("channel", Channel.choices),
            ("category", Category.choices),
            ("reply_method", ReplyMethod.choices),
            ("satisfaction", Satisfaction.choices),
            ("state", ComplaintState.choices),
            ("review_result", ReviewResult.choices),
        )
    }
    code = filters.division or getattr(actor, "division_id", "") or ""
    division = Division.objects.filter(code=code).first() if code else None
    book, styles = xlsx.workbook(output, title=_("信访件台账"))
    title = _("信访件台账（{scope}，统计日期：{day}）").format(
        scope=division.name if division else _("全部"), day=today.isoformat()
    )
    table = xlsx.Table(book, styles, _("信访件"), complaint_columns(), title=title)
    for complaint in complaint_list(actor, filters).iterator(chunk_size=CHUNK):
        table.add(complaint_row(table.rows + 1, complaint, labels, today))
    rows = table.rows
    table.close()
    book.close()
    event_record(
        actor=actor,
        action=Action.COMPLAINTS_EXPORTED,
        division_code=code,
        extra={"rows": rows, "filters": {k: v for k, v in vars(filters).items() if v}},
    )
    return rows
