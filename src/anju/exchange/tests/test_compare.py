"""Department comparison (P6): the five result sets and likely typos on a small constructed case, scope, and the
report workbook read back with python-calamine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from anju.audit.models import Event
from anju.core import idnumber
from anju.exchange.compare import comparison_run, near_misses
from anju.exchange.models import Comparison, ComparisonItem, ComparisonSet
from anju.registry.models import HouseholdCategory, TargetCategory
from anju.testing import factories as f

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "身份证号码", "类别", "认定日期", "县（市、区）", "乡镇（街道）", "行政村"]


def typo_digit(id_number: str) -> str:
    """One sequence digit changed (positions 14–16 keep the address code and birth date valid)."""
    return id_number[:14] + str((int(id_number[14]) + 1) % 10) + id_number[15:]


def typo_swap(id_number: str) -> str:
    """Two neighbouring different digits swapped."""
    i = next(i for i in range(14, 16) if id_number[i] != id_number[i + 1])
    return id_number[:i] + id_number[i + 1] + id_number[i] + id_number[i + 2 :]


def write_list(path: Path, rows: list[list[Any]], title: bool = True) -> Path:
    """A department list as people send it: a title row above the header."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("名单")
    offset = 0
    if title:
        sheet.write(0, 0, "榆阳区低保对象名单（2024年）")
        offset = 1
    sheet.write_row(offset, 0, HEADER)
    for i, row in enumerate(rows, start=offset + 1):
        sheet.write_row(i, 0, row)
    book.close()
    return path


@dataclass
class Case:
    """The registry and a 民政 list with one person in each result set (P6)."""

    manager: Any
    village: Any
    other_village: Any
    ids: dict[str, str]
    households: dict[str, Any]
    rows: list[list[Any]]


def build_case() -> Case:
    dibao = TargetCategory.objects.get(code="dibao")
    village = f.village(f.YUYANG_TOWN, 1, "张家村")
    other_village = f.village(f.YUYANG_TOWN_2, 2, "李家村")
    shenmu = f.village(f.SHENMU_TOWN, 3, "王家村")
    manager = f.user("county", f.YUYANG, "county_manager")
    households = {}
    ids = {}

    def registered(
        key: str, name: str, division: Any, grade: str | None = "A", category: bool = False, sequence: int = 0
    ) -> None:
        # a fixed sequence where the test needs distinct neighbouring digits (the global counter may give "111")
        ids[key] = (
            idnumber.compose(division.code[:6], dt.date(1970, 1, 1), sequence)
            if sequence
            else f.id_number(division.code[:6])
        )
        household = f.household(division, head_name=name, id_number=ids[key])
        if grade:
            f.house(household, grade=grade, graded_on=dt.date(2023, 5, 1) if grade != "U" else None)
        if category:
            HouseholdCategory.objects.create(
                household=household, category=dibao, certified_on=dt.date(2020, 1, 1), division=division
            )
        households[key] = household

    registered("missing_category", "赵一", village)  # on the list as 低保, registry has no category
    registered("ok_unsafe", "钱二", village, grade="C", category=True)  # in both, house graded C
    registered("no_longer", "孙三", other_village, category=True)  # registry 低保, not on the list
    registered("renamed", "李四", village, category=True)  # same ID, name differs
    registered("typo_digit", "周五", village, category=True)
    registered("typo_swap", "吴六", village, category=True, sequence=123)
    registered("typo_other_name", "郑七", village, category=True)
    registered("unrated", "王八", other_village, grade="U", category=True)  # never appraised
    registered("shenmu", "冯九", shenmu, category=True)  # another county: outside the scope
    ids["new"] = f.id_number("610802")
    ids["elsewhere"] = ids["shenmu"]
    rows = [
        ["赵一", ids["missing_category"], "低保", "2024-03-01", "", "", ""],
        ["钱二", ids["ok_unsafe"], "农村低保户", "2020/1/1", "", "", ""],
        ["李 四 四", ids["renamed"], "低保户", "2020年1月1日", "", "", ""],
        ["周五", typo_digit(ids["typo_digit"]), "低保", "", "", "", ""],
        ["吴六", typo_swap(ids["typo_swap"]), "低保", "", "", "", ""],
        ["陈七", typo_digit(ids["typo_other_name"]), "低保", "", "", "", ""],
        ["王八", ids["unrated"], "低保", 45000, "", "", ""],
        ["新人", ids["new"], "低保", "2024.2.1", "榆阳区", "鼓楼街道", "张家村"],
        ["冯九", ids["shenmu"], "低保", "", "神木市", "", "王家村"],
        ["冯九", ids["elsewhere"], "低保", "", "", "", ""],
        ["赵一", ids["missing_category"], "五保户2", "", "", "", ""],
    ]
    return Case(manager, village, other_village, ids, households, rows)


def items(comparison: Comparison, result: str) -> list[ComparisonItem]:
    return list(comparison.items.filter(result=result).order_by("id"))


def test_near_misses_find_the_registered_number_for_a_wrong_digit_and_a_swap():
    """GB 11643: one wrong digit or a swap always breaks the check character, and the search finds it back."""
    original = f.id_number()
    for typo in (typo_digit(original), typo_swap(original)):
        with pytest.raises(Exception):  # noqa: B017 - the ID fails GB 11643 one way or another
            idnumber.validate(typo)
        found = list(near_misses(typo))
        assert original in found
        assert all(idnumber.check_char(c[:17]) == c[17] for c in found)
        assert len(found) < 60  # a few candidates per bad ID, not a scan of the registry


def _near_misses_by_definition(text: str) -> list[str]:
    """Every string one substitution or one swap of neighbours away with a valid check character, in the order
    near_misses promises (substitutions by position and character, then swaps by position)."""
    found = []
    for i in range(18):
        for c in "0123456789X" if i == 17 else "0123456789":
            candidate = text[:i] + c + text[i + 1 :]
            if c != text[i] and idnumber.check_char(candidate[:17]) == candidate[17]:
                found.append(candidate)
    for i in range(17):
        candidate = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        well_formed = text[i] != text[i + 1] and "X" not in candidate[:17]
        if well_formed and idnumber.check_char(candidate[:17]) == candidate[17]:
            found.append(candidate)
    return found


@given(st.from_regex(r"\A[0-9]{17}[0-9X]\Z", alphabet="0123456789X"))
def test_near_misses_are_exactly_the_one_slip_neighbours_with_a_valid_check_character(text):
    assert list(near_misses(text)) == _near_misses_by_definition(text)


def test_five_sets_typos_and_scope(tmp_path, settings):
    """P6: each person lands in the right set; typos are not reported as missing; scope is the actor's county."""
    settings.MEDIA_ROOT = tmp_path / "media"
    case = build_case()
    path = write_list(tmp_path / "list.xlsx", case.rows)
    outcome = comparison_run(actor=case.manager, path=path, source="民政", output=tmp_path / "report.xlsx")
    comparison = outcome.comparison
    h = case.households

    assert [i.household for i in items(comparison, ComparisonSet.CATEGORY_MISSING)] == [h["missing_category"]]
    missing = items(comparison, ComparisonSet.CATEGORY_MISSING)[0]
    assert (missing.category_code, missing.certified_on, missing.row) == ("dibao", dt.date(2024, 3, 1), 3)

    # 郑七's number on the list is wrong and the near miss bears another name: not guessed, so no longer listed.
    ended = {i.household for i in items(comparison, ComparisonSet.NO_LONGER_LISTED)}
    assert ended == {h["no_longer"], h["typo_other_name"]}

    renamed = items(comparison, ComparisonSet.NAME_DIFFERS)
    assert [(i.household, i.name) for i in renamed] == [(h["renamed"], "李 四 四")]

    unsafe = {i.household: i.detail for i in items(comparison, ComparisonSet.HOUSE_UNSAFE)}
    assert unsafe == {h["ok_unsafe"]: "C级", h["unrated"]: "未鉴定"}

    typos = items(comparison, ComparisonSet.LIKELY_TYPO)
    assert [i.household for i in typos] == [h["typo_digit"], h["typo_swap"]]
    assert typos[0].id_masked == idnumber.mask(typo_digit(case.ids["typo_digit"]))
    assert idnumber.mask(case.ids["typo_digit"]) in typos[0].detail

    not_in = items(comparison, ComparisonSet.NOT_IN_REGISTRY)
    assert [(i.name, i.division_id) for i in not_in] == [("新人", case.village.code), ("冯九", f.YUYANG)]
    assert idnumber.decrypt(not_in[0].id_cipher) == case.ids["new"]
    assert not_in[0].id_hash == idnumber.keyed_hash(case.ids["new"])
    assert "以外登记" in not_in[1].detail and not_in[0].detail == ""

    # The other county's household is not "no longer listed", and its row naming 神木市 is reported, not compared.
    assert not comparison.items.filter(household=h["shenmu"]).exists()
    issues = {(i.row, i.column): i for i in outcome.issues}
    assert "不在本次比对范围" in issues[(11, "行政村")].message and not issues[(11, "行政村")].compared
    assert "校验位" in issues[(8, "身份证号码")].message  # typo whose near miss has another name: not guessed
    assert issues[(13, "类别")].message.startswith("未知类别")

    assert comparison.counts == {
        ComparisonSet.NOT_IN_REGISTRY: 2,
        ComparisonSet.CATEGORY_MISSING: 1,
        ComparisonSet.NO_LONGER_LISTED: 2,
        ComparisonSet.NAME_DIFFERS: 1,
        ComparisonSet.HOUSE_UNSAFE: 2,
        ComparisonSet.LIKELY_TYPO: 2,
        "issues": 3,
        "not_compared": 2,
    }
    assert comparison.total == 11 and comparison.division_id == f.YUYANG
    event = Event.objects.get(action="exchange.comparison.run")
    assert event.actor == case.manager and event.object_id == str(comparison.pk)
    assert event.extra["file_sha256"] == comparison.file_sha256 and event.extra["likely_typo"] == 2
    assert comparison.report_file.name.endswith(".xlsx")


def test_the_typo_keeps_the_household_listed(tmp_path):
    """Without the typo rule 周五's 低保 would be "no longer listed" because their ID on the list is wrong."""
    case = build_case()
    path = write_list(tmp_path / "one.xlsx", case.rows[3:4])
    outcome = comparison_run(actor=case.manager, path=path, source="民政")
    ended = {i.household for i in items(outcome.comparison, ComparisonSet.NO_LONGER_LISTED)}
    assert case.households["typo_digit"] not in ended
    assert case.households["typo_swap"] in ended


def test_division_narrows_the_scope(tmp_path):
    """--division 鼓楼街道: 孙三 and 王八 of the other town are outside, so neither "no longer listed" nor matched."""
    case = build_case()
    path = write_list(tmp_path / "list.xlsx", case.rows)
    outcome = comparison_run(actor=case.manager, path=path, source="民政", division_code=f.YUYANG_TOWN)
    comparison = outcome.comparison
    assert comparison.division_id == f.YUYANG_TOWN
    ended = {i.household for i in items(comparison, ComparisonSet.NO_LONGER_LISTED)}
    assert ended == {case.households["typo_other_name"]}
    not_in = {i.name for i in items(comparison, ComparisonSet.NOT_IN_REGISTRY)}
    assert "王八" in not_in


def test_report_workbook(tmp_path, settings):
    """汇总 + one sheet per set + 问题行; masked IDs only; household link (village, head name, house grade)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    case = build_case()
    path = write_list(tmp_path / "list.xlsx", case.rows)
    report = tmp_path / "report.xlsx"
    comparison_run(actor=case.manager, path=path, source="民政", output=report)
    book = CalamineWorkbook.from_path(str(report))
    assert book.sheet_names == [
        "汇总",
        "名单有、系统无",
        "两边都有、系统缺少该类型",
        "系统有该类型、名单已无",
        "身份证号相同、姓名不同",
        "名单内、房屋为C、D级或未鉴定",
        "疑似身份证号录入错误",
        "问题行",
    ]
    summary = book.get_sheet_by_name("汇总").to_python()
    assert summary[0][0] == "部门数据比对结果（P6）"
    facts = {row[0]: row[1] for row in summary if row and row[0]}
    assert facts["来源部门"] == "民政部门" and facts["文件"] == "list.xlsx" and facts["比对范围"] == "榆阳区"
    assert facts["名单有、系统无"] == 2 and facts["疑似身份证号录入错误"] == 2 and facts["问题行"] == 3

    unsafe = book.get_sheet_by_name("名单内、房屋为C、D级或未鉴定").to_python()
    assert unsafe[0] == [
        "序号",
        "名单行号",
        "姓名",
        "身份证号码",
        "类别",
        "认定日期",
        "县（市、区）",
        "乡镇（街道）",
        "行政村",
        "系统户主姓名",
        "系统身份证号码",
        "房屋安全等级",
        "说明",
    ]
    first = unsafe[1]
    assert first[2] == "钱二" and first[3] == idnumber.mask(case.ids["ok_unsafe"])
    assert first[6:12] == ["榆阳区", "鼓楼街道", "张家村", "钱二", idnumber.mask(case.ids["ok_unsafe"]), "C级"]

    missing = book.get_sheet_by_name("两边都有、系统缺少该类型").to_python()
    assert missing[1][4] == "农村低保户" and missing[1][5] == dt.date(2024, 3, 1)

    typos = book.get_sheet_by_name("疑似身份证号录入错误").to_python()
    assert [r[2] for r in typos[1:]] == ["周五", "吴六"]
    assert idnumber.mask(case.ids["typo_swap"]) in typos[2][12]

    issues = book.get_sheet_by_name("问题行").to_python()
    assert issues[0] == ["名单行号", "列", "值", "原因", "是否已比对"]
    assert [r[0] for r in issues[1:]] == [8, 11, 13]
    # No full ID number anywhere in the workbook (PIPL): only masked ones.
    for name in book.sheet_names:
        for row in book.get_sheet_by_name(name).to_python():
            for cell in row:
                assert not any(full in str(cell) for full in case.ids.values())
