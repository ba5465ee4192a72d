"""The households and statistics workbooks, written and read back with a real xlsx reader (python-calamine).

A fixed statistics day keeps "late" (P19) exact whatever the real date is. LibreOffice, when installed, converts
each workbook to CSV as a check that it opens (`soffice --headless --convert-to csv`); skipped otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import CaseState
from anju.core import idnumber
from anju.divisions.models import Division
from anju.exchange import xlsx
from anju.exchange.exports import households_export, statistics, statistics_export
from anju.registry import services as registry
from anju.registry.models import GradeSource, TargetCategory
from anju.testing import cases, factories

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
HEADER = [
    "区划代码", "县（市、区）", "乡镇（街道）", "行政村", "村民小组", "户主姓名", "身份证号码", "联系电话", "家庭人口",
    "重点对象类型", "房屋结构", "建造年份", "层数", "建筑面积", "安全等级", "鉴定日期", "住房保障方式", "是否闲置",
    "经度", "纬度", "备注",
]  # fmt: skip


def sheets(content: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def households(actor, filters=None, **kwargs) -> list[list]:
    out = io.BytesIO()
    households_export(actor=actor, filters=filters, output=out, **kwargs)
    return sheets(out.getvalue())["农户与房屋"]


def category(code: str) -> TargetCategory:
    return TargetCategory.objects.get(code=code)


@pytest.fixture
def world():
    """榆阳: a household with two houses and two categories, one without a house, one with an unrated house, one
    with an ended category (sibling town, D); 神木: one household."""
    home = factories.village(factories.YUYANG_TOWN, 1)
    sibling = factories.village(factories.YUYANG_TOWN_2, 1)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    actor = factories._system(home)
    two = factories.household(home, head_name="王二房", phone="13800000000", size=5, note="两处房屋")
    cave = factories.house(
        two, structure="earth_cave", build_year=1978, storeys=1, floor_area="60.5", is_idle=True,
        longitude="109.734567", latitude="38.285431",
    )  # fmt: skip
    registry.house_grade(actor=actor, house=cave, grade="C", graded_on=dt.date(2025, 3, 1), source=GradeSource.MANUAL)
    brick = factories.house(two, structure="brick_concrete", build_year=2012, storeys=2, floor_area="120")
    registry.house_grade(actor=actor, house=brick, grade="A", graded_on=dt.date(2025, 3, 2), source=GradeSource.MANUAL)
    for code in ("tekun", "dibao"):
        registry.household_category_add(actor=actor, household=two, category=category(code), certified_on=None)
    none = factories.household(home, head_name="李无房", security_method="relatives")
    unrated = factories.household(home, head_name="赵未鉴")
    factories.house(unrated, structure="stone_cave")
    ended = factories.household(sibling, head_name="钱终止")
    membership = registry.household_category_add(
        actor=actor, household=ended, category=category("dibao"), certified_on=dt.date(2021, 1, 1)
    )
    registry.household_category_end(actor=actor, membership=membership, ended_on=dt.date(2024, 1, 1))
    d_house = factories.house(ended, structure="raw_earth")
    registry.house_grade(
        actor=actor, house=d_house, grade="D", graded_on=dt.date(2025, 8, 1), source=GradeSource.MANUAL
    )
    far = factories.household(shenmu, head_name="孙神木")
    factories.house(far, structure="frame")
    return {"home": home, "sibling": sibling, "two": two, "none": none, "unrated": unrated, "ended": ended}


def test_households_columns_one_row_per_house_real_types(world):
    """DESIGN "Spreadsheets" → Households: the import headers; two houses → two rows; dates, numbers as such."""
    county = factories.user("yy_county", factories.YUYANG, "county_manager")
    rows = households(county)
    assert rows[0] == HEADER
    names = [r[5] for r in rows[1:]]
    assert sorted(names) == sorted(["王二房", "王二房", "李无房", "赵未鉴", "钱终止"])  # not 神木
    two = [r for r in rows[1:] if r[5] == "王二房"]
    home = world["home"]
    cave, brick = two
    assert cave[:4] == [home.code, "榆阳区", home.parent.name, home.name]
    assert cave[4:9] == ["一组", "王二房", world["two"].id_masked, "13800000000", 5.0]
    assert "*" in cave[6]
    assert cave[9] == "农村低保户、农村分散供养特困人员"  # category order, joined with 、
    assert cave[10:16] == ["土窑洞", 1978.0, 1.0, 60.5, "C", dt.date(2025, 3, 1)]
    assert cave[16:] == ["自有住房", "是", 109.734567, 38.285431, "两处房屋"]
    assert brick[10:15] == ["砖混", 2012.0, 2.0, 120.0, "A"] and brick[17] == "否" and brick[18] == ""
    assert brick[:10] == cave[:10]  # the household's columns repeat on each of its houses
    none = next(r for r in rows[1:] if r[5] == "李无房")
    assert none[10:16] == ["", "", "", "", "", ""] and none[16] == "投亲靠友" and none[17:20] == ["", "", ""]
    unrated = next(r for r in rows[1:] if r[5] == "赵未鉴")
    assert unrated[14:16] == ["", ""]  # DESIGN: blank = 未鉴定
    ended = next(r for r in rows[1:] if r[5] == "钱终止")
    assert ended[9] == "" and ended[14] == "D"  # an ended category is not exported


def test_households_cell_formats_text_dates_numbers(world):
    """Opens cleanly: a village code and an ID stay text, dates carry yyyy-mm-dd, the header is frozen."""
    out = io.BytesIO()
    households_export(actor=None, filters=None, output=out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as book:
        styles = book.read("xl/styles.xml").decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert 'formatCode="yyyy-mm-dd"' in styles and 'formatCode="0.000000"' in styles and 'formatCode="@"' in styles
    assert 'state="frozen"' in sheet and 'ySplit="1"' in sheet and "<autoFilter" in sheet
    assert '<col min="7" max="7" width="21.7109375"' in sheet  # 身份证号码 wide enough to read
    rows = sheets(out.getvalue())["农户与房屋"]
    assert len(rows) == 1 + 6  # the system actor exports the whole city: 5 households, one with two houses
    assert all(isinstance(r[0], str) and len(r[0]) == 12 for r in rows[1:])


def test_households_filters_are_the_list_pages(world):
    """The cleaned data of the list page's form, through `filter_households`: division, category, grade,
    structure, idle, target, name."""
    from anju.registry.filters import HouseholdFilterForm

    county = factories.user("yy_county", factories.YUYANG, "county_manager")

    def names(**data) -> list[str]:
        form = HouseholdFilterForm(data)
        assert form.is_valid(), form.errors
        return sorted({r[5] for r in households(county, form.cleaned_data)[1:]})

    assert names(division=factories.YUYANG_TOWN_2) == ["钱终止"]
    assert names(category="tekun") == ["王二房"]
    assert names(grade="C") == ["王二房"]
    assert len(households(county, {"grade": "C"})) == 1 + 2  # a listed household comes with all its houses
    assert names(structure="stone_cave") == ["赵未鉴"]
    assert names(idle="1") == ["王二房"]
    assert names(target="1") == ["王二房"]
    assert names(target="0") == ["李无房", "赵未鉴", "钱终止"]
    assert names(q="李") == ["李无房"]
    assert names(q=idnumber.decrypt(world["unrated"].id_cipher)) == ["赵未鉴"]


def test_households_full_ids_need_the_permission_and_are_counted(world):
    """PIPL: whole ID numbers only for `registry.view_id`, on request, and the audit event says how many."""
    county = factories.user("yy_county", factories.YUYANG, "county_manager")
    village = factories.user("yy_village", world["home"].code, "village_staff")
    with pytest.raises(PermissionDenied):
        households(village, full_id=True)
    rows = households(county, full_id=True)
    full = idnumber.decrypt(world["two"].id_cipher)
    assert {r[6] for r in rows[1:] if r[5] == "王二房"} == {full}
    event = Event.objects.filter(action=Action.HOUSEHOLDS_EXPORTED).latest("id")
    assert event.actor_id == county.pk
    assert (event.extra["households"], event.extra["rows"], event.extra["full_ids"]) == (4, 5, 4)
    households(village)
    event = Event.objects.filter(action=Action.HOUSEHOLDS_EXPORTED).latest("id")
    assert (event.actor_id, event.extra["households"], event.extra["full_ids"]) == (village.pk, 3, 0)


def test_households_queries_do_not_grow_with_the_households(world):
    """Chunks of households: one query for the chunk's houses and one for its categories, never one per row."""
    county = factories.user("yy_county", factories.YUYANG, "county_manager")
    households(county)  # warm-up: the audit chain's head and other one-off reads
    with CaptureQueriesContext(connection) as small:
        households(county)
    for _n in range(12):
        factories.house(factories.household(world["home"]))
    with CaptureQueriesContext(connection) as large:
        households(county)
    assert len(large) == len(small)


def test_table_continues_on_a_new_sheet_at_the_row_limit(monkeypatch):
    """Excel's 1,048,576 rows per sheet: a longer table goes on in "农户（2）" with the same header."""
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)
    out = io.BytesIO()
    book, styles = xlsx.workbook(out, title="t")
    table = xlsx.Table(book, styles, "农户", [("序号", 6), ("日期", 11)])
    for n in range(1, 8):
        table.add([n, dt.date(2021, 5, n)])
    table.close()
    book.close()
    got = sheets(out.getvalue())
    assert list(got) == ["农户", "农户（2）", "农户（3）"]
    assert got["农户"] == [["序号", "日期"], [1.0, dt.date(2021, 5, 1)], [2.0, dt.date(2021, 5, 2)],
                         [3.0, dt.date(2021, 5, 3)]]  # fmt: skip
    assert got["农户（3）"] == [["序号", "日期"], [7.0, dt.date(2021, 5, 7)]]
    assert table.rows == 7


def test_write_row_types():
    """Text stays text (no number guessing), Decimal money 0.00, fixed places, bool 是/否, None empty."""
    out = io.BytesIO()
    book, styles = xlsx.workbook(out, title="t")
    sheet = book.add_worksheet("s")
    xlsx.write_row(sheet, 0, ["007", 3, Decimal("12.5"), xlsx.decimals(Decimal("1.2"), 3), True, None, ""], styles)
    book.close()
    assert sheets(out.getvalue())["s"] == [["007", 3.0, 12.5, 1.2, "是"]]


# -- statistics ---------------------------------------------------------------------------------------------------


@pytest.fixture
def ledger(world):
    """Two cases in the home village (P19): a C house appraised in March 2025 → due 30 Nov 2025, late on TODAY;
    a D house appraised in August 2026 → due 31 May 2027, not late."""
    late = cases.dangerous_case(factories.house(world["none"]), grade="C", appraised_on=dt.date(2025, 3, 1))
    fresh = cases.dangerous_case(factories.house(world["unrated"]), grade="D", appraised_on=dt.date(2026, 8, 1))
    return {"late": late, "fresh": fresh}


def stats_rows(content: bytes, sheet: str = "分区划统计") -> dict[str, dict[str, float]]:
    """Each row by division name → {column title: value} (the two header rows joined by the column title)."""
    rows = sheets(content)[sheet]
    titles = rows[2]
    return {r[1].strip("\u3000"): dict(zip(titles, r, strict=True)) for r in rows[3:]}


def test_statistics_per_child_and_total(world, ledger):
    county = factories.user("yy_county", factories.YUYANG, "county_manager")
    yuyang = Division.objects.get(code=factories.YUYANG)
    out = io.BytesIO()
    statistics_export(actor=county, division=yuyang, output=out, today=TODAY)
    content = out.getvalue()
    book = sheets(content)
    assert list(book) == ["分区划统计", "全部下辖区划", "说明"]
    title = book["分区划统计"][0][0]
    assert "榆阳区" in title and TODAY.isoformat() in title
    rows = stats_rows(content)
    towns = list(Division.objects.filter(parent=yuyang).order_by("code").values_list("name", flat=True))
    assert list(rows) == [*towns, "合计"]
    home, sibling, total = rows[world["home"].parent.name], rows[world["sibling"].parent.name], rows["合计"]
    assert home["农户数"] == 3 and sibling["农户数"] == 1 and total["农户数"] == 4
    assert home["合计"] == 1 and sibling["合计"] == 0  # 重点对象户: the ended category does not count
    assert home["农村低保户"] == 1 and home["农村分散供养特困人员"] == 1 and home["突发严重困难户"] == 0
    # houses: the two of 王二房, the unrated stone cave, and the two case houses (C, D) → 5; 钱终止's D house
    assert home["房屋数"] == 5 and home["A级"] == 1 and home["C级"] == 2 and home["D级"] == 1 and home["未鉴定"] == 1
    assert home["C级、D级"] == 3 and sibling["C级、D级"] == 1 and total["C级、D级"] == 4
    assert home["土窑洞"] == 3 and home["砖混"] == 1 and home["石窑洞"] == 1 and sibling["生土"] == 1
    assert home["台账数"] == 2 and home["已鉴定"] == 2 and home["逾期未完成"] == 1  # P19: due 2025-11-30
    assert total["房屋数"] == sum(total[s] for s in ("A级", "B级", "C级", "D级", "未鉴定"))
    whole = {r[0]: r for r in book["全部下辖区划"][3:]}
    titles = book["全部下辖区划"][2]
    households_at = titles.index("农户数")
    assert whole[factories.YUYANG][households_at] == 4 and whole[world["home"].code][households_at] == 3
    village = whole[world["home"].code]
    assert village[1:3] == ["\u3000\u3000" + world["home"].name, "行政村（社区）"]  # indented by level
    assert "P19" in " ".join(r[1] for r in book["说明"][1:])
    event = Event.objects.filter(action=Action.STATISTICS_EXPORTED).latest("id")
    assert (event.actor_id, event.division_code, event.extra["households"]) == (county.pk, factories.YUYANG, 4)


def test_statistics_scope_and_a_village(world, ledger):
    """A user counts only their subtree; a village's table is its own single row."""
    city = Division.objects.get(code="610800000000")
    other = factories.user("sm_county", factories.SHENMU, "county_manager")
    whole = statistics(actor=None, division=city, today=TODAY)
    assert whole.total.counts["households"] == 5
    seen = statistics(actor=other, division=city, today=TODAY)
    assert seen.total.counts["households"] == 1
    assert {r.name: r.counts["households"] for r in seen.rows}["榆阳区"] == 0
    village = statistics(actor=None, division=world["home"], today=TODAY)
    assert [r.name for r in village.rows] == [world["home"].name]
    assert village.total.counts["cases"] == 2 and village.total.counts["late"] == 1


def test_statistics_cancelled_cases_count_under_their_state_only(world, ledger):
    from anju.cases.services.cases import case_cancel

    case_cancel(actor=factories._system(world["home"]), case=ledger["late"], reason="重复登记")
    stats = statistics(actor=None, division=world["home"], today=TODAY)
    counts = stats.total.counts
    assert counts[f"state:{CaseState.CANCELLED}"] == 1 and counts["cases"] == 1 and counts["late"] == 0


def test_statistics_few_queries_whatever_the_subtree(world, ledger):
    city = Division.objects.get(code="610800000000")
    with CaptureQueriesContext(connection) as ctx:
        statistics(actor=None, division=city, today=TODAY)
    assert len(ctx) <= 8, [q["sql"][:120] for q in ctx.captured_queries]


def test_statistics_chart_of_houses_by_grade(world):
    county = factories.user("yy_county", factories.YUYANG, "county_manager")
    out = io.BytesIO()
    statistics_export(actor=county, division=Division.objects.get(code=factories.YUYANG), output=out, today=TODAY)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as book:
        chart = book.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and 'val="stacked"' in chart and chart.count("<c:ser>") == 5


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed")
def test_libreoffice_opens_both_workbooks(world, ledger, tmp_path):
    """Issue 5: the workbooks open in LibreOffice (converted headless to CSV, values as written)."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    households_export(actor=None, filters=None, output=str(tmp_path / "households.xlsx"))
    city = Division.objects.get(code="610800000000")
    statistics_export(actor=None, division=city, output=str(tmp_path / "statistics.xlsx"), today=TODAY)
    for name in ("households", "statistics"):
        subprocess.run(
            [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
             "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1",  # 76: UTF-8, whatever the locale
             "--outdir", str(tmp_path), str(tmp_path / f"{name}.xlsx")],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    with open(tmp_path / "households.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert HEADER in [row[: len(HEADER)] for row in rows[:3]]  # under the title row, exactly our columns
    assert any("2025-03-01" in r for r in rows)
    assert (tmp_path / "statistics.csv").stat().st_size > 0
