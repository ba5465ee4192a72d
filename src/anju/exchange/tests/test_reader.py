"""The reader takes the files people really send: title rows, merged and two-level headers, GBK, BOM, stray columns,
and refuses in Chinese what it cannot read (DESIGN.md "Spreadsheets")."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest
import xlsxwriter

from anju.core.errors import DomainError
from anju.exchange.reader import Column, normalize_header, open_table

COLUMNS = [
    Column("county", "县（市、区）", aliases=("县区",)),
    Column("name", "户主姓名", required=True),
    Column("id_number", "身份证号码", aliases=("身份证号",), required=True),
    Column("structure", "房屋结构", aliases=("结构",)),
    Column("graded_on", "鉴定日期"),
]


def read(path: Path) -> tuple[list[tuple[int, dict]], int]:
    with open_table(path, COLUMNS) as table:
        return list(table), table.header_row


def test_normalize_header_full_width_brackets_spaces_star():
    assert normalize_header(" 县（市、区）* ") == normalize_header("县(市、区)") == "县市、区"
    assert normalize_header("身份证 号码") == "身份证号码"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_title_rows_and_extra_columns(tmp_path, encoding):
    path = tmp_path / "f.csv"
    text = (
        "榆阳区农户信息表,,,\n填报单位：镇川镇,,,\n序号,户 主 姓 名,身份证号,县(市、区)\n"
        "1,张三 ,610802199001011234,榆阳区\n,,,\n2,李四,x,榆阳\n"
    )
    path.write_bytes(text.encode(encoding))
    rows, header = read(path)
    assert header == 3
    assert rows == [
        (4, {"name": "张三 ", "id_number": "610802199001011234", "county": "榆阳区"}),
        (6, {"name": "李四", "id_number": "x", "county": "榆阳"}),
    ]


def test_csv_tab_separated_utf16_as_excel_unicode_text(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("户主姓名\t身份证号码\n王五\t1\n".encode("utf-16"))
    assert read(path)[0] == [(2, {"name": "王五", "id_number": "1"})]


def test_short_csv_rows_give_blank_cells(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("户主姓名,身份证号码,房屋结构\n王五\n", encoding="utf-8")
    assert read(path)[0] == [(2, {"name": "王五", "id_number": None, "structure": None})]


def _xlsx(path: Path, build) -> Path:
    book = xlsxwriter.Workbook(path)
    build(book)
    book.close()
    return path


def test_xlsx_two_level_merged_header_under_a_title(tmp_path):
    def build(book):
        sheet = book.add_worksheet("农户")
        sheet.merge_range(0, 0, 0, 4, "2024年农户房屋信息")
        sheet.merge_range(2, 0, 3, 0, "户主姓名")  # spans both header rows
        sheet.merge_range(2, 1, 3, 1, "身份证号码")
        sheet.merge_range(2, 2, 2, 3, "房屋")  # upper cell over '结构' and '鉴定日期'
        sheet.write(3, 2, "结构")
        sheet.write(3, 3, "鉴定日期")
        sheet.write(4, 0, "张三")
        sheet.write(4, 1, "610802199001011234")
        sheet.write(4, 2, "砖混")
        sheet.write_datetime(4, 3, dt.datetime(2021, 5, 14), book.add_format({"num_format": "yyyy-mm-dd"}))
        sheet.write(5, 0, "李四")
        sheet.write_number(5, 3, 44330)

    rows, header = read(_xlsx(tmp_path / "f.xlsx", build))
    assert header == 4
    assert rows[0] == (
        5,
        {"name": "张三", "id_number": "610802199001011234", "structure": "砖混", "graded_on": dt.date(2021, 5, 14)},
    )
    assert rows[1][0] == 6 and rows[1][1]["graded_on"] == 44330 and rows[1][1]["structure"] in ("", None)


def test_xlsx_header_starting_in_a_later_column_and_after_an_instructions_sheet(tmp_path):
    def build(book):
        book.add_worksheet("说明").write(0, 0, "填表说明：身份证号码请设为文本")
        sheet = book.add_worksheet("数据")
        sheet.write_row(3, 2, ["户主姓名", "身份证号码"])
        sheet.write_row(4, 2, ["张三", "1"])

    rows, header = read(_xlsx(tmp_path / "f.xlsx", build))
    assert (header, rows) == (4, [(5, {"name": "张三", "id_number": "1"})])


def test_xlsx_file_with_csv_suffix_is_read_as_workbook(tmp_path):
    path = _xlsx(tmp_path / "f.xlsx", lambda b: b.add_worksheet().write_row(0, 0, ["户主姓名", "身份证号码", "x"]))
    (tmp_path / "f.xlsx").rename(tmp_path / "f.csv")
    with pytest.raises(DomainError, match="只有表头"):
        read(path.with_suffix(".csv"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("f.pdf", b"%PDF-1.4", "不支持的文件类型"),
        ("f.csv", b"", "文件是空的"),
        ("f.xlsx", b"", "文件是空的"),
        ("f.csv", b"\n\n ,,\n", "没有任何数据"),
        ("f.csv", "户主姓名,身份证号码\n".encode(), "只有表头"),
        ("f.csv", "姓名,电话\n张三,1\n".encode(), "未找到表头行"),
        ("f.xlsx", b"a,b\n1,2\n", "内容不是Excel表格"),
        ("f.xlsx", b"PK\x03\x04" + b"\x00" * 100, "文件可能已损坏"),
        ("f.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "文件可能已损坏"),
        ("f.csv", b"\x00\x01\x02\xff\xfe\x00", "二进制"),
    ],
)
def test_unusable_files_refused_in_chinese(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DomainError, match=message):
        read(path)


def test_empty_workbook_refused(tmp_path):
    path = _xlsx(tmp_path / "f.xlsx", lambda b: b.add_worksheet())
    with pytest.raises(DomainError, match="没有任何数据"):
        read(path)


def test_missing_file_refused(tmp_path):
    with pytest.raises(DomainError, match="无法打开文件"):
        read(tmp_path / "nope.csv")


def test_big_csv_is_streamed_not_held(tmp_path):
    """A 50 MB CSV is read in constant memory: Python allocations stay far below the file's size."""
    path = tmp_path / "big.csv"
    line = "张三,610802199001011234,砖混,2021-05-14," + "备注" * 20 + "\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("户主姓名,身份证号码,房屋结构,鉴定日期,备注\n")
        count = 50_000_000 // len(line.encode()) + 1
        for _ in range(count):
            handle.write(line)
    assert path.stat().st_size >= 50_000_000
    tracemalloc.start()
    try:
        with open_table(path, COLUMNS) as table:
            seen = sum(1 for _ in table)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == count
    assert peak < 10_000_000
