"""`anju import divisions FILE`: NBS-format division files (code, name, level, parent_code) on the import engine.

The rules are the division app's (`divisions.services`: codes by level, parents in the file or the database, no
cycles); a parent may come further down the file, so they run once the whole file is read (`complete`). Files
are small (a county has a few thousand villages): the rows are kept in memory for that check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.core.scope import in_scope
from anju.divisions.models import LEVEL_ORDER, Division
from anju.divisions.services import LEVEL_ALIASES, DivisionRow, division_rows_check

from .. import values
from ..pipeline import CREATED, UNCHANGED, UPDATED, Column, Context, Row, Spec
from ..rows import RowError


def _code(cell: Any) -> str:
    text = values.clean_text(cell)
    if not (len(text) == 12 and text.isdigit() and text.isascii()):
        raise ValueError(_("区划代码必须是12位数字"))
    return text


def _level(cell: Any) -> str:
    text = values.clean_text(cell)
    if text not in LEVEL_ALIASES:
        raise ValueError(_("级别应为 province/city/county/town/village 之一"))
    return LEVEL_ALIASES[text]


COLUMNS = (
    Column("code", "code", aliases=("区划代码", "统计用区划代码", "代码"), required=True, parse=_code),
    Column("name", "name", aliases=("名称", "区划名称"), required=True, parse=values.clean_text),
    Column("level", "level", aliases=("级别", "层级"), required=True, parse=_level),
    Column("parent_code", "parent_code", aliases=("上级代码", "上级区划代码"), parse=values.clean_text),
)


class DivisionsImporter:
    kind: ClassVar[str] = "divisions"
    spec: ClassVar[Spec] = Spec(columns=COLUMNS)
    permissions: ClassVar[tuple[str, ...]] = ("divisions.import",)
    action: ClassVar[Action] = Action.DIVISIONS_IMPORTED
    key_column: ClassVar[str] = "code"

    def start(self, ctx: Context) -> None:
        self.rows: list[DivisionRow] = []
        self.prefix = ctx.actor.scope_prefix if ctx.actor is not None else ""

    def keys(self, rows: list[Row]) -> list[str | None]:
        return [row.values.get("code") for row in rows]

    def validate(self, rows: list[Row], ctx: Context) -> None:
        for row in rows:
            code = row.values.get("code")
            if code and self.prefix and not in_scope(code, self.prefix):
                row.fail(self.spec.column("code"), _("不在您的管辖范围内"))
        clean = [row for row in rows if row.ok]
        stored = {
            code: rest
            for code, *rest in Division.objects.filter(code__in=[row.values["code"] for row in clean]).values_list(
                "code", "name", "level", "parent_id"
            )
        }
        for row in clean:
            v = row.values
            item = DivisionRow(row.number, v["code"], v["name"], v["level"], v.get("parent_code") or "")
            self.rows.append(item)
            current = stored.get(item.code)
            if current is None:
                row.outcome = CREATED
            elif current == [item.name, item.level, item.parent_code or None]:
                row.outcome = UNCHANGED
            else:
                row.outcome = UPDATED
            row.payload = item

    def complete(self, ctx: Context) -> list[RowError]:
        existing = dict(Division.objects.values_list("code", "level"))
        errors = division_rows_check(self.rows, existing)
        headers = {c.key: c.header for c in COLUMNS}
        return [RowError(e.row, headers.get(e.column, e.column), e.value, e.message) for e in errors]

    def write(self, batches: Iterator[list[tuple[int, str, Any]]], ctx: Context) -> dict[str, Any]:
        rows = sorted((payload for items in batches for _n, _o, payload in items), key=_depth)
        Division.objects.bulk_create(
            [Division(code=r.code, name=r.name, level=r.level, parent_id=r.parent_code or None) for r in rows],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "level", "parent"],
        )
        return {}


def _depth(row: DivisionRow) -> int:
    return LEVEL_ORDER.index(row.level)
