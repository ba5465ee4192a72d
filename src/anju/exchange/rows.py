"""Reading tabular files row by row and reporting bad rows (the shared shape of every import)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from anju.core.errors import DomainError


@dataclass(frozen=True)
class RowError:
    """One bad cell: the row number as the user sees it in their spreadsheet (1-based)."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        column = f"「{self.column}」" if self.column else ""
        value = f"（值：{self.value}）" if self.value else ""
        return f"{where}{column}{value}：{self.message}"


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
            raise DomainError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
        table: Iterator[list[object]] = iter(csv.reader(io.StringIO(text)))
    elif suffix in (".xlsx", ".xls"):
        from python_calamine import CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        except Exception as exc:  # calamine raises its own types for damaged files
            raise DomainError(f"无法读取表格文件：{exc}") from exc
        table = iter(sheet.to_python(skip_empty_area=False))
    else:
        raise DomainError(f"不支持的文件类型「{path.suffix}」，请使用 .xlsx、.xls 或 .csv")

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
        raise DomainError("未找到表头行，文件须包含以下列：" + "、".join(required))
