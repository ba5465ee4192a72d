"""End to end in real Chromium (P4, P21): the subsidy money per county and year. Cases are planned, accepted and paid
through the case services (last year and this year, in Yuyang and Shenmu); the city supervisor's /funds/ page draws
this year's chart of approved against paid per county, lists every county and year with the totals, narrows to one
year, and its .xlsx download holds the same figures; the county manager, on a phone, sees only their county's money.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from anju.testing import factories as f

from .conftest import PHONE
from .helpers import log_in, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITY = "610800000000"
HEADER = [
    "县代码", "县（市、区）", "年度", "纳入计划户数", "核定补助（元）", "拨付笔数", "已拨付（元）", "竣工验收户数",
    "验收后待拨付（元）",
]  # fmt: skip


# The chart's small marks (texts, legend icons; not grid lines or backgrounds) whose boxes cross the y axis's
# unit (元): on a phone the legend's first icon was drawn over it.
_OVER_THE_UNIT = """() => {
    const unit = [...document.querySelectorAll('#funds-chart svg text')].find((t) => t.textContent.trim() === '元');
    const a = unit.getBoundingClientRect();
    return [...document.querySelectorAll('#funds-chart svg text, #funds-chart svg path, #funds-chart svg rect')]
        .filter((e) => e !== unit)
        .filter((e) => { const b = e.getBoundingClientRect(); return b.width < 100 && b.height < 40; })
        .filter((e) => {
            const b = e.getBoundingClientRect();
            return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        })
        .map((e) => e.tagName + ':' + (e.textContent || '').trim());
}"""


def _sheet(path) -> list[list]:
    """The download's rows, typed as the expected rows are (calamine reads numbers as floats)."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(path).get_sheet_by_name("补助资金").to_python()
    assert rows[0][0] == "补助资金拨付情况（按县、年度）" and rows[1] == HEADER
    return [
        [str(r[0]), r[1], int(r[2]), int(r[3]), _yuan(r[4]), int(r[5]), _yuan(r[6]), int(r[7]), _yuan(r[8])]
        for r in rows[2:]
    ]


def _yuan(value: float) -> Decimal:
    return Decimal(str(value))


def _cells(row) -> list[str]:
    return [c.strip() for c in row.locator("td, th").all_inner_texts()]


def test_p4_funds_per_county_and_year_chart_table_and_download(live_server, new_page, screenshot):
    from django.db.models import Sum
    from playwright.sync_api import expect

    from anju.cases.models import CaseState, Renovation, SubsidyPayment
    from anju.cases.services import renovation
    from anju.testing import cases
    from anju.testing.scope import ensure_base_divisions

    ensure_base_divisions()
    today = dt.date.today()
    last = dt.date(today.year - 1, 6, 1)
    yuyang, shenmu = f.village(f.YUYANG_TOWN, 1, "刘家沟村"), f.village(f.SHENMU_TOWN, 1, "神木测试村")

    def case(village, on: dt.date, to: str):
        return cases.advance(cases.dangerous_case(f.house(f.household(village)), appraised_on=on), to, on=on)

    def pay(case, amount: str, on: dt.date) -> None:
        renovation.subsidy_payment_add(actor=cases.manager(case), case=case, paid_on=on, amount=amount)

    old = case(yuyang, last, CaseState.ACCEPTED)  # planned and accepted last year, paid across both years
    pay(old, "12000", last)
    pay(old, "5000", today)
    done = case(yuyang, today, CaseState.ACCEPTED)
    pay(done, "6000", today)
    case(yuyang, today, CaseState.UNDER_CONSTRUCTION)  # planned this year, not yet accepted nor paid
    pay(case(shenmu, today, CaseState.ACCEPTED), "1000", today)
    f.user("dudao", CITY, "city_supervisor")
    f.user("yy_admin", f.YUYANG, "county_manager")

    # the figures straight from the rows the services wrote (20,000 yuan a case: the builders' reinforce rate)
    assert set(Renovation.objects.values_list("subsidy_amount", flat=True)) == {Decimal("20000.00")}
    paid = SubsidyPayment.objects.values("division_id", "paid_on__year").annotate(total=Sum("amount"))
    assert {(p["division_id"][:6], p["paid_on__year"]): p["total"] for p in paid} == {
        ("610802", last.year): Decimal("12000.00"),
        ("610802", today.year): Decimal("11000.00"),
        ("610881", today.year): Decimal("1000.00"),
    }
    # county, name, year, planned, approved, payments, paid, accepted, owed (approved − all paid of those accepted)
    expected = [
        ["610802", "榆阳区", today.year, 2, Decimal("40000.00"), 2, Decimal("11000.00"), 1, Decimal("14000.00")],
        ["610881", "神木市", today.year, 1, Decimal("20000.00"), 1, Decimal("1000.00"), 1, Decimal("19000.00")],
        ["610802", "榆阳区", last.year, 1, Decimal("20000.00"), 1, Decimal("12000.00"), 1, Decimal("3000.00")],
    ]
    base = live_server.url

    page = new_page()
    log_in(page, base, "dudao", f.PASSWORD)
    page.goto(f"{base}/funds/")
    expect(page.locator("#funds-chart svg")).to_be_visible()  # echarts drew it (svg renderer)
    expect(page.locator("main h2")).to_contain_text(f"{today.year}年各县核定与拨付")
    chart = page.evaluate("JSON.parse(document.getElementById('funds-chart-data').textContent)")
    assert chart["names"] == ["榆阳区", "神木市"]
    assert [s["data"] for s in chart["series"]] == [[40000.0, 20000.0], [11000.0, 1000.0]]
    expect(page.locator("#funds-chart svg text", has_text="神木市")).to_have_count(1)
    rows = page.locator("#funds-table tbody tr")
    expect(rows).to_have_count(3)
    assert _cells(rows.nth(0)) == [str(today.year), "榆阳区", "2", "40,000.00", "2", "11,000.00", "1", "14,000.00"]
    assert _cells(rows.nth(1)) == [str(today.year), "神木市", "1", "20,000.00", "1", "1,000.00", "1", "19,000.00"]
    assert _cells(rows.nth(2)) == [str(last.year), "榆阳区", "1", "20,000.00", "1", "12,000.00", "1", "3,000.00"]
    totals = page.locator("#funds-table tfoot tr")
    assert _cells(totals) == ["合计", "4", "80,000.00", "4", "24,000.00", "3", "36,000.00"]
    screenshot(page, "funds")
    with page.expect_download() as download:
        page.click("#funds-export")
    assert download.value.suggested_filename == f"补助资金_{today:%Y%m%d}.xlsx"
    assert _sheet(download.value.path()) == expected

    # one year: the select sends the form, the table, the chart and the download follow
    with page.expect_navigation():
        page.select_option("#funds-filter select", str(last.year))
    expect(page).to_have_url(f"{base}/funds/?year={last.year}")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("12,000.00")
    expect(page.locator("main h2")).to_contain_text(f"{last.year}年各县核定与拨付")
    expect(page.locator("#funds-chart svg")).to_be_visible()
    with page.expect_download() as download:
        page.click("#funds-export")
    assert _sheet(download.value.path()) == expected[2:]

    # scope: the county manager, on a phone, sees Yuyang's money only
    phone = new_page(viewport=PHONE)
    log_in(phone, base, "yy_admin", f.PASSWORD)
    phone.goto(f"{base}/funds/")
    expect(phone.locator("#funds-chart svg")).to_be_visible()
    county_rows = phone.locator("#funds-table tbody tr")
    expect(county_rows).to_have_count(2)
    expect(phone.locator("#funds-table")).not_to_contain_text("神木市")
    expect(phone.locator("#funds-table tfoot")).to_contain_text("23,000.00")  # 11,000 + 12,000 paid
    no_horizontal_scroll(phone)
    assert phone.evaluate(_OVER_THE_UNIT) == [], "the y axis's unit is drawn under the legend"
    screenshot(phone, "funds-phone")
    with phone.expect_download() as download:
        phone.click("#funds-export")
    assert _sheet(download.value.path()) == [expected[0], expected[2]]
