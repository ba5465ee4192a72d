"""Registry pages under the scope/permission helper: every role, every level, masked IDs, query budgets."""

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
from anju.testing.scope import ScopeTestCase, ViewTestCases


class HouseholdViewTests(ViewTestCases.PrimaryObjectViewTestCase):
    model = Household
    create_action = Action.HOUSEHOLD_CREATED
    update_action = Action.HOUSEHOLD_CHANGED

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        return factories.household(village)

    def create_data(self, near: Household) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "head_name": "李新户",
            "id_number": factories.id_number(near.division_id[:6]),
            "size": 4,
            "security_method": "own",
            "group_name": "二组",
            "phone": "13800000000",
        }

    def update_data(self, obj: Household) -> dict[str, Any]:
        return {
            "division_code": obj.division_id,
            "head_name": obj.head_name,
            "id_number": "",
            "size": obj.size % 30 + 1,
            "security_method": obj.security_method,
            "group_name": obj.group_name,
            "phone": obj.phone,
            "note": obj.note,
        }

    def move_data(self, obj: Household, village: Division) -> dict[str, Any]:
        return self.update_data(obj) | {"division_code": village.code}

    def full_ids(self) -> list[str]:
        return [idnumber.decrypt(h.id_cipher) for h in Household.objects.all()]

    def test_full_id_never_in_list_detail_or_edit_html(self) -> None:
        full = self.full_ids()
        self.assertGreaterEqual(len(full), 5)
        for key in self.user_keys():
            self.as_user(key)
            urls = [self.page_url("list"), self.page_url("list") + "?q=" + full[0][:6]]
            for obj in self.fixture_objects():
                urls += [self.page_url("detail", obj), self.page_url("edit", obj)]
            for url in urls:
                with self.subTest(user=key, url=url):
                    html = self.client.get(url).content.decode()
                    for number in full:
                        self.assertNotIn(number, html)
                        self.assertNotIn(number[:14], html)

    def test_masked_id_shown_on_list_and_detail(self) -> None:
        obj = self.in_scope[0]
        self.as_user("village")
        self.assertContains(self.client.get(self.page_url("list")), obj.id_masked)
        self.assertContains(self.client.get(self.page_url("detail", obj)), obj.id_masked)

    def test_htmx_rows_are_scoped_too(self) -> None:
        self.as_user("town")
        response = self.client.get(self.page_url("list"), headers={"HX-Request": "true"})
        self.assertTemplateUsed(response, "registry/_household_rows.html")
        listed, count = self.list_result(response)
        self.assertIn(self.in_town.pk, listed)
        self.assertNotIn(self.in_sibling_town.pk, listed)
        self.assertEqual(count, self.expected_count("town"))

    def test_division_filter_cannot_widen_the_scope(self) -> None:
        self.as_user("county")
        response = self.client.get(self.page_url("list"), {"division": factories.SHENMU})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.list_result(response), (set(), 0))
        self.as_user("town")
        response = self.client.get(self.page_url("list"), {"division": factories.YUYANG})
        self.assertEqual(self.list_result(response)[1], self.expected_count("town"))

    def test_search_by_full_id_finds_only_within_scope(self) -> None:
        number = idnumber.decrypt(self.out_of_scope.id_cipher)
        self.as_user("county")
        self.assertEqual(self.list_result(self.client.get(self.page_url("list"), {"q": number})), (set(), 0))
        self.as_user("other_county")
        listed, _ = self.list_result(self.client.get(self.page_url("list"), {"q": number}))
        self.assertEqual(listed, {self.out_of_scope.pk})


class HouseViewTests(ViewTestCases.AddView, ViewTestCases.EditView):
    """Houses have no list or detail page: they show on their household's page."""

    model = House
    add_url_has_parent = True
    create_action = Action.HOUSE_CREATED
    update_action = Action.HOUSE_CHANGED

    @classmethod
    def build_in_scope(cls, village: Division) -> House:
        return factories.house(factories.household(village))

    def add_url(self, near: House) -> str:
        return reverse("registry:house_add", kwargs={"pk": near.household_id})

    def create_data(self, near: House) -> dict[str, Any]:
        return {"structure": "brick_concrete", "build_year": 1999, "storeys": 1, "floor_area": "80.5", "grade": "U"}

    def update_data(self, obj: House) -> dict[str, Any]:
        data = {
            "structure": obj.structure,
            "build_year": obj.build_year or "",
            "storeys": obj.storeys % 10 + 1,
            "floor_area": obj.floor_area or "",
            "longitude": obj.longitude or "",
            "latitude": obj.latitude or "",
            "note": obj.note,
            "grade": obj.grade,
            "graded_on": obj.graded_on or "",
            "appraiser": "",
        }
        return data | ({"is_idle": "on"} if obj.is_idle else {})

    def test_edit_with_a_new_grade_records_it(self) -> None:
        obj = self.in_scope[0]
        self.as_user("town")
        since = self.last_event_id()
        data = self.update_data(obj) | {"storeys": obj.storeys, "grade": "C", "graded_on": "2021-05-14"}
        response = self.client.post(self.page_url("edit", obj), data)
        self.assertEqual(response.status_code, 302)
        self.assertOneEvent(since, response, Action.HOUSE_GRADED, self.users["town"], obj)
        self.assertEqual(House.objects.get(pk=obj.pk).grade, "C")


class HouseholdIdNumberTests(ScopeTestCase):
    """The htmx "show full number" button: registry.view_id only, in scope only, every view audited (PIPL)."""

    model = Household
    covers = ("registry:household_id_number",)

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        return factories.household(village)

    def reveal(self, obj: Household):
        return self.client.post(
            reverse("registry:household_id_number", kwargs={"pk": obj.pk}), headers={"HX-Request": "true"}
        )

    def test_anonymous_redirects_to_login_and_nothing_is_logged(self) -> None:
        self.as_user(None)
        since = self.last_event_id()
        self.assertLoginRedirect(self.reveal(self.in_scope[0]))
        self.assertEqual(self.last_event_id(), since)

    def test_get_is_not_allowed(self) -> None:
        self.as_user("county")
        url = reverse("registry:household_id_number", kwargs={"pk": self.in_scope[0].pk})
        self.assertEqual(self.client.get(url).status_code, 405)

    def test_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=obj.division_id):
                    since = self.last_event_id()
                    response = self.reveal(obj)
                    full = idnumber.decrypt(obj.id_cipher)
                    if not self.may(key, "view_id"):
                        self.assertEqual(response.status_code, 403)
                    elif not self.can_see(key, obj):
                        self.assertEqual(response.status_code, 404)
                    else:
                        self.assertEqual(response.status_code, 200)
                        self.assertContains(response, full)
                        self.assertOneEvent(since, response, Action.HOUSEHOLD_ID_VIEWED, self.users[key], obj)
                        continue
                    self.assertNotIn(full, response.content.decode())
                    self.assertEqual(self.last_event_id(), since)

    def test_roles_without_view_id_are_refused_in_scope(self) -> None:
        for key in ("village", "department", "appraiser", "supervisor"):
            with self.subTest(user=key):
                self.as_user(key)
                self.assertEqual(self.reveal(self.in_scope[0]).status_code, 403)
        self.assertFalse(Event.objects.filter(action=Action.HOUSEHOLD_ID_VIEWED).exists())


class RegistryPageQueryCountTests(ScopeTestCase):
    """List pages: the same number of queries for 3 rows and for 30; detail: for 1 house and for 5."""

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
            household,
            actor=self.users["county"],
            grade="C",
            graded_on=dt.date(2021, 5, 14),
            grade_source=GradeSource.MANUAL,
        )

    def test_household_list(self) -> None:
        rows: list[Household] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(self.add_household())

        self.as_user("county")
        url = reverse("registry:household_list")
        self.assertQueryCountsStable(
            "registry:household_list", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30)
        )
        self.assertEqual(self.client.get(url).context["page"].paginator.count, 30)

    def test_household_detail(self) -> None:
        household = factories.household(self.qc_village)
        houses: list[House] = []

        def grow(n: int) -> None:
            while len(houses) < n:
                houses.append(self.add_house(household))

        self.as_user("county")
        url = reverse("registry:household_detail", kwargs={"pk": household.pk})
        self.assertQueryCountsStable(
            "registry:household_detail", grow=grow, fetch=lambda: self.client.get(url), sizes=(1, 5)
        )
        self.assertEqual(self.client.get(url).context["household"].houses.count(), 5)
