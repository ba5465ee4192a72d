"""The columnar comparison (P6, issue 5): a plain CSV read by polars gives exactly what the reader's rows give, and
the vectorised GB 11643 check agrees with idnumber.validate."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.exceptions import ValidationError

from anju.core import idnumber
from anju.core.errors import DomainError
from anju.exchange.compare import _plain_csv, _texts, _valid_plain_ids, comparison_run, keyed_hashes, list_columns
from anju.exchange.models import ComparisonSet
from anju.exchange.reader import open_table
from anju.exchange.tests.test_compare import HEADER, build_case, write_list
from anju.exchange.values import clean_text
from anju.testing import factories as f

pytestmark = pytest.mark.django_db


def write_csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8-sig", extra: list[str] = ()) -> Path:
    """A title row, the header, the rows; `extra` lines are appended as they are (blank-looking rows)."""
    with path.open("w", encoding=encoding, newline="") as handle:
        out = csv.writer(handle, lineterminator="\r\n")
        out.writerow(["榆阳区低保对象名单（2024年）"])
        out.writerow(HEADER)
        out.writerows(rows)
    with path.open("a", encoding=encoding, newline="") as handle:
        handle.writelines(f"{line}\r\n" for line in extra)
    return path


def findings(outcome: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[str, int]]:
    items = list(
        outcome.comparison.items.order_by("id").values_list(
            "result",
            "row",
            "name",
            "id_masked",
            "id_hash",
            "category_code",
            "certified_on",
            "household_id",
            "division_id",
            "detail",
        )
    )
    issues = [(i.row, i.column, i.value, i.message, i.compared) for i in outcome.issues]
    return items, issues, outcome.comparison.counts


def test_plain_csv_gives_what_the_workbook_gives(tmp_path):
    """The polars path (plain CSV, also GBK) and the reader's path (xlsx; a CSV with a quoted cell) agree row for
    row: same findings in the same order, same problem rows and row numbers, same counts (P6)."""
    case = build_case()
    rows = [*case.rows, ["", "", "低保", "", "", "", ""], ["钱二", case.ids["ok_unsafe"], "低保、特困", "2099-1-1"]]
    extra = [",,,,,,", "  ,   ,,,,,"]  # rows with nothing but separators and spaces: skipped, but counted
    reference = findings(comparison_run(actor=case.manager, path=write_list(tmp_path / "l.xlsx", rows), source="民政"))
    plain = write_csv(tmp_path / "plain.csv", rows, extra=extra)
    gbk = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk", extra=extra)
    quoted = write_csv(tmp_path / "quoted.csv", [*rows[:-1], ["钱二", case.ids["ok_unsafe"], "低保,特困", "2099-1-1"]])
    for path, by_polars in ((plain, True), (gbk, True), (quoted, False)):
        with open_table(path, list_columns()) as table:
            assert (_plain_csv(path, table) is not None) is by_polars
    for path in (plain, gbk, quoted):
        assert findings(comparison_run(actor=case.manager, path=path, source="民政")) == reference
    _items, issues, counts = reference
    assert (14, "姓名", "", "姓名不能为空", False) in issues
    assert (15, "类别", "特困人员", "与前面的行重复（同一人同一类别）", True) not in issues  # 特困 is new for 钱二
    assert (15, "类别", "农村低保户", "与前面的行重复（同一人同一类别）", True) in issues
    assert any(i[0] == 15 and i[1] == "认定日期" and "不能是将来的日期" in i[3] for i in issues)
    assert counts["issues"] == len(issues)


def test_only_header_and_blank_rows(tmp_path):
    case = build_case()
    path = write_csv(tmp_path / "blank.csv", [], extra=[",,,", " , "])
    with pytest.raises(DomainError, match="只有表头"):
        comparison_run(actor=case.manager, path=path, source="民政")


def test_vectorised_gb11643_agrees_with_validate():
    """Valid numbers, one wrong digit, swaps, impossible and future birth dates, unknown address codes, X."""
    rng = random.Random(7)
    numbers = []
    for _ in range(3000):
        number = f.id_number(rng.choice(["610802", "610881", "612701", "990000", "110101"]))
        kind = rng.randrange(6)
        if kind == 1:
            i = rng.randrange(17)
            number = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
        elif kind == 2:
            number = number[:6] + rng.choice(["18791231", "19700230", "20991231", "00000101", "19000229"]) + number[14:]
            number = number[:17] + idnumber.check_char(number[:17])
        elif kind == 3:
            number = number[:17] + ("X" if number[17] != "X" else "0")
        elif kind == 4:
            first17 = idnumber.compose("610802", dt.date(1950, 1, 1), rng.randrange(1000))[:17]
            number = first17 + idnumber.check_char(first17)
        numbers.append(number)

    def valid(number: str) -> bool:
        try:
            return idnumber.validate(number) == number
        except ValidationError:
            return False

    expected = [valid(n) for n in numbers]
    assert _valid_plain_ids(pl.Series(numbers)).to_list() == expected
    assert 0 < sum(expected) < len(expected)


def test_keyed_hashes_are_the_keyed_hash(settings):
    """The spelt-out HMAC is idnumber.keyed_hash, for the configured key and for a key longer than a block."""
    numbers = [f.id_number() for _ in range(20)]
    assert keyed_hashes(numbers) == [idnumber.keyed_hash(n) for n in numbers]
    settings.ANJU_ID_HASH_KEY = "ab" * 100
    assert keyed_hashes(numbers[:3]) == [idnumber.keyed_hash(n) for n in numbers[:3]]


def test_texts_is_clean_text_of_every_cell():
    cells = ["张三", "  李 四  ", "王\u3000五", "ＡＢＣ１２３", "abc", "", None, "\t", "阿依·买买提", "兀", "X 1", "Xx"]
    expected = [clean_text(c) for c in cells]
    assert _texts(pl.Series(cells, dtype=pl.String)).to_list() == expected
    assert _texts(cells).to_list() == expected


def test_whole_registry_scope(tmp_path):
    """The system actor compares against every division (the scope range is left out of the SQL): 冯九 of 神木市 is
    now in the registry, and his second row repeats his first (P6)."""
    case = build_case()
    outcome = comparison_run(actor=None, path=write_list(tmp_path / "l.xlsx", case.rows), source="民政")
    comparison = outcome.comparison
    assert comparison.division.parent_id is None
    not_in = comparison.items.filter(result=ComparisonSet.NOT_IN_REGISTRY)
    assert [(i.name, i.detail) for i in not_in] == [("新人", "")]
    issues = {(i.row, i.column): i.message for i in outcome.issues}
    assert issues[(12, "类别")] == "与前面的行重复（同一人同一类别）" and (11, "行政村") not in issues
    assert not comparison.items.filter(household=case.households["shenmu"]).exists()  # graded A, 低保 as listed
