"""Reading tabular files row by row and reporting bad rows (the shared shape of every import)."""

from __future__ import annotations

import csv
import io
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


def normalize_header(text: str) -> str:
    """Trim, full-width → half-width, drop spaces and brackets so '县（市、区）' matches '县(市、区)'."""
    value = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(ch for ch in value if not ch.isspace() and ch not in "()（）[]【】*")


def clean_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {normalised header: cleaned value}) from .csv (UTF-8 or GBK) or .xlsx/.xls.

    The header row is the first row that holds every required column, so title rows above it are skipped.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gbk"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DomainError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"))
        table: Iterator[list[object]] = iter(csv.reader(io.StringIO(text)))
    elif suffix in (".xlsx", ".xls"):
        from python_calamine import CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        except Exception as exc:  # calamine raises its own types for damaged files
            raise DomainError(_("无法读取表格文件：{error}").format(error=exc)) from exc
        table = iter(sheet.to_python(skip_empty_area=False))
    else:
        raise DomainError(_("不支持的文件类型「{suffix}」，请使用 .xlsx、.xls 或 .csv").format(suffix=path.suffix))

    wanted = {normalize_header(h) for h in required}
    header: list[str] | None = None
    for number, cells in enumerate(table, start=1):
        if header is None:
            names = [normalize_header(c) for c in cells]
            if wanted <= set(names):
                header = names
            continue
        values = [clean_cell(c) for c in cells]
        if not any(values):
            continue
        yield number, {name: (values[i] if i < len(values) else "") for i, name in enumerate(header) if name}
    if header is None:
        raise DomainError(_("未找到表头行，文件须包含以下列：{columns}").format(columns="、".join(required)))
