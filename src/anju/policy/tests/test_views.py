"""Alert and monitoring pages under the scope/permission helper: every role, every level; filters, counts,
the export read back with python-calamine, query budgets."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from django.urls import reverse
from python_calamine import CalamineWorkbook

from anju.core import idnumber
from anju.divisions.models import Division
from anju.policy.models import Alert, AlertStatus
from anju.policy.services import alerts_refresh
from anju.registry import services as registry
from anju.registry.models import Household, TargetCategory
from anju.testing import factories
from anju.testing.scope import ScopeTestCase, ViewTestCases

from .builders import listed_household, overdue_request

P7 = "P7.monitoring"
HEADERS = [
    "序号", "县", "乡镇", "村", "户主姓名", "身份证号码", "重点对象类型", "房屋结构", "安全等级", "纳入原因", "责任人",
]  # fmt: skip


class AlertListViewTests(ViewTestCases.ListView):
    model = Alert

    @classmethod
    def build_in_scope(cls, village: Division) -> Alert:
        return Alert.objects.get(household=listed_household(village))

    def page_of(self, **params):
        return self.client.get(self.page_url("list"), params)

    def test_filters_by_rule_severity_due_and_status(self) -> None:
        household = self.in_scope[0].household
        overdue_request(household, dt.date(2026, 1, 5))
        alerts_refresh(household_ids=[household.pk])
        p8 = Alert.objects.get(rule_id="P8.appraisal_overdue")
        self.as_user("county")
        self.assertEqual(self.list_result(self.page_of(rule="P8.appraisal_overdue")), ({p8.pk}, 1))
        self.assertEqual(self.list_result(self.page_of(severity="critical")), ({p8.pk}, 1))
        self.assertEqual(self.list_result(self.page_of(due="overdue")), ({p8.pk}, 1))
        self.assertEqual(self.list_result(self.page_of(due="30"))[1], 0)
        listed, count = self.list_result(self.page_of(rule=P7))
        self.assertNotIn(p8.pk, listed)
        self.assertEqual(count, 4)
        Alert.objects.filter(pk=p8.pk).update(status=AlertStatus.RESOLVED)
        self.assertEqual(self.list_result(self.page_of(rule="P8.appraisal_overdue"))[1], 0)
        self.assertEqual(self.list_result(self.page_of(rule="P8.appraisal_overdue", status="resolved"))[1], 1)
        self.assertEqual(self.list_result(self.page_of(status="all"))[1], 5)

    def test_due_within_days(self) -> None:
        alert = self.in_scope[0]
        today = dt.date.today()
        Alert.objects.filter(pk=alert.pk).update(due_on=today + dt.timedelta(days=7))
        self.as_user("county")
        self.assertEqual(self.list_result(self.page_of(due="7")), ({alert.pk}, 1))
        self.assertEqual(self.list_result(self.page_of(due="overdue"))[1], 0)
        Alert.objects.filter(pk=alert.pk).update(due_on=today + dt.timedelta(days=8))
        self.assertEqual(self.list_result(self.page_of(due="7"))[1], 0)

    def test_responsible_filter_and_name_shown(self) -> None:
        village_user = self.users["village"]
        self.as_user("county")
        listed, _count = self.list_result(self.page_of(responsible=str(village_user.pk)))
        self.assertEqual(listed, {a.pk for a in self.in_scope})
        response = self.page_of()
        self.assertContains(response, village_user.get_full_name())
        self.assertContains(response, self.users["town"].get_full_name())

    def test_counts_per_rule_and_per_child_division(self) -> None:
        self.as_user("county")
        summary = self.page_of().context["summary"]
        self.assertEqual(dict((r.id, n) for r, n in summary["rules"])[P7], 4)
        towns = {child.code: total for child, _counts, total in summary["children"]}
        self.assertEqual(towns[factories.YUYANG_TOWN], 3)
        self.assertEqual(towns[factories.YUYANG_TOWN_2], 1)
        self.assertNotIn(factories.SHENMU_TOWN, towns)
        drill = self.page_of(division=factories.YUYANG_TOWN).context["summary"]
        villages = {child.code: total for child, _counts, total in drill["children"]}
        self.assertEqual(villages[self.villages["home"].code], 2)
        self.assertEqual(villages[self.villages["home_town"].code], 1)

    def test_division_filter_cannot_widen_the_scope(self) -> None:
        self.as_user("county")
        response = self.page_of(division=factories.SHENMU)
        self.assertEqual(self.list_result(response), (set(), 0))
        self.assertEqual(response.context["summary"]["total"], 0)
        self.as_user("town")
        self.assertEqual(self.list_result(self.page_of(division=factories.YUYANG))[1], self.expected_count("town"))

    def test_object_links_to_the_household_page(self) -> None:
        self.as_user("village")
        alert = self.in_scope[0]
        self.assertContains(self.page_of(), reverse("registry:household_detail", kwargs={"pk": alert.household_id}))

    def test_overdue_request_links_to_the_request_page(self) -> None:
        household = self.in_scope[0].household
        request = overdue_request(household, dt.date(2026, 1, 5))
        alerts_refresh(household_ids=[household.pk])
        self.as_user("village")
        response = self.page_of(rule="P8.appraisal_overdue")
        self.assertContains(response, reverse("inspections:request_detail", kwargs={"pk": request.pk}))
        self.assertContains(response, f"鉴定申请 #{request.pk}")

    def test_overdue_request_shows_days_late(self) -> None:
        household = self.in_scope[0].household
        reported = dt.date.today() - dt.timedelta(days=20)
        overdue_request(household, reported)
        alerts_refresh(household_ids=[household.pk])
        self.as_user("village")
        self.assertContains(self.page_of(rule="P8.appraisal_overdue"), "超期 5 天")

    def test_htmx_rows_are_scoped_too(self) -> None:
        self.as_user("town")
        response = self.client.get(self.page_url("list"), headers={"HX-Request": "true"})
        self.assertTemplateUsed(response, "policy/_alert_rows.html")
        listed, count = self.list_result(response)
        self.assertIn(self.in_town.pk, listed)
        self.assertNotIn(self.in_sibling_town.pk, listed)
        self.assertEqual(count, self.expected_count("town"))

    def test_empty_states_explain(self) -> None:
        self.as_user("county")
        self.assertContains(self.page_of(rule="P5.annual_check"), "放宽筛选条件")
        Alert.objects.all().delete()
        self.assertContains(self.page_of(), "anju alerts refresh")

    def test_bad_filter_is_shown_not_500(self) -> None:
        self.as_user("county")
        response = self.page_of(due="soon", division="999999999999")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "期限")
        self.assertContains(response, "区划代码999999999999不存在")


class AlertMineViewTests(ScopeTestCase):
    """ "My alerts": those whose responsible person (P18) is me — and still only in my scope."""

    model = Alert
    covers = ("policy:alert_mine",)

    @classmethod
    def build_in_scope(cls, village: Division) -> Alert:
        return Alert.objects.get(household=listed_household(village))

    def mine(self, key: str | None) -> tuple[set[int], int]:
        self.as_user(key)
        response = self.client.get(reverse("policy:alert_mine"))
        self.assertEqual(response.status_code, 200)
        page = response.context["page"]
        return {a.pk for a in page.object_list}, page.paginator.count

    def test_anonymous_redirects_to_login(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(reverse("policy:alert_mine")))

    def test_each_user_sees_the_alerts_they_answer_for(self) -> None:
        expected = {
            "village": {a.pk for a in self.in_scope},  # village staff of the home village
            "town": {self.in_town.pk},  # no village staff in the other village of the town
            "county": {self.in_sibling_town.pk},  # nobody at the sibling town or its village
            "other_county": {self.out_of_scope.pk},
            "admin": set(),
            "supervisor": set(),
            "department": set(),
            "no_division": set(),
        }
        for key, pks in expected.items():
            with self.subTest(user=key):
                self.assertEqual(self.mine(key), (pks, len(pks)))
                for pk in pks:
                    self.assertTrue(self.can_see(key, Alert.objects.get(pk=pk)))

    def test_no_role_is_refused(self) -> None:
        self.as_user("no_role")
        self.assertEqual(self.client.get(reverse("policy:alert_mine")).status_code, 403)

    def test_empty_mine_explains_who_answers(self) -> None:
        self.as_user("admin")
        self.assertContains(self.client.get(reverse("policy:alert_mine")), "村级信息员负责本村")


class MonitoringListViewTests(ViewTestCases.ListView):
    model = Household
    action_app = "policy"
    page_app = "policy"
    page_model = "monitoring"

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        return listed_household(village)

    def test_one_row_per_household_with_all_its_reasons(self) -> None:
        household = self.in_scope[0]
        category = TargetCategory.objects.order_by("sort_order").first()
        registry.household_category_add(
            actor=self.users["county"], household=household, category=category, certified_on=None
        )
        alerts_refresh(household_ids=[household.pk])
        self.as_user("village")
        response = self.client.get(self.page_url("list"))
        rows = {h.pk: h for h in response.context["page"].object_list}
        self.assertEqual([a.reason for a in rows[household.pk].reasons], ["category", "grade_b_earth"])
        self.assertContains(response, category.name)
        self.assertContains(response, household.id_masked)
        self.assertNotContains(response, idnumber.decrypt(household.id_cipher))

    def test_filter_by_reason_and_counts_per_reason(self) -> None:
        brick = listed_household(self.villages["home"], structure="brick_concrete")
        self.as_user("county")
        response = self.client.get(self.page_url("list"), {"reason": "grade_b"})
        self.assertEqual(self.list_result(response), ({brick.pk}, 1))
        counts = {code: n for code, _label, n in response.context["counts"]}
        self.assertEqual(counts["grade_b_earth"], 4)
        self.assertEqual(counts["grade_b"], 1)
        self.assertEqual(counts["category"], 0)
        self.assertEqual(
            [code for code, _label, _n in response.context["counts"]],
            ["category", "grade_b_earth", "grade_b", "reinforced", "site_hazard"],
        )

    def test_households_off_the_list_are_not_shown(self) -> None:
        off = factories.household(self.villages["home"])
        self.as_user("village")
        self.assertNotIn(off.pk, self.list_all()[0])

    def test_division_filter_cannot_widen_the_scope(self) -> None:
        self.as_user("county")
        response = self.client.get(self.page_url("list"), {"division": factories.SHENMU})
        self.assertEqual(self.list_result(response), (set(), 0))

    def test_empty_state(self) -> None:
        Alert.objects.all().delete()
        self.as_user("county")
        self.assertContains(self.client.get(self.page_url("list")), "本辖区目前没有动态监测对象")


def read_xlsx(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


class MonitoringExportViewTests(ScopeTestCase):
    model = Household
    action_app = "policy"
    covers = ("policy:monitoring_export",)

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        return listed_household(village)

    def export(self, key: str | None, **params):
        self.as_user(key)
        return self.client.get(reverse("policy:monitoring_export"), params)

    def rows_for(self, key: str, **params) -> list[list]:
        response = self.export(key, **params)
        self.assertEqual(response.status_code, 200)
        self.assertIn("spreadsheetml", response["Content-Type"])
        self.assertIn("attachment", response["Content-Disposition"])
        return read_xlsx(b"".join(response.streaming_content))

    def test_anonymous_redirects_and_no_role_is_refused(self) -> None:
        self.assertLoginRedirect(self.export(None))
        self.assertEqual(self.export("no_role").status_code, 403)

    def test_each_user_exports_exactly_their_scope(self) -> None:
        names = {h.pk: h.head_name for h in self.fixture_objects()}
        for key in self.user_keys():
            if not self.may(key, "view"):
                continue
            with self.subTest(user=key):
                rows = self.rows_for(key)
                self.assertEqual(rows[0], HEADERS)
                expected = {names[o.pk] for o in self.fixture_objects() if self.can_see(key, o)}
                self.assertEqual({r[4] for r in rows[1:]}, expected)
                self.assertEqual([r[0] for r in rows[1:]], list(range(1, len(expected) + 1)))

    def test_row_content_masked_id_and_reasons(self) -> None:
        household = self.in_scope[0]
        rows = self.rows_for("village")
        row = next(r for r in rows[1:] if r[4] == household.head_name)
        self.assertEqual(row[1:4], ["榆阳区", household.division.parent.name, household.division.name])
        self.assertEqual(row[5], household.id_masked)
        self.assertIn("*", row[5])
        self.assertEqual(row[7], "土木")
        self.assertEqual(row[8], "B级")
        self.assertEqual(row[9], "B级房屋（土木），土木、生土、窑洞优先关注")
        self.assertEqual(row[10], self.users["village"].get_full_name())

    def test_filters_apply_to_the_export(self) -> None:
        rows = self.rows_for("county", division=factories.YUYANG_TOWN_2)
        self.assertEqual([r[4] for r in rows[1:]], [self.in_sibling_town.head_name])
        self.assertEqual(len(self.rows_for("county", reason="category")), 1)  # header only

    def test_frozen_header_and_column_widths(self) -> None:
        content = b"".join(self.export("county").streaming_content)
        sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
        self.assertIn('ySplit="1"', sheet)
        self.assertIn('state="frozen"', sheet)
        self.assertIn("<cols>", sheet)
        self.assertIn('width="60.7109375"', sheet)  # 纳入原因


class PolicyPageQueryCountTests(ScopeTestCase):
    """List pages: the same number of queries for 3 rows and for 30."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.qc_village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        cls.category = TargetCategory.objects.order_by("sort_order").first()

    def grow_households(self, rows: list) -> callable:
        def grow(n: int) -> None:
            while len(rows) < n:
                household = listed_household(self.qc_village)
                registry.household_category_add(
                    actor=self.users["county"], household=household, category=self.category, certified_on=None
                )
                alerts_refresh(household_ids=[household.pk])
                rows.append(household)

        return grow

    def test_alert_list(self) -> None:
        self.as_user("county")
        url = reverse("policy:alert_list")
        self.assertQueryCountsStable(
            "policy:alert_list", grow=self.grow_households([]), fetch=lambda: self.client.get(url), sizes=(3, 30)
        )

    def test_alert_mine(self) -> None:
        self.as_user("town")  # nobody at the village: the town staff answers for its alerts
        url = reverse("policy:alert_mine")
        self.assertQueryCountsStable(
            "policy:alert_mine", grow=self.grow_households([]), fetch=lambda: self.client.get(url), sizes=(3, 30)
        )
        self.assertEqual(self.client.get(url).context["page"].paginator.count, 60)

    def test_monitoring_list(self) -> None:
        self.as_user("county")
        url = reverse("policy:monitoring_list")
        self.assertQueryCountsStable(
            "policy:monitoring_list", grow=self.grow_households([]), fetch=lambda: self.client.get(url), sizes=(3, 30)
        )
        self.assertEqual(self.client.get(url).context["page"].paginator.count, 30)
