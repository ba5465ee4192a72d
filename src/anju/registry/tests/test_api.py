"""Registry API under the scope/permission helper: every role and level, masked IDs, query budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core import idnumber
from anju.divisions.models import Division
from anju.registry import services
from anju.registry.models import GradeSource, House, Household, TargetCategory
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import APIViewTestCases, ScopeTestCase


class HouseholdAPITests(APIViewTestCases.PrimaryObjectAPITestCase):
    model = Household
    api_basename = "households"
    create_action = Action.HOUSEHOLD_CREATED
    update_action = Action.HOUSEHOLD_CHANGED

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        household = factories.household(village)
        factories.house(household)
        return household

    def create_payload(self, near: Household) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "head_name": "李新户",
            "id_number": factories.id_number(near.division_id[:6]),
            "size": 4,
        }

    def update_payload(self, obj: Household) -> dict[str, Any]:
        return {"size": obj.size % 30 + 1}

    def move_payload(self, obj: Household, village: Division) -> dict[str, Any]:
        return {"division_code": village.code}

    def full_ids(self) -> list[str]:
        return [idnumber.decrypt(h.id_cipher) for h in Household.objects.all()]

    def test_full_id_never_in_json_unless_revealed(self) -> None:
        full = self.full_ids()
        self.assertGreaterEqual(len(full), 5)
        for key in self.user_keys():
            urls = [
                (self.api_url("list"), {"page_size": 100}),
                (self.api_url("list"), {"reveal_id": "true"}),
                (reverse("api:houses_list"), {}),
            ]
            urls += [(self.api_url("detail", obj), {}) for obj in self.fixture_objects()]
            urls += [(reverse("api:houses_detail", kwargs={"pk": obj.houses.get().pk}), {}) for obj in self.in_scope]
            for url, params in urls:
                with self.subTest(user=key, url=url, params=params):
                    text = self.api("GET", url, key, **params).content.decode()
                    for number in full:
                        self.assertNotIn(number, text)
                        self.assertNotIn(number[:14], text)

    def test_masked_id_in_list_and_detail(self) -> None:
        obj = self.in_scope[0]
        item = next(i for i in self.api("GET", self.api_url("list"), "village").json()["items"] if i["id"] == obj.pk)
        self.assertEqual(item["id_number"], obj.id_masked)
        self.assertEqual(self.api("GET", self.api_url("detail", obj), "village").json()["id_number"], obj.id_masked)

    def test_reveal_id_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=obj.division_id):
                    since = self.last_event_id()
                    response = self.api("GET", self.api_url("detail", obj), key, reveal_id="true")
                    full = idnumber.decrypt(obj.id_cipher)
                    if not self.may(key, "view"):
                        assert_error_body(response, 403, errors=False)
                    elif not self.can_see(key, obj):
                        assert_error_body(response, 404, errors=False)
                    elif not self.may(key, "view_id"):
                        assert_error_body(response, 403, errors=False)
                    else:
                        self.assertEqual(response.status_code, 200)
                        self.assertEqual(response.json()["id_number"], full)
                        self.assertOneEvent(since, response, Action.HOUSEHOLD_ID_VIEWED, self.users[key], obj)
                        continue
                    self.assertNotIn(full, response.content.decode())
                    self.assertEqual(self.last_event_id(), since)

    def test_reveal_id_refused_for_roles_without_view_id(self) -> None:
        for key in ("village", "department", "appraiser", "supervisor"):
            with self.subTest(user=key):
                since = self.last_event_id()
                response = self.api("GET", self.api_url("detail", self.in_scope[0]), key, reveal_id="true")
                assert_error_body(response, 403, errors=False)
                self.assertEqual(self.last_event_id(), since)

    def test_division_filter_cannot_widen_the_scope(self) -> None:
        body = self.api("GET", self.api_url("list"), "county", division=factories.SHENMU).json()
        self.assertEqual(body, {"items": [], "count": 0})
        body = self.api("GET", self.api_url("list"), "town", division=factories.YUYANG).json()
        self.assertEqual(body["count"], self.expected_count("town"))

    def test_create_with_members_and_category_is_one_request(self) -> None:
        category = TargetCategory.objects.filter(is_active=True).first()
        self.assertIsNotNone(category)
        payload = self.create_payload(self.in_scope[0]) | {
            "members": [{"name": "李小", "relation": "子女", "birth_year": 2005}],
            "categories": [{"code": category.code, "certified_on": "2021-03-01"}],
        }
        since = self.last_event_id()
        response = self.api("POST", self.api_url("create"), "town", payload)
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual([c["code"] for c in body["categories"]], [category.code])
        self.assertEqual([m["name"] for m in body["members"]], ["李小"])
        actions = sorted(Event.objects.filter(pk__gt=since).values_list("action", flat=True))
        self.assertEqual(
            actions, sorted([Action.HOUSEHOLD_CREATED, Action.MEMBER_ADDED, Action.HOUSEHOLD_CATEGORY_ADDED])
        )
        request_ids = set(Event.objects.filter(pk__gt=since).values_list("request_id", flat=True))
        self.assertEqual(request_ids, {response["X-Request-ID"]})


class HouseAPITests(APIViewTestCases.PrimaryObjectAPITestCase):
    model = House
    api_basename = "houses"
    create_action = Action.HOUSE_CREATED
    update_action = Action.HOUSE_CHANGED

    @classmethod
    def build_in_scope(cls, village: Division) -> House:
        return factories.house(factories.household(village))

    def create_payload(self, near: House) -> dict[str, Any]:
        return {"household_id": near.household_id, "structure": "brick_concrete", "floor_area": "70.5"}

    def update_payload(self, obj: House) -> dict[str, Any]:
        return {"storeys": obj.storeys % 10 + 1}

    def test_new_grade_is_one_graded_event(self) -> None:
        obj = self.in_scope[0]
        since = self.last_event_id()
        response = self.api("PATCH", self.api_url("update", obj), "county", {"grade": "D", "graded_on": "2021-05-14"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["grade"], "D")
        self.assertEqual(response.json()["grade_history"][0]["grade"], "D")
        self.assertOneEvent(since, response, Action.HOUSE_GRADED, self.users["county"], obj)

    def test_grade_without_date_writes_nothing(self) -> None:
        obj = self.in_scope[0]
        before, row = self.snapshot(), self.row(obj)
        response = self.api("PATCH", self.api_url("update", obj), "county", {"grade": "D", "note": "墙体开裂"})
        assert_error_body(response, 400)
        self.assertNothingWritten(before, response)
        self.assertEqual(self.row(obj), row)


class RegistryAPIQueryCountTests(ScopeTestCase):
    """API lists: the same number of queries for 3 rows and for 30; details: for 1 house (record) and for 5."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.qc_village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        cls.category = TargetCategory.objects.order_by("sort_order").first()

    def add_household(self) -> Household:
        household = factories.household(self.qc_village)
        if self.category is not None:
            services.household_category_add(
                actor=self.users["county"], household=household, category=self.category, certified_on=None
            )
        self.add_house(household)
        return household

    def add_house(self, household: Household) -> House:
        return factories.house(
            household, actor=self.users["county"], grade="C", graded_on=dt.date(2021, 5, 14), grade_source="manual"
        )

    def get(self, url: str, **params: Any):
        return lambda: self.api("GET", url, "county", **params)

    def check_list(self, key: str, url: str) -> None:
        rows: list[Household] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(self.add_household())

        self.assertQueryCountsStable(key, grow=grow, fetch=self.get(url), sizes=(3, 30))
        self.assertEqual(self.api("GET", url, "county").json()["count"], 30)

    def test_households_list(self) -> None:
        self.check_list("api:households_list", reverse("api:households_list"))

    def test_houses_list(self) -> None:
        self.check_list("api:houses_list", reverse("api:houses_list"))

    def test_household_detail(self) -> None:
        household = factories.household(self.qc_village)
        houses: list[House] = []

        def grow(n: int) -> None:
            while len(houses) < n:
                houses.append(self.add_house(household))

        url = reverse("api:households_detail", kwargs={"pk": household.pk})
        self.assertQueryCountsStable("api:households_detail", grow=grow, fetch=self.get(url), sizes=(1, 5))
        self.assertEqual(len(self.api("GET", url, "county").json()["houses"]), 5)

    def test_house_detail(self) -> None:
        house = self.add_house(factories.household(self.qc_village))
        records = [house]

        def grow(n: int) -> None:
            while len(records) < n:
                services.house_grade(
                    actor=self.users["county"],
                    house=house,
                    grade="D",
                    graded_on=dt.date(2021, 6, len(records)),
                    source=GradeSource.MANUAL,
                )
                records.append(house)

        url = reverse("api:houses_detail", kwargs={"pk": house.pk})
        self.assertQueryCountsStable("api:houses_detail", grow=grow, fetch=self.get(url), sizes=(1, 5))
        self.assertEqual(len(self.api("GET", url, "county").json()["grade_history"]), 5)
