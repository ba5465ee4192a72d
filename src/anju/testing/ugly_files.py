"""A library of ugly real-world households files (issue 5 "Tests"), each written by a real writer into a directory.

    from anju.testing import ugly_files
    ugly_files.villages()                        # 高家沟村 and 李家畔村 under 榆阳区/鼓楼街道 (the files' places)
    ugly = ugly_files.LIBRARY["gbk_csv"](tmp_path)
    ugly.path                                    # the file: .xlsx by xlsxwriter, .xls by xlwt, .csv by the csv module
    ugly.good, ugly.errors, ugly.refused         # what the import must say about it

Files are what people send: title rows above the header, a two-level merged header, GBK, a BOM, every date
spelling of DESIGN.md and Excel serials, full-width digits, stray spaces, lowercase x, duplicate IDs, a bad
checksum, an unknown village, sizes out of range, an empty file, headers only, a renamed .docx/.pdf, a .txt, a
truncated .xlsx, an .xls. `big_csv` writes a file of a given size for the constant-memory test, and
`registry_digest` fingerprints everything an import may write, to prove a refused import wrote nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from anju.audit.models import Event
from anju.core import idnumber
from anju.divisions.models import Division
from anju.registry.models import GradeRecord, House, Household, HouseholdCategory
from anju.testing import factories

HEADER = ["县（市、区）", "乡镇（街道）", "行政村", "村民小组", "户主姓名", "身份证号码", "联系电话", "家庭人口"]
HEADER += ["重点对象类型", "房屋结构", "建造年份", "层数", "建筑面积", "安全等级", "鉴定日期", "是否闲置", "备注"]
TITLE = "榆阳区农村住房安全信息采集表"
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
#: the date spellings of DESIGN.md, every one 2021-05-14 (44330 is its Excel serial)
DATE_SPELLINGS = ("2021-05-14", "2021/5/14", "2021.5.14", "2021年5月14日", "20210514", "44330")
GRADED_ON = dt.date(2021, 5, 14)


def villages() -> tuple[Division, Division]:
    """The two villages the files name (a second one so an unknown name has a near neighbour and a far one)."""
    return (
        factories.village(factories.YUYANG_TOWN, 1, name="高家沟村"),
        factories.village(factories.YUYANG_TOWN, 2, name="李家畔村"),
    )


def person(n: int) -> str:
    """The n-th valid ID number (GB 11643 checksum), born 1960 onwards in 榆阳区."""
    return idnumber.compose("610802", dt.date(1960, 1, 1) + dt.timedelta(days=n // 1000), n % 1000)


def person_with_x(start: int = 0) -> tuple[int, str]:
    """The first n ≥ start whose ID ends in the check character X."""
    n = next(n for n in range(start, start + 1000) if person(n).endswith("X"))
    return n, person(n)


def bad_checksum(number: str) -> str:
    """The number with a wrong check character."""
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def household_row(n: int, **cells: object) -> dict[str, object]:
    """A valid row of the households file for person(n); keyword cells override (by header)."""
    base: dict[str, object] = {
        "县（市、区）": "榆阳区",
        "乡镇（街道）": "鼓楼街道",
        "行政村": "高家沟村",
        "村民小组": "一组",
        "户主姓名": f"张{n}",
        "身份证号码": person(n),
        "联系电话": "13900000000",
        "家庭人口": "3",
        "重点对象类型": "",
        "房屋结构": "砖混",
        "建造年份": "1998",
        "层数": "1",
        "建筑面积": "80.5",
        "安全等级": "",
        "鉴定日期": "",
        "是否闲置": "否",
        "备注": "",
    }
    return base | cells


# writers ------------------------------------------------------------------------------------------------------------


def write_csv(
    path: Path,
    rows: Sequence[dict[str, object]],
    *,
    encoding: str = "utf-8",
    titles: Sequence[str] = (),
    header: Sequence[str] | None = None,
) -> Path:
    """A CSV as Excel or WPS saves it: optional title lines, the header, the rows (`utf-8-sig` writes a BOM)."""
    header = list(header or (rows[0] if rows else HEADER))
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        for title in titles:
            writer.writerow([title] + [""] * (len(header) - 1))
        writer.writerow(header)
        writer.writerows([row.get(h, "") for h in header] for row in rows)
    return path


def write_xlsx(path: Path, rows: Sequence[dict[str, object]], *, titles: Sequence[str] = ()) -> Path:
    """An .xlsx with merged title rows above the header; cells are written as their Python type (numbers,
    datetimes and text as Excel stores them)."""
    header = list(rows[0]) if rows else HEADER
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("农户信息")
    dates = book.add_format({"num_format": "yyyy/m/d"})
    for r, title in enumerate(titles):
        sheet.merge_range(r, 0, r, len(header) - 1, title)
    sheet.write_row(len(titles), 0, header)
    for r, row in enumerate(rows, start=len(titles) + 1):
        for c, name in enumerate(header):
            value = row.get(name)
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, dates)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    book.close()
    return path


#: the two-level header of many county templates: upper merged cells over groups, lower cells naming the columns
TWO_LEVEL = [
    ("区划代码", None),
    ("户主信息", "姓名"),
    ("户主信息", "身份证号码"),
    ("家庭人口", None),
    ("房屋信息", "结构"),
    ("房屋信息", "年份"),
    ("房屋信息", "面积"),
]


def write_two_level_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """Title row, then 户主信息 merged over 姓名/身份证号码 and 房屋信息 over 结构/年份/面积; single columns merged
    down over both header rows. Rows are cells in TWO_LEVEL's order; the header occupies sheet rows 2–3."""
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Sheet1")
    sheet.merge_range(0, 0, 0, len(TWO_LEVEL) - 1, TITLE)
    c = 0
    while c < len(TWO_LEVEL):
        upper, lower = TWO_LEVEL[c]
        if lower is None:
            sheet.merge_range(1, c, 2, c, upper)
            c += 1
            continue
        span = [i for i, (u, _l) in enumerate(TWO_LEVEL) if u == upper]
        sheet.merge_range(1, span[0], 1, span[-1], upper)
        for i in span:
            sheet.write(2, i, TWO_LEVEL[i][1])
        c = span[-1] + 1
    for r, cells in enumerate(rows, start=3):
        sheet.write_row(r, 0, list(cells))
    book.close()
    return path


def write_xls(path: Path, rows: Sequence[dict[str, object]], *, titles: Sequence[str] = ()) -> Path:
    """An Excel 97–2003 .xls (xlwt, a real BIFF8 writer) with merged title rows; dates as date cells."""
    import xlwt

    header = list(rows[0]) if rows else HEADER
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("农户信息")
    dates = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, title in enumerate(titles):
        sheet.write_merge(r, r, 0, len(header) - 1, title)
    for c, name in enumerate(header):
        sheet.write(len(titles), c, name)
    for r, row in enumerate(rows, start=len(titles) + 1):
        for c, name in enumerate(header):
            value = row.get(name)
            if isinstance(value, dt.date):
                sheet.write(r, c, value, dates)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    book.save(str(path))
    return path


def write_docx(path: Path, text: str = "关于农村危房改造的通知") -> Path:
    """A minimal but genuine Word document (a zip with the OOXML parts Word writes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
            'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
            'main+xml"/></Types>',
        )
        book.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            f'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>',
        )
    return path


def write_pdf(path: Path) -> Path:
    """A one-page PDF (what a scanned or printed form arrives as)."""
    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    body += b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    path.write_bytes(body)
    return path


def truncate(path: Path, keep: float = 0.6) -> Path:
    """Cut the file (a download or a USB copy that stopped half-way)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def big_csv(path: Path, size: int, first: int = 1_000_000) -> int:
    """A households CSV of at least `size` bytes (valid rows with a note, distinct IDs from person(first) on, so
    apart from the persons of the other files) written in blocks; returns its rows."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        note = "房屋北侧墙体有裂缝，屋面局部漏雨，已告知户主雨季注意安全；村委会每月入户查看一次，拟列入下一批改造计划"
        while handle.tell() < size:
            block = [household_row(first + n, 备注=note).values() for n in range(count, count + 5000)]
            writer.writerows(block)
            count += len(block)
    return count


# the library ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ugly:
    """One ugly file and what an import must make of it.

    good: rows that import (created, as no file's person is registered beforehand); errors: (row number as the
    spreadsheet shows it, column header, a fragment of the Chinese reason); refused: a fragment of the file-level
    refusal (DomainError) — then nothing is read at all.
    """

    path: Path
    good: int = 0
    errors: tuple[tuple[int, str, str], ...] = ()
    refused: str = ""
    #: what the written households must look like: {ID number: {field: value}} (checked after a write)
    expect: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def bad_rows(self) -> int:
        return len({row for row, _c, _m in self.errors})


def _title_rows(d: Path) -> Ugly:
    titles = [TITLE, "填报单位：鼓楼街道办事处（盖章）        填报日期：2024年3月", ""]
    rows = [household_row(n) for n in (1, 2, 3)]
    return Ugly(write_xlsx(d / "标题行.xlsx", rows, titles=titles), good=3, expect={person(2): {"head_name": "张2"}})


def _two_level(d: Path) -> Ugly:
    village = factories.YUYANG_TOWN[:9] + "201"
    rows = [
        [village, "王五", person(11), 4, "砖木", 1987, 96.5],
        [int(village), "赵六", person(12), "2", "土窑洞", "1975", "45"],
    ]
    expect = {
        person(11): {"head_name": "王五", "size": 4, "structure": "brick_wood", "build_year": 1987},
        person(12): {"head_name": "赵六", "size": 2, "structure": "earth_cave", "build_year": 1975},
    }
    return Ugly(write_two_level_xlsx(d / "两级表头.xlsx", rows), good=2, expect=expect)


def _gbk_csv(d: Path) -> Ugly:
    rows = [household_row(21, 户主姓名="刘七", 重点对象类型="低保户、特困人员"), household_row(22, 户主姓名="郭八")]
    path = write_csv(d / "民政导出.csv", rows, encoding="gbk", titles=[TITLE])
    return Ugly(path, good=2, expect={person(21): {"head_name": "刘七"}})


def _bom_csv(d: Path) -> Ugly:
    rows = [household_row(31, 户主姓名="薛九"), household_row(32)]
    path = write_csv(d / "带BOM.csv", rows, encoding="utf-8-sig")
    return Ugly(path, good=2, expect={person(31): {"head_name": "薛九"}})


def _date_spellings_csv(d: Path) -> Ugly:
    rows = [household_row(40 + i, 安全等级="B", 鉴定日期=text) for i, text in enumerate(DATE_SPELLINGS)]
    expect = {person(40 + i): {"graded_on": GRADED_ON, "grade": "B"} for i in range(len(DATE_SPELLINGS))}
    return Ugly(write_csv(d / "日期写法.csv", rows), good=len(rows), expect=expect)


def _excel_dates(d: Path) -> Ugly:
    """Dates as Excel date cells, as serial numbers and as serial text."""
    spellings: list[object] = [dt.date(2021, 5, 14), 44330, 44330.0, "44330", "2021年5月14日"]
    rows = [household_row(50 + i, 安全等级="C", 鉴定日期=value) for i, value in enumerate(spellings)]
    expect = {person(50 + i): {"graded_on": GRADED_ON, "grade": "C"} for i in range(len(spellings))}
    return Ugly(write_xlsx(d / "Excel日期.xlsx", rows), good=len(rows), expect=expect)


def _full_width(d: Path) -> Ugly:
    rows = [
        household_row(
            61,
            身份证号码=person(61).translate(FULL_WIDTH),
            家庭人口="３",
            建造年份="１９９８",
            建筑面积="８０．５",
            联系电话="１３９００００００００",
        )
    ]
    expect = {person(61): {"size": 3, "build_year": 1998, "phone": "13900000000"}}
    return Ugly(write_csv(d / "全角数字.csv", rows), good=1, expect=expect)


def _spaces(d: Path) -> Ugly:
    spaced = person(71)
    rows = [
        household_row(
            71,
            户主姓名="  王   小五 ",
            身份证号码=f" {spaced[:6]} {spaced[6:14]} {spaced[14:]} ",
            行政村="高家沟村 ",
            家庭人口=" 3 ",
            房屋结构="砖混 ",
        )
        | {"乡镇（街道）": " 鼓楼  街道"}
    ]
    return Ugly(write_csv(d / "空格.csv", rows), good=1, expect={spaced: {"head_name": "王 小五", "size": 3}})


def _lowercase_x(d: Path) -> Ugly:
    n, number = person_with_x(100)
    rows = [household_row(n, 身份证号码=number.lower())]
    return Ugly(write_csv(d / "小写x.csv", rows), good=1, expect={number: {"head_name": f"张{n}"}})


def _duplicate_ids(d: Path) -> Ugly:
    rows = [household_row(81), household_row(82), household_row(83, 身份证号码=person(81))]
    return Ugly(write_csv(d / "重复身份证.csv", rows), good=2, errors=((4, "身份证号码", "与第2行重复"),))


def _bad_checksum(d: Path) -> Ugly:
    rows = [household_row(91), household_row(92, 身份证号码=bad_checksum(person(92)))]
    return Ugly(write_csv(d / "校验位错.csv", rows), good=1, errors=((3, "身份证号码", "校验位"),))


def _unknown_village(d: Path) -> Ugly:
    rows = [household_row(101), household_row(102, 行政村="高家村")]
    errors = ((3, "行政村", "相近的有"), (3, "行政村", "高家沟村"))
    return Ugly(write_csv(d / "未知村.csv", rows), good=1, errors=errors)


def _sizes_out_of_range(d: Path) -> Ugly:
    rows = [household_row(111, 家庭人口="0"), household_row(112), household_row(113, 家庭人口="31")]
    errors = ((2, "家庭人口", "家庭人口应在1–30之间"), (4, "家庭人口", "家庭人口应在1–30之间"))
    return Ugly(write_csv(d / "家庭人口.csv", rows), good=1, errors=errors)


def _empty(d: Path) -> Ugly:
    path = d / "空文件.xlsx"
    path.write_bytes(b"")
    return Ugly(path, refused="文件是空的")


def _headers_only(d: Path) -> Ugly:
    return Ugly(write_xlsx(d / "只有表头.xlsx", [], titles=[TITLE]), refused="只有表头")


def _headers_only_csv(d: Path) -> Ugly:
    return Ugly(write_csv(d / "只有表头.csv", [], header=HEADER), refused="只有表头")


def _docx_renamed(d: Path) -> Ugly:
    return Ugly(write_docx(d / "通知.xlsx"), refused="无法读取表格文件")


def _docx(d: Path) -> Ugly:
    return Ugly(write_docx(d / "通知.docx"), refused="不支持的文件类型「.docx」")


def _pdf_renamed(d: Path) -> Ugly:
    return Ugly(write_pdf(d / "扫描件.xlsx"), refused="内容不是Excel表格")


def _txt(d: Path) -> Ugly:
    path = d / "名单.txt"
    path.write_text("户主姓名 身份证号码\n张三 610802196001010012\n", encoding="utf-8")
    return Ugly(path, refused="不支持的文件类型「.txt」")


def _prose_as_csv(d: Path) -> Ugly:
    path = d / "说明.csv"
    path.write_text("请各村于月底前报送农户信息。\n联系人：张三，电话13900000000\n", encoding="utf-8")
    return Ugly(path, refused="未找到表头行")


def _truncated_xlsx(d: Path) -> Ugly:
    path = write_xlsx(d / "传了一半.xlsx", [household_row(n) for n in range(120, 160)], titles=[TITLE])
    return Ugly(truncate(path), refused="文件可能已损坏")


def _xls(d: Path) -> Ugly:
    rows = [household_row(131, 户主姓名="高十", 安全等级="C", 鉴定日期=GRADED_ON), household_row(132, 家庭人口=3)]
    rows.append(household_row(133, 家庭人口=0))
    path = write_xls(d / "老版本.xls", rows, titles=[TITLE])
    expect = {person(131): {"head_name": "高十", "grade": "C", "graded_on": GRADED_ON}}
    return Ugly(path, good=2, errors=((5, "家庭人口", "家庭人口应在1–30之间"),), expect=expect)


def _id_as_number(d: Path) -> Ugly:
    """IDs typed into a General-format cell: Excel keeps 15 significant digits and shows 6.10802E+17."""
    rows = [household_row(141), household_row(142, 身份证号码=float(person(142)[:17] + "0"))]
    return Ugly(write_xlsx(d / "身份证存成数字.xlsx", rows), good=1, errors=((3, "身份证号码", "被存成了数字"),))


def _everything_wrong_at_once(d: Path) -> Ugly:
    """Title rows, GBK, and several bad rows together: every bad row is reported, not just the first."""
    rows = [
        household_row(151),
        household_row(152, 身份证号码=bad_checksum(person(152))),
        household_row(153, 行政村="不存在村"),
        household_row(154, 家庭人口="31"),
        household_row(155, 户主姓名=""),
        household_row(156, 身份证号码=person(151)),
        household_row(157, 房屋结构="茅草房"),
        household_row(158, 安全等级="C"),
        household_row(159),
    ]
    errors = (
        (5, "身份证号码", "校验位"),
        (6, "行政村", "不存在村"),
        (7, "家庭人口", "家庭人口应在1–30之间"),
        (8, "户主姓名", "不能为空"),
        (9, "身份证号码", "与第4行重复"),
        (10, "房屋结构", "应为以下之一：砖混"),
        (11, "鉴定日期", "填写了安全等级时必须填写鉴定日期"),
    )
    path = write_csv(d / "问题很多.csv", rows, encoding="gbk", titles=[TITLE, "填报单位：鼓楼街道"])
    return Ugly(path, good=2, errors=errors)


LIBRARY: dict[str, Callable[[Path], Ugly]] = {
    "title_rows": _title_rows,
    "two_level_merged_header": _two_level,
    "gbk_csv": _gbk_csv,
    "utf8_bom_csv": _bom_csv,
    "date_spellings": _date_spellings_csv,
    "excel_dates": _excel_dates,
    "full_width_digits": _full_width,
    "spaces": _spaces,
    "lowercase_x": _lowercase_x,
    "duplicate_ids": _duplicate_ids,
    "bad_checksum": _bad_checksum,
    "unknown_village": _unknown_village,
    "size_0_and_31": _sizes_out_of_range,
    "id_stored_as_number": _id_as_number,
    "everything_wrong": _everything_wrong_at_once,
    "xls": _xls,
    "empty_file": _empty,
    "headers_only": _headers_only,
    "headers_only_csv": _headers_only_csv,
    "docx_renamed_xlsx": _docx_renamed,
    "docx": _docx,
    "pdf_renamed_xlsx": _pdf_renamed,
    "txt": _txt,
    "prose_csv": _prose_as_csv,
    "truncated_xlsx": _truncated_xlsx,
}


def registry_digest() -> tuple[tuple[int, ...], str]:
    """Row counts and a SHA-256 of everything a households import may write (households, houses, categories, grade
    records, audit events): equal before and after ⇔ nothing was written."""
    digest = hashlib.sha256()
    counts = []
    queries = [
        Household.objects.order_by("id").values_list(
            "id", "division_id", "id_hash", "head_name", "phone", "size", "group_name", "note", "updated_at"
        ),
        House.objects.order_by("id").values_list(
            "id", "household_id", "structure", "build_year", "floor_area", "grade", "graded_on", "updated_at"
        ),
        HouseholdCategory.objects.order_by("id").values_list("id", "household_id", "category_id", "ended_on"),
        GradeRecord.objects.order_by("id").values_list("id", "house_id", "grade", "graded_on"),
        Event.objects.order_by("id").values_list("id", "action"),
    ]
    for query in queries:
        rows = list(query)
        counts.append(len(rows))
        digest.update(repr(rows).encode())
    return tuple(counts), digest.hexdigest()
