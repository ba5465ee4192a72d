"""The one workbook style of every export: title row, frozen header, column widths, real dates and numbers.

Every export writes through here so that each file opens the same way in Excel and LibreOffice (DESIGN
"Spreadsheets"): a bold header on a blue band, frozen under the title, with an autofilter; dates as dates
(`yyyy-mm-dd`), counts and money as numbers, text as text (an ID number or a village code never turns into a
number). Long lists use xlsxwriter's `constant_memory` mode — each row is flushed to a temporary file when the next
one starts — and a `Table` continues on a new sheet at Excel's row limit, so a million rows take the memory of one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from django.utils.translation import gettext as _
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

Output = str | Path | IO[bytes]

DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = "#,##0.00"
#: Rows of one sheet in Excel and LibreOffice (header included).
MAX_ROWS = 1_048_576

#: (group title, [(measure key, column title)]) of a summary table, in the order of the sheet.
Groups = Sequence[tuple[str, Sequence[tuple[str, str]]]]
#: The first row of a summary table's data (under the title and the two header rows).
SUMMARY_FIRST_ROW = 3

HEADER = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
TITLE = {"bold": True, "font_size": 14}


class Decimals(Decimal):
    """A number to show with a fixed number of places (`Decimals("60.50")`, coordinates with six)."""


def decimals(value: Decimal | float | None, places: int) -> Decimals | None:
    return None if value is None else Decimals(Decimal(value).quantize(Decimal(1).scaleb(-places)))


class Styles:
    """The formats of one workbook, made on first use (xlsxwriter writes only the formats cells use)."""

    def __init__(self, book: Workbook):
        self.book = book
        self._places: dict[int, Format] = {}

    @cached_property
    def title(self) -> Format:
        return self.book.add_format(TITLE)

    @cached_property
    def header(self) -> Format:
        return self.book.add_format(HEADER)

    @cached_property
    def header_center(self) -> Format:
        """The two-level headers of summary tables."""
        return self.book.add_format(HEADER | {"align": "center", "valign": "vcenter"})

    @cached_property
    def text(self) -> Format:
        return self.book.add_format({"num_format": "@"})

    @cached_property
    def date(self) -> Format:
        return self.book.add_format({"num_format": DATE_FORMAT})

    @cached_property
    def money(self) -> Format:
        return self.book.add_format({"num_format": MONEY_FORMAT})

    @cached_property
    def cell(self) -> Format:
        """A bordered cell of a summary table."""
        return self.book.add_format({"border": 1})

    @cached_property
    def total(self) -> Format:
        """The total row of a summary table."""
        return self.book.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2"})

    @cached_property
    def label(self) -> Format:
        return self.book.add_format({"bold": True, "valign": "top"})

    @cached_property
    def wrap(self) -> Format:
        return self.book.add_format({"text_wrap": True, "valign": "top"})

    def places(self, n: int) -> Format:
        """Numbers with `n` decimal places (areas 0.00, coordinates 0.000000)."""
        if n not in self._places:
            self._places[n] = self.book.add_format({"num_format": "0." + "0" * n if n else "0"})
        return self._places[n]


def workbook(output: Output, *, title: str, constant_memory: bool = True) -> tuple[Workbook, Styles]:
    """A new workbook (strings are never guessed into numbers) with its styles and document title."""
    options = {"constant_memory": True, "strings_to_numbers": False} if constant_memory else {}
    book = xlsxwriter.Workbook(output, options)
    book.set_properties({"title": title})
    return book, Styles(book)


def write_row(sheet: Worksheet, row: int, values: Sequence[Any], styles: Styles, first_col: int = 0) -> None:
    """One row by the type of each value: text as text, `dt.date` as a date, int as a number, `Decimals` with their
    places, other `Decimal` as money; None and "" leave the cell empty."""
    for col, value in enumerate(values, start=first_col):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            sheet.write_string(row, col, value, styles.text)
        elif isinstance(value, bool):
            sheet.write_string(row, col, _("是") if value else _("否"), styles.text)
        elif isinstance(value, int):
            sheet.write_number(row, col, value)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, value, styles.date)
        elif isinstance(value, Decimals):
            sheet.write_number(row, col, float(value), styles.places(max(0, -value.as_tuple().exponent)))
        elif isinstance(value, Decimal):
            sheet.write_number(row, col, float(value), styles.money)
        else:
            sheet.write_number(row, col, value)


class Table:
    """Rows under a frozen header (optionally below a title row), with widths and an autofilter.

    `add()` writes rows in order; at Excel's row limit the table continues on a new sheet ("农户（2）") with the
    same title and header, so no export is ever cut short. `close()` sets the autofilters.
    """

    def __init__(
        self,
        book: Workbook,
        styles: Styles,
        name: str,
        columns: Sequence[tuple[str, float]],
        *,
        title: str = "",
    ):
        self.book, self.styles, self.name, self.columns, self.title = book, styles, name, columns, title
        self.sheets: list[tuple[Worksheet, int]] = []  # (sheet, rows written)
        self.rows = 0
        self._new_sheet()

    @property
    def header_row(self) -> int:
        return 1 if self.title else 0

    def _new_sheet(self) -> None:
        n = len(self.sheets) + 1
        sheet = self.book.add_worksheet(self.name if n == 1 else _("{name}（{n}）").format(name=self.name, n=n))
        for col, (_name, width) in enumerate(self.columns):
            sheet.set_column(col, col, width)
        if self.title:
            sheet.write_string(0, 0, self.title, self.styles.title)
        for col, (name, _width) in enumerate(self.columns):
            sheet.write_string(self.header_row, col, name, self.styles.header)
        sheet.freeze_panes(self.header_row + 1, 0)
        self.sheets.append((sheet, 0))

    def add(self, values: Sequence[Any]) -> None:
        sheet, used = self.sheets[-1]
        if self.header_row + 1 + used >= MAX_ROWS:
            self._new_sheet()
            sheet, used = self.sheets[-1]
        write_row(sheet, self.header_row + 1 + used, values, self.styles)
        self.sheets[-1] = (sheet, used + 1)
        self.rows += 1

    def close(self) -> None:
        for sheet, used in self.sheets:
            sheet.autofilter(self.header_row, 0, self.header_row + max(used, 1), len(self.columns) - 1)


def write_definitions(sheet: Worksheet, styles: Styles, rows: Iterable[tuple[str, str]]) -> None:
    """The "说明" sheet of a summary: each measure and what it counts."""
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 90)
    sheet.write_string(0, 0, _("指标"), styles.label)
    sheet.write_string(0, 1, _("口径"), styles.label)
    for row, (name, text) in enumerate(rows, start=1):
        sheet.write_string(row, 0, name, styles.label)
        sheet.write_string(row, 1, text, styles.wrap)


def summary_sheet(
    book: Workbook,
    styles: Styles,
    name: str,
    title: str,
    groups: Groups,
    labels: Sequence[tuple[str, float]],
) -> tuple[Worksheet, list[str]]:
    """A summary table (one row per division): the title, a two-level header — the label columns merged over both
    rows, each group over its measures — frozen under it; returns the sheet and the measure keys in column order."""
    sheet = book.add_worksheet(name)
    header = styles.header_center
    sheet.write_string(0, 0, title, styles.title)
    for col, (label, width) in enumerate(labels):
        sheet.merge_range(1, col, 2, col, label, header)
        sheet.set_column(col, col, width)
    col = len(labels)
    keys = []
    for group, items in groups:
        if len(items) > 1:
            sheet.merge_range(1, col, 1, col + len(items) - 1, group, header)
        else:
            sheet.write_string(1, col, group, header)
        for key, column in items:
            sheet.write_string(2, col, column, header)
            keys.append(key)
            col += 1
    sheet.set_column(len(labels), col - 1, 9)
    sheet.set_row(2, 32)
    sheet.freeze_panes(SUMMARY_FIRST_ROW, len(labels))
    return sheet, keys


def summary_line(
    sheet: Worksheet,
    styles: Styles,
    row: int,
    labels: Sequence[str],
    counts: Mapping[str, int],
    keys: Sequence[str],
    *,
    total: bool = False,
) -> None:
    """One bordered row of a summary table (the total row bold on grey); a missing count is 0."""
    style = styles.total if total else styles.cell
    for col, label in enumerate(labels):
        sheet.write_string(row, col, label, style)
    for offset, key in enumerate(keys, start=len(labels)):
        sheet.write_number(row, offset, counts.get(key, 0), style)
