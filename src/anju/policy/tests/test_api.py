"""Alert and monitoring endpoints under the scope/permission helper; filters, error format, query budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from anju.core import idnumber
from anju.divisions.models import Division
from anju.policy.models import Alert, AlertStatus
from anju.policy.services import alerts_refresh
from anju.registry import services as registry
from anju.registry.models import Household, TargetCategory
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import APIViewTestCases, ScopeTestCase

from .builders import listed_household, overdue_request

P7, P8 = "P7.monitoring", "P8.appraisal_overdue"


class AlertAPITests(APIViewTestCases.ListView, APIViewTestCases.DetailView):
    model = Alert
    api_basename = "alerts"

    @classmethod
    def build_in_scope(cls, village: Division) -> Alert:
        return Alert.objects.get(household=listed_household(village))

    def items(self, key: str = "county", **params: Any) -> list[dict[str, Any]]:
        response = self.api_list(key, page_size=100, **params)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response.json()["items"]

    def test_item_names_rule_object_due_and_responsible(self) -> None:
        alert = self.in_scope[0]
        item = next(i for i in self.items("village") if i["id"] == alert.pk)
        self.assertEqual(item["rule_id"], P7)
        self.assertEqual(item["policy_ids"], ["P7"])
        self.assertEqual((item["object_type"], item["object_id"]), ("registry.household", alert.household_id))
        self.assertEqual(item["household_id"], alert.household_id)
        self.assertEqual(item["head_name"], alert.household.head_name)
        self.assertEqual(item["division_code"], alert.division_id)
        self.assertEqual(item["county"], "榆阳区")
        self.assertEqual(item["responsible_id"], self.users["village"].pk)
        self.assertEqual(item["responsible_name"], self.users["village"].get_full_name())
        self.assertEqual(item["status"], "open")
        self.assertIsNone(item["due_on"])

    def test_filters(self) -> None:
        household = self.in_scope[0].household
        overdue_request(household, dt.date(2026, 1, 5))
        alerts_refresh(household_ids=[household.pk])
        p8 = Alert.objects.get(rule_id=P8)
        self.assertEqual([i["id"] for i in self.items(rule=P8)], [p8.pk])
        self.assertEqual([i["id"] for i in self.items(severity="critical")], [p8.pk])
        self.assertEqual([i["id"] for i in self.items(due="overdue")], [p8.pk])
        self.assertEqual(self.items(due="3"), [])
        self.assertEqual(len(self.items(division=factories.YUYANG_TOWN)), 4)
        self.assertEqual(len(self.items(division=factories.YUYANG_TOWN_2)), 1)
        self.assertEqual(
            {i["id"] for i in self.items(responsible=str(self.users["village"].pk))},
            {a.pk for a in self.in_scope} | {p8.pk},
        )
        self.assertEqual({i["id"] for i in self.items("town", responsible="me")}, {self.in_town.pk})
        Alert.objects.filter(pk=p8.pk).update(status=AlertStatus.RESOLVED)
        self.assertEqual(self.items(rule=P8), [])
        self.assertEqual([i["id"] for i in self.items(rule=P8, status="resolved")], [p8.pk])
        self.assertEqual(len(self.items(status="all")), 5)
        detail = self.api("GET", self.api_url("detail", p8), "county").json()
        self.assertEqual((detail["status"], detail["object_type"]), ("resolved", "inspections.appraisalrequest"))

    def test_division_filter_cannot_widen_the_scope(self) -> None:
        self.assertEqual(self.items("county", division=factories.SHENMU), [])

    def test_bad_filters_answer_400_in_chinese(self) -> None:
        for params, field in [
            ({"due": "soon"}, "due"),
            ({"division": "999999999999"}, "division"),
            ({"status": "closed"}, "status"),
            ({"rule": "P99.none"}, "rule"),
            ({"responsible": "somebody"}, "responsible"),
        ]:
            with self.subTest(params=params):
                body = assert_error_body(self.api_list("county", **params), 400)
                self.assertEqual([e["field"] for e in body["errors"]], [field])


class MonitoringAPITests(APIViewTestCases.ListView):
    model = Household
    action_app = "policy"
    api_basename = "monitoring"

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        return listed_household(village)

    def test_item_lists_every_reason_with_a_masked_id(self) -> None:
        household = self.in_scope[0]
        category = TargetCategory.objects.order_by("sort_order").first()
        registry.household_category_add(
            actor=self.users["county"], household=household, category=category, certified_on=None
        )
        alerts_refresh(household_ids=[household.pk])
        body = self.api_list("village").json()
        item = next(i for i in body["items"] if i["id"] == household.pk)
        self.assertEqual([r["reason"] for r in item["reasons"]], ["category", "grade_b_earth"])
        self.assertEqual(item["reasons"][1]["label"], "B级土木/生土/窑洞房屋")
        self.assertEqual(item["categories"], [category.name])
        self.assertEqual(item["houses"][0]["structure"], "earth_wood")
        self.assertEqual(item["houses"][0]["grade"], "B")
        self.assertEqual(item["id_number"], household.id_masked)
        self.assertNotIn(idnumber.decrypt(household.id_cipher), str(body))
        self.assertEqual(item["responsible_name"], self.users["village"].get_full_name())
        self.assertEqual(item["county"], "榆阳区")

    def test_filter_by_reason_and_division(self) -> None:
        brick = listed_household(self.villages["home"], structure="brick_concrete")
        ids = {i["id"] for i in self.api_list("county", reason="grade_b").json()["items"]}
        self.assertEqual(ids, {brick.pk})
        body = self.api_list("county", division=factories.YUYANG_TOWN_2).json()
        self.assertEqual((body["count"], body["items"][0]["id"]), (1, self.in_sibling_town.pk))
        self.assertEqual(self.api_list("county", division=factories.SHENMU).json()["count"], 0)
        assert_error_body(self.api_list("county", reason="rich"), 400)


class PolicyAPIQueryCountTests(ScopeTestCase):
    """API lists: the same number of queries for 3 rows and for 30."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.qc_village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")

    def check_list(self, key: str) -> None:
        rows: list[Household] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(listed_household(self.qc_village))

        url = reverse(key)
        self.assertQueryCountsStable(key, grow=grow, fetch=lambda: self.api("GET", url, "county"), sizes=(3, 30))
        self.assertEqual(self.api("GET", url, "county").json()["count"], 30)

    def test_alerts_list(self) -> None:
        self.check_list("api:alerts_list")

    def test_monitoring_list(self) -> None:
        self.check_list("api:monitoring_list")

    def test_alerts_detail(self) -> None:
        alert = Alert.objects.get(household=listed_household(self.qc_village))
        url = reverse("api:alerts_detail", kwargs={"pk": alert.pk})
        self.assertQueryCountsStable(
            "api:alerts_detail", grow=lambda n: None, fetch=lambda: self.api("GET", url, "county"), sizes=(1, 1)
        )
