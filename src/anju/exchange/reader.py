"""Reading the spreadsheets people really send (DESIGN.md "Spreadsheets"): one streaming reader for every import.

`open_table(path, columns)` opens an .xlsx/.xls workbook (python-calamine) or a .csv file (UTF-8 with or without
BOM, GBK/GB18030, UTF-16 as Excel's "Unicode text" saves it; decoded while streaming, so a 50 MB file is never held
in memory), finds the header row among the first rows by the known column names — under title rows, through merged
and two-level header cells — and yields `(row number as the spreadsheet shows it, {column key: raw cell})` for
every non-empty data row. Cells stay raw (str, int, float, date, datetime or None): `exchange.values` parses them.

Everything that makes a file unusable as a whole (wrong type, damaged, empty, no header, header only) is a
`DomainError` in Chinese; bad cells are the pipeline's business.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from anju.core.errors import DomainError

#: header rows are looked for among the first rows of a sheet (real files have a few title lines above)
HEADER_SCAN_ROWS = 30
SUFFIXES = (".xlsx", ".xls", ".csv")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (and other old Office files)
SNIFF_BYTES = 1 << 20


def normalize_header(text: object) -> str:
    """Trim, full-width → half-width, drop spaces, brackets and the required-star: '县（市、区）*' ≡ '县(市、区)'."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return "".join(ch for ch in value if not ch.isspace() and ch not in "()（）[]【】*＊").casefold()


@dataclass(frozen=True)
class Column:
    """One column of an import kind: its key in the rows, its header in the contract, the other names accepted.

    `parse` turns the raw cell into the value (raising `ValueError` with the Chinese reason); the reader only uses
    the names, the pipeline the rest.
    """

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parse: Callable[[Any], Any] | None = None

    def names(self) -> set[str]:
        return {normalize_header(n) for n in (self.header, *self.aliases)}


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _empty(cells: Iterable[object]) -> bool:
    """Every cell blank (`_blank` inlined: it runs for every row of a file)."""
    for cell in cells:  # noqa: SIM110 a loop: all() of a generator costs a frame per row
        if cell is not None and (cell.__class__ is not str or cell.strip()):
            return False
    return True


class Table:
    """The data rows of one sheet under its header row; iterate once, then `close()` (or use `with`)."""

    def __init__(
        self,
        *,
        rows: Iterator[list[Any]],
        columns: Sequence[Column],
        buffered: list[list[Any]],
        merges: list[tuple[tuple[int, int], tuple[int, int]]],
        col_offset: int,
        close: Callable[[], None],
        path: Path,
    ):
        self.path = path
        self._rows = rows
        self._close = close
        self.header_row, self.positions, self.headers = _find_header(columns, buffered, merges, col_offset)
        self._pending = buffered[self.header_row :]  # rows after the header (0-based index == header row number)
        self.count = 0

    @property
    def keys(self) -> set[str]:
        """The keys of the columns present in the file."""
        return set(self.positions)

    @property
    def order(self) -> list[str]:
        """The column keys in the order of `tuples()`' cells."""
        return list(self.positions)

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        order = self.order
        for number, cells in self.tuples():
            yield number, dict(zip(order, cells, strict=True))

    def tuples(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, the cells of the known columns in `order`) of every non-empty data row: what `__iter__`
        yields as dicts, cheaper for the import's column-wise parsing."""
        number = self.header_row
        places = list(self.positions.values())
        pick, needed = itemgetter(*places), max(places) + 1
        if len(places) == 1:
            pick = lambda cells, _one=pick: (_one(cells),)  # noqa: E731 itemgetter of one index gives the cell
        try:
            for cells in chain(self._pending, self._rows):
                number += 1
                if len(cells) < needed:
                    cells = [*cells, *[None] * (needed - len(cells))]
                picked = pick(cells)
                if _empty(picked):  # blank, or only cells of columns we do not read (a note in the margin)
                    continue
                self.count += 1
                yield number, picked
        except DomainError:
            raise
        except UnicodeDecodeError as exc:
            raise DomainError(
                _("第{row}行附近有无法识别的文字编码，请把文件另存为 UTF-8 或 GBK 编码的 CSV，或另存为 .xlsx").format(
                    row=number
                )
            ) from exc
        except (csv.Error, ValueError, OSError) as exc:
            message = _("第{row}行附近文件已损坏，无法继续读取：{error}").format(row=number, error=exc)
            raise DomainError(message) from exc
        if self.count == 0:
            raise DomainError(_("文件只有表头，没有数据行"))

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _find_header(
    columns: Sequence[Column],
    rows: list[list[Any]],
    merges: list[tuple[tuple[int, int], tuple[int, int]]],
    col_offset: int,
) -> tuple[int, dict[str, int], dict[str, str]]:
    """The header row (1-based) and each known column's position, picked as the row naming the most columns.

    A merged header cell counts for every cell it covers; a blank cell takes the text of the cell above it (a
    two-level header whose upper cells span both rows); a lower cell may also be named together with the upper
    one ('房屋信息' over '结构' reads as '房屋信息结构').
    """
    by_name: dict[str, str] = {}
    for column in columns:
        for name in column.names():
            by_name.setdefault(name, column.key)
    grid = [[("" if _blank(c) else str(c)) for c in row] for row in rows]
    for (r0, c0), (r1, c1) in merges:
        if r0 >= len(grid):
            continue
        top = grid[r0][c0 - col_offset] if 0 <= c0 - col_offset < len(grid[r0]) else ""
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0 - col_offset, c1 - col_offset + 1):
                if 0 <= c < len(grid[r]) and not grid[r][c]:
                    grid[r][c] = top

    best: tuple[int, int, dict[str, int], dict[str, str]] | None = None
    above: list[str] = []
    for index, row in enumerate(grid):
        positions: dict[str, int] = {}
        headers: dict[str, str] = {}
        for i, text in enumerate(row):
            upper = above[i] if i < len(above) else ""
            own = normalize_header(text)
            candidates = [own, normalize_header(upper) + own] if own else [normalize_header(upper)]
            for name in candidates:
                key = by_name.get(name)
                if key and key not in positions:
                    positions[key] = i
                    headers[key] = (text or upper).strip()
                    break
        if positions and (best is None or len(positions) > best[1]):
            best = (index, len(positions), positions, headers)
        above = [text or (above[i] if i < len(above) else "") for i, text in enumerate(row)]
    if best is None:
        known = "、".join(f"「{c.header}」" for c in columns if c.required) or "、".join(
            f"「{c.header}」" for c in columns
        )
        raise DomainError(
            _("前{rows}行中未找到表头行，文件应包含{columns}等列").format(rows=HEADER_SCAN_ROWS, columns=known)
        )
    index, _count, positions, headers = best
    return index + 1, positions, headers


def open_table(path: Path | str, columns: Sequence[Column]) -> Table:
    """Open `path` and find its header row; see the module docstring for what is accepted."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DomainError(
            _("不支持的文件类型「{suffix}」，请使用 .xlsx、.xls 或 .csv 文件").format(suffix=path.suffix or path.name)
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise DomainError(_("无法打开文件：{error}").format(error=exc.strerror or exc)) from exc
    if not head:
        raise DomainError(_("文件是空的"))
    if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return _open_workbook(path, columns)
    if suffix != ".csv":
        raise DomainError(
            _("文件扩展名是{suffix}，但内容不是Excel表格（可能已损坏，或是改了扩展名的其他文件）").format(suffix=suffix)
        )
    return _open_csv(path, head, columns)


def _open_workbook(path: Path, columns: Sequence[Column]) -> Table:
    """The first sheet that has a header row (a leading 说明 sheet is passed over)."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine has its own error types for damaged, encrypted and foreign files
        raise DomainError(
            _("无法读取表格文件，文件可能已损坏或设置了密码（{error}）").format(error=str(exc)[:200])
        ) from exc
    first_error: DomainError | None = None
    empty = True
    for index in range(len(workbook.sheet_names)):
        try:
            sheet = workbook.get_sheet_by_index(index)
            rows = iter(sheet.iter_rows())
            buffered = [list(r) for _i, r in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]
            try:
                merges = list(sheet.merged_cell_ranges or [])
            except Exception:  # merged ranges are only known for some formats
                merges = []
        except Exception as exc:
            raise DomainError(_("无法读取表格文件，文件可能已损坏（{error}）").format(error=str(exc)[:200])) from exc
        if not any(not _blank(c) for row in buffered for c in row):
            continue
        empty = False
        start = sheet.start
        try:
            return Table(
                rows=(list(r) for r in rows),
                columns=columns,
                buffered=buffered,
                merges=merges,
                col_offset=start[1] if start else 0,
                close=workbook.close,
                path=path,
            )
        except DomainError as exc:
            first_error = first_error or exc
    workbook.close()
    if empty:
        raise DomainError(_("文件中没有任何数据（工作表是空的）"))
    assert first_error is not None
    raise first_error


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) when the first megabyte decodes as such, UTF-16 by its BOM, else GB18030 (⊃ GBK)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise DomainError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV，或另存为 .xlsx")) from None


def csv_dialect(head: bytes) -> tuple[str, str]:
    """A CSV's encoding and delimiter from its first SNIFF_BYTES: the reader's rules, for a caller that reads the
    file another way (the comparison hands a plain CSV to polars)."""
    encoding = _encoding(head)
    return encoding, _delimiter(head.decode(encoding, errors="ignore"))


def _delimiter(sample: str) -> str:
    lines = sample.splitlines()[:HEADER_SCAN_ROWS]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(path: Path, head: bytes, columns: Sequence[Column]) -> Table:
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DomainError(_("文件内容不是文本表格（含有二进制数据），可能已损坏"))
    encoding, delimiter = csv_dialect(head)
    handle = path.open(encoding=encoding, newline="")
    try:
        reader: Iterable[list[str]] = csv.reader(handle, delimiter=delimiter)
        rows = iter(reader)
        buffered = [row for _i, row in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]
        if not any(not _blank(c) for row in buffered for c in row):
            raise DomainError(_("文件中没有任何数据"))
        return Table(
            rows=rows, columns=columns, buffered=buffered, merges=[], col_offset=0, close=handle.close, path=path
        )
    except DomainError:
        handle.close()
        raise
    except UnicodeDecodeError as exc:
        handle.close()
        raise DomainError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV，或另存为 .xlsx")) from exc
    except (csv.Error, OSError) as exc:
        handle.close()
        raise DomainError(_("文件已损坏，无法读取：{error}").format(error=exc)) from exc


def sha256_of(path: Path | str) -> tuple[str, int]:
    """The file's SHA-256 (hex) and size, read in blocks (the audit event and the run history name the file)."""
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
