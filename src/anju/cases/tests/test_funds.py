"""P4: subsidy money per county and year (page, download, API) in every user's scope, and the two fund alerts at
their boundaries: a payment on the acceptance day is fine, one the day before is not; paid = subsidy is fine, one
cent more is not."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from anju.cases.models import Case, CaseState, SubsidyPayment
from anju.cases.selectors import funds_summary
from anju.cases.services import renovation
from anju.divisions.models import Division
from anju.policy.rules import Context, rule_get
from anju.testing import cases, factories
from anju.testing.scope import CITY, ScopeTestCase

ON = dt.date.today() - dt.timedelta(days=30)
BEFORE, OVER = "P4.payment_before_acceptance", "P4.payment_over_subsidy"


def accepted_case(village: Division) -> Case:
    """A case accepted on `ON` with its subsidy from the sample rate (20,000 yuan)."""
    case = cases.dangerous_case(factories.house(factories.household(village)), appraised_on=ON)
    return cases.advance(case, CaseState.ACCEPTED, on=ON)


def pay(case: Case, amount: str, on: dt.date = ON) -> SubsidyPayment:
    return renovation.subsidy_payment_add(actor=cases.manager(case), case=case, paid_on=on, amount=amount)


def carried_over(case: Case, amount: str, on: dt.date) -> SubsidyPayment:
    """A payment written straight to the table, as rows carried over from an earlier system are."""
    return SubsidyPayment.objects.create(case=case, division_id=case.division_id, paid_on=on, amount=Decimal(amount))


def found(rule_id: str) -> dict[int, str]:
    return {f.object_id: f.message for f in rule_get(rule_id).evaluate(Context(today=dt.date.today()))}


@pytest.mark.django_db
def test_payment_on_the_acceptance_day_is_fine_the_day_before_is_an_alert_p4():
    """policy: P4 — funds are paid only after the joint acceptance."""
    case = accepted_case(factories.village(factories.YUYANG_TOWN, 1))
    pay(case, "5000")
    assert found(BEFORE) == {}
    carried_over(case, "1000", ON - dt.timedelta(days=1))
    assert list(found(BEFORE)) == [case.pk]
    assert "1笔补助共1000.00元在竣工验收前拨付" in found(BEFORE)[case.pk]


@pytest.mark.django_db
def test_a_payment_for_a_case_never_accepted_is_an_alert_p4():
    """policy: P4 — a payment of a case still under construction (no acceptance date) is found."""
    village = factories.village(factories.YUYANG_TOWN, 1)
    case = cases.advance(
        cases.dangerous_case(factories.house(factories.household(village)), appraised_on=ON),
        CaseState.UNDER_CONSTRUCTION,
        on=ON,
    )
    carried_over(case, "3000", ON)
    assert list(found(BEFORE)) == [case.pk]
    assert "尚未验收" in found(BEFORE)[case.pk]


@pytest.mark.django_db
def test_paid_up_to_the_subsidy_is_fine_one_cent_more_is_an_alert_p4():
    """policy: P4 — payments never add up to more than the case's approved subsidy (P21's rate)."""
    case = accepted_case(factories.village(factories.YUYANG_TOWN, 1))
    assert case.renovation.subsidy_amount == Decimal("20000.00")
    pay(case, "15000")
    carried_over(case, "5000", ON)
    assert found(OVER) == {}
    carried_over(case, "0.01", ON)
    assert list(found(OVER)) == [case.pk]
    assert "累计拨付20000.01元，超过核定补助20000.00元" in found(OVER)[case.pk]


@pytest.mark.django_db
def test_funds_summary_adds_up_per_county_and_year():
    """Approved by the plan's year, paid by the payment's year, owed = approved − paid of the accepted cases."""
    yuyang = factories.village(factories.YUYANG_TOWN, 1)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    first, second, other = accepted_case(yuyang), accepted_case(yuyang), accepted_case(shenmu)
    pay(first, "20000")
    pay(second, "4000")
    pay(other, "1000")
    admin = factories.user("funds_admin", CITY, "admin")
    rows = {(r.county, r.year): r for r in funds_summary(admin)}
    yuyang_row = rows[(factories.YUYANG[:6], ON.year)]
    assert (yuyang_row.name, yuyang_row.planned, yuyang_row.approved) == ("榆阳区", 2, Decimal("40000.00"))
    assert (yuyang_row.payments, yuyang_row.paid, yuyang_row.accepted) == (2, Decimal("24000.00"), 2)
    assert yuyang_row.owed == Decimal("16000.00")
    assert rows[(factories.SHENMU[:6], ON.year)].paid == Decimal("1000.00")
    assert funds_summary(admin, year=ON.year - 1) == []
    county = factories.user("funds_county", factories.YUYANG, "county_manager")
    assert [r.county for r in funds_summary(county)] == [factories.YUYANG[:6]]


class FundsScopeTests(ScopeTestCase):
    """Every user's page, download and API show the money of their subtree only."""

    model = SubsidyPayment
    action_app = "cases"
    covers = ("cases:funds", "cases:funds_export", "api:funds_summary")

    @classmethod
    def build_in_scope(cls, village: Division) -> SubsidyPayment:
        return pay(accepted_case(village), "1234.50")

    def expected_paid(self, key: str) -> Decimal:
        return sum((o.amount for o in self.fixture_objects() if self.can_see(key, o)), Decimal(0))

    def test_refusals(self) -> None:
        for name in ("/funds/", "/funds/export/"):
            self.as_user(None)
            self.assertLoginRedirect(self.client.get(name))
            self.as_user("no_role")
            self.assertEqual(self.client.get(name).status_code, 403)
        self.assertEqual(self.api("get", "/api/v1/funds", None).status_code, 401)
        self.assertEqual(self.api("get", "/api/v1/funds", "no_role").status_code, 403)
        response = self.api("get", "/api/v1/funds", "county", year="next")
        self.assertEqual(response.status_code, 400)
        self.assertIn("year", response.json()["errors"][0]["field"])

    def test_each_user_sees_exactly_the_money_of_their_scope(self) -> None:
        for key in self.user_keys():
            if key == "no_role":
                continue
            with self.subTest(user=key):
                expected = self.expected_paid(key)
                rows = self.api("get", "/api/v1/funds", key).json()
                self.assertEqual(sum((Decimal(r["paid"]) for r in rows), Decimal(0)), expected)
                self.as_user(key)
                page = self.client.get("/funds/")
                self.assertEqual(page.status_code, 200)
                self.assertEqual(sum((r.paid for r in page.context["rows"]), Decimal(0)), expected)
                if not expected:
                    self.assertContains(page, 'id="empty-state"')
                response = self.client.get("/funds/export/")
                book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
                sheet = book.get_sheet_by_name(book.sheet_names[0]).to_python()
                self.assertEqual(sheet[1][6], "已拨付（元）")
                self.assertEqual(sum((Decimal(str(r[6])) for r in sheet[2:]), Decimal(0)), expected)

    def test_county_sees_its_county_only_and_the_year_filter_narrows(self) -> None:
        rows = self.api("get", "/api/v1/funds", "other_county").json()
        self.assertEqual({r["name"] for r in rows}, {"神木市"})
        self.assertEqual(self.api("get", "/api/v1/funds", "admin", year=ON.year - 1).json(), [])
        self.as_user("county")
        page = self.client.get("/funds/", {"year": ON.year})
        self.assertContains(page, 'id="funds-chart"')
        self.assertEqual([r.name for r in page.context["rows"]], ["榆阳区"])
