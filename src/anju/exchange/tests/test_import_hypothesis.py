"""Random corruptions of a valid households file never crash the importer and never leave partial data (issue 5
"Tests"; DESIGN.md "Spreadsheets").

From a valid file of 20 rows, hypothesis drops, swaps and blanks cells, puts random unicode in them, changes a
digit of an ID, deletes and duplicates rows, writes the file as UTF-8, UTF-8 with BOM, GBK, a wrong encoding or
.xlsx, then truncates it or scatters random bytes in it. Whatever comes out:
- the importer raises nothing but `DomainError` (a file it cannot read as a whole), in Chinese;
- every bad row is reported with its row number, column and reason in Chinese, and the counts add up;
- the database is either untouched (dry run, a refused file, any bad row without --skip-invalid: a digest of
  everything a households import writes is equal before and after), or holds exactly the good rows (each good row's
  household with the file's name; no household from a bad row alone).
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from anju.core import idnumber
from anju.core.errors import DomainError
from anju.exchange import values
from anju.exchange.importers.households import HouseholdsImporter
from anju.exchange.models import ImportMode
from anju.exchange.pipeline import run_import
from anju.exchange.reader import open_table
from anju.registry.models import Household
from anju.testing import ugly_files
from anju.testing.ugly_files import HEADER, registry_digest

pytestmark = pytest.mark.django_db

ROWS = 20
#: the encodings people's files come in (more often), and wrong ones that garble the Chinese (less often)
FORMATS = ("utf-8", "utf-8", "utf-8-sig", "gbk", "gbk", "xlsx", "xlsx", "utf-16", "big5", "shift_jis", "cp1252")
MODES = {
    "dry_run": {"dry_run": True},
    "all_or_nothing": {},
    "skip_invalid": {"mode": ImportMode.SKIP_INVALID},
}
CJK = range(0x4E00, 0xA000)
ID_COLUMN = HEADER.index("身份证号码")


def valid_table() -> list[list[str]]:
    """The header and 20 valid rows with a little of everything (categories, grades, dates, blanks)."""
    rows = []
    for n in range(1, ROWS + 1):
        cells = {}
        if n % 3 == 0:
            cells |= {"重点对象类型": "低保户、特困人员", "安全等级": "C", "鉴定日期": "2021/5/14"}
        if n % 4 == 0:
            cells |= {"联系电话": "", "建筑面积": "", "是否闲置": "是"}
        if n % 5 == 0:
            cells |= {"行政村": "李家畔村", "房屋结构": "土窑洞"}
        row = ugly_files.household_row(n, **cells)
        rows.append([str(row[h]) for h in HEADER])
    return [list(HEADER), *rows]


cell_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def corruptions(draw) -> tuple[list[list[str]], str, list[tuple[str, float, bytes]]]:
    """The corrupted table, its file format, and byte-level damage applied after writing."""
    table = valid_table()
    for _step in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["drop", "swap", "unicode", "digit", "blank", "delete", "duplicate"]))
        if len(table) < 2:
            break
        r = draw(st.integers(1, len(table) - 1))
        width = len(table[r])
        if op == "drop" and width:
            del table[r][draw(st.integers(0, width - 1))]
        elif op == "swap" and width:
            i, j = draw(st.integers(0, width - 1)), draw(st.integers(0, width - 1))
            table[r][i], table[r][j] = table[r][j], table[r][i]
        elif op == "unicode" and width:
            table[r][draw(st.integers(0, width - 1))] = draw(cell_text)
        elif op == "digit" and width > ID_COLUMN:
            number = table[r][ID_COLUMN]
            if number:
                i = draw(st.integers(0, len(number) - 1))
                table[r][ID_COLUMN] = number[:i] + draw(st.sampled_from("0123456789xX")) + number[i + 1 :]
        elif op == "blank" and width:
            table[r][draw(st.integers(0, width - 1))] = ""
        elif op == "delete":
            del table[r]
        elif op == "duplicate":
            table.insert(draw(st.integers(1, len(table))), list(table[r]))
    damaged = st.tuples(st.sampled_from(["truncate", "bytes"]), st.floats(0, 1), st.binary(min_size=1, max_size=8))
    damage = draw(st.one_of(st.just([]), st.just([]), st.lists(damaged, min_size=1, max_size=2)))
    return table, draw(st.sampled_from(FORMATS)), damage


def write(table: list[list[str]], fmt: str, directory: Path) -> Path:
    if fmt == "xlsx":
        path = directory / "h.xlsx"
        book = xlsxwriter.Workbook(path, {"strings_to_numbers": False})
        sheet = book.add_worksheet()
        for r, cells in enumerate(table):
            sheet.write_row(r, 0, cells)
        book.close()
        return path
    path = directory / "h.csv"
    with path.open("w", encoding=fmt, errors="replace", newline="") as handle:
        csv.writer(handle).writerows(table)
    return path


def damage(path: Path, steps: list[tuple[str, float, bytes]]) -> None:
    data = path.read_bytes()
    for op, where, junk in steps:
        at = int(len(data) * where)
        data = data[:at] if op == "truncate" else data[:at] + junk + data[at:]
    path.write_bytes(data)


def chinese(text: str) -> bool:
    return any(ord(ch) in CJK for ch in text)


def file_rows(path: Path) -> list[tuple[int, dict]]:
    """The data rows as the reader hands them to the importer (row number, raw cells)."""
    with open_table(path, HouseholdsImporter.spec.columns) as table:
        return list(table)


def id_hash(raw: dict) -> str | None:
    try:
        return idnumber.keyed_hash(values.parse_id_number(raw.get("id_number")))
    except ValueError:
        return None


def test_random_corruptions_never_crash_and_never_leave_partial_data():
    ugly_files.villages()

    @settings(
        max_examples=int(os.environ.get("ANJU_HYPOTHESIS_EXAMPLES", "40")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(corruption=corruptions(), mode=st.sampled_from(list(MODES)))
    def check(corruption, mode):
        table, fmt, steps = corruption
        with tempfile.TemporaryDirectory() as directory:
            path = write(table, fmt, Path(directory))
            damage(path, steps)
            before = registry_digest()
            known = set(Household.objects.values_list("id_hash", flat=True))
            try:
                result = run_import(kind="households", path=path, actor=None, **MODES[mode])
            except DomainError as refusal:  # the file as a whole: nothing read, nothing written
                event("refused")
                assert chinese(refusal.message), refusal.message
                assert registry_digest() == before
                return
            run = result.run
            assert run.total == run.created + run.updated + run.unchanged + run.invalid
            bad = {e.row for e in result.errors}
            assert len(bad) == run.invalid and result.error_count == len(result.errors)
            for error in result.errors:
                assert error.row > 0 and error.column and chinese(error.message), error

            written = mode == "skip_invalid" or (mode == "all_or_nothing" and not bad)
            event(f"{'written' if written else 'nothing written'}, {'bad rows' if bad else 'no bad row'}")
            if not written:
                assert registry_digest() == before
                return
            rows = file_rows(path)
            good = {id_hash(raw): raw for number, raw in rows if number not in bad}
            assert None not in good
            stored = dict(Household.objects.filter(id_hash__in=list(good)).values_list("id_hash", "head_name"))
            assert stored == {key: values.clean_text(raw["head_name"]) for key, raw in good.items()}
            assert Household.objects.count() == len(known) + run.created
            only_bad = {id_hash(raw) for number, raw in rows if number in bad} - set(good) - known - {None}
            assert not Household.objects.filter(id_hash__in=list(only_bad)).exists()

    check()
