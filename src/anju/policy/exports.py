"""The monitoring list (P7) as an .xlsx workbook, written row by row in constant memory.

Written in the one export style (`anju.exchange.xlsx`, constant memory: each row is flushed as the next starts), and
the households are read in chunks (`iterator(chunk_size=…)` with the prefetches done per chunk), so a county's
or the whole city's list takes the same memory as a village's. ID numbers are always masked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.exchange import xlsx
from anju.registry.models import Grade, Household, Structure

from .selectors import monitoring_list, monitoring_reasons

CHUNK = 2000


def _columns() -> list[tuple[str, int]]:
    return [
        (_("序号"), 7),
        (_("县"), 12),
        (_("乡镇"), 14),
        (_("村"), 16),
        (_("户主姓名"), 10),
        (_("身份证号码"), 21),
        (_("重点对象类型"), 24),
        (_("房屋结构"), 14),
        (_("安全等级"), 10),
        (_("纳入原因"), 60),
        (_("责任人"), 12),
    ]


def _labels() -> dict[str, dict[str, str]]:
    """Choice labels translated once per export, not once per cell."""
    return {
        "structure": {k: str(v) for k, v in Structure.choices},
        "grade": {k: str(v) for k, v in Grade.choices},
    }


def monitoring_row(number: int, household: Household, labels: dict[str, dict[str, str]] | None = None) -> list[Any]:
    """One spreadsheet row: the household's columns and every reason with what was found."""
    labels = labels or _labels()
    division = household.division
    town = division.parent
    county = town.parent if town else None
    reasons = monitoring_reasons(household)
    houses = household.house_list
    structures, grades = labels["structure"], labels["grade"]
    return [
        number,
        county.name if county else "",
        town.name if town else "",
        division.name,
        household.head_name,
        household.id_masked,
        "、".join(c.category.name for c in household.active_categories),
        "、".join(structures.get(h.structure, h.structure) for h in houses),
        "、".join(grades.get(h.grade, h.grade) for h in houses),
        "；".join(a.message for a in reasons),  # each message names its reason (重点对象：…, B级房屋（土木）…)
        next((a.responsible_name for a in reasons if a.responsible_name), ""),
    ]


def monitoring_export(
    *,
    actor: Any,
    filters: dict[str, Any] | None,
    output: str | Path | IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the monitoring list in the actor's scope (under `filters`) to `output`; returns the rows written."""
    book, styles = xlsx.workbook(output, title=_("动态监测对象名单"))
    table = xlsx.Table(book, styles, _("动态监测对象"), _columns())
    labels = _labels()
    for household in monitoring_list(actor=actor, filters=filters).iterator(chunk_size=CHUNK):
        table.add(monitoring_row(table.rows + 1, household, labels))
        if progress and table.rows % CHUNK == 0:
            progress(CHUNK)
    rows = table.rows
    if progress and rows % CHUNK:
        progress(rows % CHUNK)
    table.close()
    book.close()
    # Names leave the system (IDs masked): who exported what is on record (PIPL).
    event_record(
        actor=actor if getattr(actor, "pk", None) else None,
        action=Action.MONITORING_EXPORTED,
        division_code=getattr(actor, "division_id", "") or "",
        extra={"rows": rows, "filters": {k: str(v) for k, v in (filters or {}).items() if v}},
    )
    return rows
