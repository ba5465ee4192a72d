"""A bad cell as every import reports it (`RowError`), and the old row reader the division service still uses."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from anju.core.errors import DomainError


@dataclass(frozen=True)
class RowError:
    """One bad cell: the row number as the user sees it in their spreadsheet (1-based)."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = _("第{row}行").format(row=self.row) if self.row else _("文件")
        column = _("「{column}」").format(column=self.column) if self.column else ""
        value = _("（值：{value}）").format(value=self.value) if self.value else ""
        return _("{where}{column}{value}：{message}").format(
            where=where, column=column, value=value, message=self.message
        )


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def clean_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {header: cleaned text}) through the import reader (`reader.open_table`).

    Kept for `divisions.services.division_import` (the installation's base load); imports go through
    `exchange.pipeline.run_import`.
    """
    from .reader import Column, open_table

    with open_table(Path(path), [Column(h, h, required=True) for h in required]) as table:
        missing = [h for h in required if h not in table.keys]
        if missing:
            raise DomainError(_("未找到表头行，文件须包含以下列：{columns}").format(columns="、".join(required)))
        for number, cells in table:
            yield number, {key: clean_cell(value) for key, value in cells.items()}
