"""The ledger export and the P1 rectification summary, written and read back with a real xlsx reader.

A fixed statistics day (`TODAY`) keeps "late" and "due within 30 days" (P19) exact whatever the real date is.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.exports import ledger_export, rectification_export, rectification_summary
from anju.cases.models import Case, CaseSource, CaseState
from anju.cases.selectors import CaseFilters
from anju.cases.services import cases as case_services
from anju.cases.services import renovation
from anju.core import idnumber
from anju.divisions.models import Division
from anju.testing import cases, factories

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
HEADER = [
    "序号", "县", "乡镇", "村", "户主姓名", "身份证号码", "户类型", "房屋结构", "鉴定等级", "鉴定日期", "问题来源",
    "整改措施", "改造方式", "完成时限", "开工日期", "竣工日期", "验收日期", "补助资金", "状态", "是否逾期", "销号日期",
]  # fmt: skip


def sheets(content: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def export(actor, filters: CaseFilters, **kwargs) -> list[list]:
    out = io.BytesIO()
    ledger_export(actor=actor, filters=filters, output=out, today=TODAY, **kwargs)
    return next(iter(sheets(out.getvalue()).values()))


def by_name(rows: list[list]) -> dict[str, list]:
    return {row[4]: row for row in rows[2:]}


def dangerous(village, *, grade="C", appraised_on):
    house = factories.house(factories.household(village))
    return cases.dangerous_case(house, grade=grade, appraised_on=appraised_on)


def advance(case: Case, to: str, on: dt.date) -> Case:
    """`cases.advance`, with the craftsman trained in the year the works start too (P17), not only this year."""
    case = cases.advance(case, CaseState.PLANNED, on=on)
    if to != CaseState.PLANNED:
        actor = cases.manager(case)
        renovation.renovation_design(actor=actor, case=case, design_kind="atlas", design_reference="陕农房-A1")
        builder = cases.craftsman(case, year=on.year)
        cases.train(builder)  # chosen today
        renovation.renovation_builder(actor=actor, case=case, builder=builder)
        case = cases.advance(renovation.case_start(actor=actor, case=case, started_on=on), to, on=on)
    return case


def problem(village, household_type: str, *, cancel: bool = False) -> Case:
    home = factories.household(village)
    case = case_services.case_open(
        actor=factories._system(village),
        household=home,
        source=CaseSource.PROBLEM_LIST,
        household_type=household_type,
        description="问题清单：住房安全未保障",
        opened_on=dt.date(2026, 3, 2),
        transferred_on=dt.date(2026, 3, 1),
    )
    if cancel:
        case = case_services.case_cancel(actor=factories._system(village), case=case, reason="重复登记")
    return case


@pytest.fixture
def world():
    """Cases in several states in two 榆阳 towns and in 神木, each with a known lateness on TODAY."""
    home = factories.village(factories.YUYANG_TOWN, 1)
    sibling = factories.village(factories.YUYANG_TOWN_2, 1)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    w = {
        # P19: appraised in March 2025 → due 30 Nov 2025, still not renovated: late
        "late": dangerous(home, appraised_on=dt.date(2025, 3, 1)),
        # appraised Feb 2026 → due 30 Nov 2026 (within 30 days of TODAY), under construction
        "building": advance(
            dangerous(home, grade="D", appraised_on=dt.date(2026, 2, 10)),
            CaseState.UNDER_CONSTRUCTION,
            on=dt.date(2026, 3, 1),
        ),
        # renovated and closed this year
        "closed": advance(dangerous(home, appraised_on=dt.date(2026, 1, 15)), CaseState.CLOSED, on=dt.date(2026, 4, 1)),
        # due 30 Nov 2025 but completed: the deadline no longer runs
        "completed": advance(
            dangerous(sibling, appraised_on=dt.date(2025, 2, 1)), CaseState.COMPLETED, on=dt.date(2025, 12, 15)
        ),
        "edge": problem(home, "edge"),
        "unstable": problem(sibling, "unstable"),
        "cancelled": problem(home, "edge", cancel=True),
        "shenmu": dangerous(shenmu, appraised_on=dt.date(2025, 3, 1)),
    }
    return w


def test_ledger_header_rows_dates_money_and_masked_ids(world):
    """The columns a county reports upward, in order; real dates and numbers; IDs masked (PIPL)."""
    county = factories.user("yy_dept", factories.YUYANG, "department")
    rows = export(county, CaseFilters())
    assert "榆阳区" in rows[0][0] and TODAY.isoformat() in rows[0][0]  # title: the division and the day
    assert rows[1] == HEADER
    assert [r[0] for r in rows[2:]] == list(range(1, 8))  # 7 cases of 榆阳, none of 神木
    named = by_name(rows)
    late = world["late"]
    row = named[late.household.head_name]
    village = late.division
    assert row[1:4] == ["榆阳区", village.parent.name, village.name]
    assert row[5] == late.household.id_masked and "*" in row[5]
    assert row[6:9] == ["一般农户", "土窑洞", "C级"]
    assert row[9] == dt.date(2025, 3, 1)
    assert row[10] == "疑似上报"
    assert row[11] == late.measures and row[11]
    assert row[13] == dt.date(2025, 11, 30)  # P19
    assert row[18:20] == ["已鉴定", "是"]
    assert row[12] == "" and row[14:18] == ["", "", "", ""] and row[20] == ""

    building = named[world["building"].household.head_name]
    assert building[8] == "D级"
    assert building[12] == "加固改造"
    assert building[13] == dt.date(2026, 11, 30)
    assert building[14] == dt.date(2026, 3, 1)
    assert building[17] == 20000.0
    assert building[18:20] == ["施工中", "否"]  # due within 30 days, not late

    closed = named[world["closed"].household.head_name]
    assert closed[15:17] == [dt.date(2026, 4, 1), dt.date(2026, 4, 1)]
    assert closed[18:21] == ["已销号", "否", dt.date(2026, 4, 1)]

    completed = named[world["completed"].household.head_name]
    assert completed[13] == dt.date(2025, 11, 30) and completed[18:20] == ["已竣工", "否"]  # P19: works done

    edge = named[world["edge"].household.head_name]
    assert edge[6] == "边缘易致贫户" and edge[10] == "问题清单" and edge[18:20] == ["登记", "否"]
    assert named[world["cancelled"].household.head_name][18] == "已撤销"


def test_ledger_cells_are_excel_dates_and_numbers_with_formats(world):
    """Dates are date serials with yyyy-mm-dd, money a number with a number format, the header frozen."""
    out = io.BytesIO()
    ledger_export(actor=None, filters=CaseFilters(division=factories.YUYANG), output=out, today=TODAY)
    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    styles = archive.read("xl/styles.xml").decode()
    sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert 'formatCode="yyyy-mm-dd"' in styles
    assert 'formatCode="#,##0.00"' in styles
    assert 'ySplit="2"' in sheet and 'state="frozen"' in sheet
    assert "<cols>" in sheet and 'width="40.7109375"' in sheet  # 整改措施
    assert "<v>20000</v>" in sheet  # the subsidy is a number, not text
    assert f"<v>{(dt.date(2025, 3, 1) - dt.date(1899, 12, 30)).days}</v>" in sheet  # 鉴定日期 as a serial


def test_ledger_filters_are_the_ledger_filters(world):
    """The export narrows exactly as the ledger page does (`case_filter`): division, state, source, late."""
    names = lambda rows: {r[4] for r in rows[2:]}  # noqa: E731
    head = lambda key: world[key].household.head_name  # noqa: E731
    assert names(export(None, CaseFilters(late=True))) == {head("late"), head("shenmu")}
    assert names(export(None, CaseFilters(division=factories.YUYANG, late=True))) == {head("late")}
    assert names(export(None, CaseFilters(due_soon=True))) == {head("building")}
    assert names(export(None, CaseFilters(state=CaseState.UNDER_CONSTRUCTION))) == {head("building")}
    assert names(export(None, CaseFilters(source=CaseSource.PROBLEM_LIST, division=factories.YUYANG_TOWN_2))) == {
        head("unstable")
    }


def test_ledger_full_ids_need_the_permission_and_are_audited(world):
    """Full ID numbers only for `registry.view_id` and on request; the audit event counts them."""
    county = factories.user("yy_county", factories.YUYANG, "county_manager")
    masked = export(county, CaseFilters(division=factories.YUYANG_TOWN))
    event = Event.objects.filter(action=Action.LEDGER_EXPORTED).latest("id")
    assert event.actor_id == county.pk and event.division_code == factories.YUYANG_TOWN
    assert event.extra["rows"] == 5 and event.extra["full_ids"] == 0
    assert all("*" in r[5] for r in masked[2:])

    full = export(county, CaseFilters(division=factories.YUYANG_TOWN), full_id=True)
    late = world["late"].household
    assert by_name(full)[late.head_name][5] == idnumber.decrypt(late.id_cipher)
    assert all("*" not in r[5] and len(r[5]) == 18 for r in full[2:])
    event = Event.objects.filter(action=Action.LEDGER_EXPORTED).latest("id")
    assert event.extra["full_ids"] == 5 and event.extra["filters"] == {"division": factories.YUYANG_TOWN}

    village_staff = factories.user("yy_village", world["late"].division_id, "village_staff")  # no registry.view_id
    before = Event.objects.filter(action=Action.LEDGER_EXPORTED).count()
    with pytest.raises(PermissionDenied):
        export(village_staff, CaseFilters(), full_id=True)
    assert Event.objects.filter(action=Action.LEDGER_EXPORTED).count() == before


def test_ledger_is_scoped(world):
    """A 神木 user's export has no 榆阳 rows, and a 榆阳 town user's none of the other town."""
    shenmu = factories.user("sm_county", factories.SHENMU, "county_manager")
    rows = export(shenmu, CaseFilters())
    assert [r[4] for r in rows[2:]] == [world["shenmu"].household.head_name]
    assert {r[1] for r in rows[2:]} == {"神木市"}
    assert len(export(shenmu, CaseFilters(division=factories.YUYANG))) == 2  # title and header only
    town = factories.user("yy_town", factories.YUYANG_TOWN, "town_staff")
    assert {r[2] for r in export(town, CaseFilters())[2:]} == {Division.objects.get(code=factories.YUYANG_TOWN).name}


def summary_rows(actor, code: str) -> tuple[dict[str, list], list[list], dict[str, list[list]]]:
    out = io.BytesIO()
    rectification_export(actor=actor, division=Division.objects.get(code=code), output=out, today=TODAY)
    book = sheets(out.getvalue())
    rows = book["整改情况汇总"]
    header = rows[1][:2] + rows[2][2:]  # 区划代码 and 区划名称 span both header rows
    return {r[1]: dict(zip(header, r, strict=True)) for r in rows[3:]}, rows, book


def test_rectification_summary_counts_match_a_hand_count(world):
    """P1: per town of 榆阳 and in total — by source, by state, late, due soon, closed this year, problem list."""
    rows, raw, book = summary_rows(None, factories.YUYANG)
    assert "榆阳区" in raw[0][0] and TODAY.isoformat() in raw[0][0]
    assert raw[1][:3] == ["区划代码", "区划名称", "合计"] and "问题来源" in raw[1] and "当前状态" in raw[1]
    towns = list(Division.objects.filter(parent_id=factories.YUYANG).order_by("code").values_list("name", flat=True))
    assert list(rows) == [*towns, "合计"]  # every town, even without cases, then the total
    home = rows[Division.objects.get(code=factories.YUYANG_TOWN).name]
    assert home["区划代码"] == factories.YUYANG_TOWN
    # 鼓楼: late (C, suspected), building (D), closed, edge (problem list), cancelled (not counted but as a state)
    assert home["台账总数"] == 4
    assert home["疑似上报"] == 3 and home["问题清单"] == 1 and home["年度核查"] == 0
    assert (home["已鉴定"], home["施工中"], home["已销号"], home["登记"], home["已撤销"]) == (1, 1, 1, 1, 1)
    assert home["逾期未完成"] == 1 and home["30天内到期"] == 1 and home["本年销号"] == 1
    assert home["边缘易致贫户"] == 1 and home["脱贫不稳定户"] == 0 and home["小计"] == 1
    sibling = rows[Division.objects.get(code=factories.YUYANG_TOWN_2).name]
    assert sibling["台账总数"] == 2 and sibling["已竣工"] == 1 and sibling["登记"] == 1
    assert sibling["逾期未完成"] == 0 and sibling["脱贫不稳定户"] == 1
    total = rows["合计"]
    assert total["台账总数"] == 6 and total["逾期未完成"] == 1 and total["小计"] == 2  # 神木 not included
    numbers = [k for k in total if k not in ("区划代码", "区划名称")]
    for key in numbers:
        assert total[key] == sum(r[key] for name, r in rows.items() if name != "合计"), key
    notes = dict((r[0], r[1]) for r in book["说明"][1:])
    assert "11月30日" in notes["逾期未完成"] and "P19" in notes["逾期未完成"]
    assert "乡村振兴" in notes["报送"]


def test_rectification_summary_of_the_city_and_of_a_town(world):
    """Counties for the city, villages for a town; one row per child division."""
    whole = rectification_summary(actor=None, division=Division.objects.get(code="610800000000"), today=TODAY)
    city = {r.name: r.counts for r in whole.rows}
    assert city["榆阳区"]["total"] == 6 and city["神木市"]["total"] == 1 and city["神木市"]["late"] == 1
    town = rectification_summary(actor=None, division=Division.objects.get(code=factories.YUYANG_TOWN), today=TODAY)
    assert [r.code for r in town.rows] == list(
        Division.objects.filter(parent_id=factories.YUYANG_TOWN).order_by("code").values_list("code", flat=True)
    )
    assert town.total.counts["total"] == 4


def test_rectification_summary_is_scoped_and_one_query_per_family(world, django_assert_max_num_queries):
    """A 神木 user's city summary counts nothing of 榆阳; the counts take a fixed number of queries."""
    shenmu = factories.user("sm_county2", factories.SHENMU, "county_manager")
    city = Division.objects.get(code="610800000000")
    assert shenmu.scope_prefix == "610881"  # the user's own division, loaded once
    with django_assert_max_num_queries(5):  # children, sources, states, deadlines, problem list
        summary = rectification_summary(actor=shenmu, division=city, today=TODAY)
    counts = {r.name: r.counts["total"] for r in summary.rows}
    assert counts["榆阳区"] == 0 and counts["神木市"] == 1 and summary.total.counts["total"] == 1
    rectification_export(actor=shenmu, division=city, output=io.BytesIO(), today=TODAY)
    event = Event.objects.filter(action=Action.RECTIFICATION_EXPORTED).latest("id")
    assert event.actor_id == shenmu.pk and event.division_code == city.code and event.extra["total"] == 1
