"""Every chain page and endpoint under the scope helper (P18): anonymous → login/401, no action → 403, another
county or a sibling town → 404, writes audited once, and the level rule refused in Chinese."""

from __future__ import annotations

from django.urls import reverse

from anju.audit.actions import Action
from anju.divisions.models import Division
from anju.responsibility.models import Assignment
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import APIViewTestCases, ScopeTestCase

from .world import assign, household_assignment, person


class ChainScope(ScopeTestCase):
    __test__ = False
    model = Assignment

    @classmethod
    def build_in_scope(cls, village: Division) -> Assignment:
        return household_assignment(village)

    def keys_with(self, verb: str) -> list[str]:
        return [k for k in self.user_keys() if self.may(k, verb)]


class ChainPageTests(ChainScope):
    covers = ("responsibility:chain_home", "responsibility:chain", "responsibility:person_detail")

    def test_anonymous_redirects_to_login(self) -> None:
        self.as_user(None)
        obj = self.in_scope[0]
        for url in (
            reverse("responsibility:chain_home"),
            reverse("responsibility:chain", kwargs={"pk": obj.division_id}),
            reverse("responsibility:person_detail", kwargs={"pk": obj.person_id}),
        ):
            self.assertLoginRedirect(self.client.get(url))

    def test_home_opens_the_users_own_division(self) -> None:
        for key in self.user_keys():
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(reverse("responsibility:chain_home"))
                if not self.may(key, "view"):
                    self.assertEqual(response.status_code, 403)
                elif self.users[key].division_id is None:
                    self.assertEqual(response.status_code, 404)
                else:
                    code = self.users[key].division_id
                    self.assertRedirects(response, reverse("responsibility:chain", kwargs={"pk": code}))

    def test_chain_page_status_for_every_user_and_village(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=obj.division_id):
                    response = self.client.get(reverse("responsibility:chain", kwargs={"pk": obj.division_id}))
                    if not self.may(key, "view"):
                        self.assertEqual(response.status_code, 403)
                    elif self.can_see(key, obj):
                        self.assertEqual(response.status_code, 200)
                        self.assertContains(response, obj.person_name)  # the household's person, listed
                    else:
                        self.assertEqual(response.status_code, 404)

    def test_town_page_highlights_unassigned_villages(self) -> None:
        self.as_user("town")
        response = self.client.get(reverse("responsibility:chain", kwargs={"pk": factories.YUYANG_TOWN}))
        self.assertEqual(response.status_code, 200)
        rows = {row.target.code: row.assignment for row in response.context["rows"]}
        self.assertIn(self.villages["home"].code, rows)
        self.assertIsNone(rows[self.villages["home"].code])  # only households are assigned in the fixture
        self.assertContains(response, "table-warning")
        self.assertEqual(response.context["unassigned"], response.context["total"])
        self.assertTrue(response.context["may_assign_children"])
        sibling = self.client.get(reverse("responsibility:chain", kwargs={"pk": factories.YUYANG_TOWN_2}))
        self.assertEqual(sibling.status_code, 404)

    def test_city_and_county_pages_list_the_level_below_p18(self) -> None:
        """policy: P18 — 市包县 on the city's page (the admin names), 县包镇 on the county's (the manager names)."""
        for key, code, child, may in (
            ("admin", "610800000000", factories.YUYANG, True),
            ("supervisor", "610800000000", factories.SHENMU, False),
            ("county", factories.YUYANG, factories.YUYANG_TOWN, True),
        ):
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(reverse("responsibility:chain", kwargs={"pk": code}))
                self.assertEqual(response.status_code, 200)
                self.assertIn(child, {row.target.code for row in response.context["rows"]})
                self.assertEqual(response.context["may_assign_children"], may)

    def test_person_page_status_and_content(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=obj.division_id):
                    response = self.client.get(reverse("responsibility:person_detail", kwargs={"pk": obj.person_id}))
                    if not self.may(key, "view"):
                        self.assertEqual(response.status_code, 403)
                    elif self.can_see(key, obj):
                        self.assertEqual(response.status_code, 200)
                        self.assertEqual([a.pk for a in response.context["current"]], [obj.pk])
                    else:
                        self.assertEqual(response.status_code, 404)

    def test_chain_page_query_count_does_not_grow_with_households(self) -> None:
        village = self.villages["home"]
        made: list = []

        def grow(n: int) -> None:
            while len(made) < n:
                made.append(household_assignment(village))

        self.as_user("town")
        url = reverse("responsibility:chain", kwargs={"pk": village.code})
        self.assertQueryCountsStable(
            "responsibility:chain", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30)
        )


class AssignPageTests(ChainScope):
    covers = ("responsibility:division_assign", "responsibility:household_assign", "responsibility:assignment_end")

    def division_url(self, code: str) -> str:
        return reverse("responsibility:division_assign", kwargs={"pk": code})

    def test_anonymous_redirects_and_writes_nothing(self) -> None:
        self.as_user(None)
        obj = self.in_scope[0]
        for url in (
            self.division_url(obj.division_id),
            reverse("responsibility:household_assign", kwargs={"pk": obj.household_id}),
            reverse("responsibility:assignment_end", kwargs={"pk": obj.pk}),
        ):
            before = self.snapshot()
            self.assertLoginRedirect(self.client.get(url))
            self.assertLoginRedirect(self.client.post(url, {"reason": "x"}))
            self.assertNothingWritten(before, url)

    def test_form_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                urls = (
                    self.division_url(obj.division_id),
                    reverse("responsibility:household_assign", kwargs={"pk": obj.household_id}),
                    reverse("responsibility:assignment_end", kwargs={"pk": obj.pk}),
                )
                for url in urls:
                    with self.subTest(user=key, url=url):
                        status = self.client.get(url).status_code
                        if not self.may(key, "assign"):
                            self.assertEqual(status, 403)
                        else:
                            self.assertEqual(status, 200 if self.can_see(key, obj) else 404)

    def test_town_names_a_village_person_once_audited(self) -> None:
        village = self.villages["home"]
        officer = self.users["village"]
        self.as_user("town")
        since = self.last_event_id()
        response = self.client.post(self.division_url(village.code), {"person": officer.pk, "reason": "村包抓"})
        self.assertRedirects(response, reverse("responsibility:chain", kwargs={"pk": factories.YUYANG_TOWN}))
        created = Assignment.objects.get(division=village, household=None, ended_at=None)
        self.assertEqual((created.person, created.assigned_by), (officer, self.users["town"]))
        self.assertOneEvent(since, response, Action.RESPONSIBLE_ASSIGNED, self.users["town"], created)

    def test_county_cannot_name_a_village_person_p18(self) -> None:
        """policy: P18 — 镇包村户: villages are assigned by their town, not by the county."""
        self.as_user("county")
        before = self.snapshot()
        response = self.client.post(self.division_url(self.villages["home"].code), {"person": self.users["village"].pk})
        self.assertRefusedForm(response)
        self.assertContains(response, "行政村（社区）的包抓责任人由乡镇人员指定")
        self.assertNothingWritten(before, response)

    def test_refused_without_the_action_and_outside_the_subtree(self) -> None:
        village = self.villages["home"]
        for key in self.user_keys():
            if self.may(key, "assign"):
                continue
            with self.subTest(user=key):
                self.as_user(key)
                before = self.snapshot()
                response = self.client.post(self.division_url(village.code), {"person": self.users["village"].pk})
                self.assertEqual(response.status_code, 403)
                self.assertNothingWritten(before, response)
        for key, code in [("town", self.villages["sibling_town"].code), ("other_county", village.code)]:
            with self.subTest(user=key):
                self.as_user(key)
                before = self.snapshot()
                response = self.client.post(self.division_url(code), {"person": self.users["village"].pk})
                self.assertEqual(response.status_code, 404)
                self.assertNothingWritten(before, response)

    def test_household_change_and_end_each_leave_one_event(self) -> None:
        obj = self.in_town
        newcomer = person(obj.division_id)
        self.as_user("town")
        since = self.last_event_id()
        url = reverse("responsibility:household_assign", kwargs={"pk": obj.household_id})
        response = self.client.post(url, {"person": newcomer.pk, "phone": "13900000000", "reason": "人员调整"})
        self.assertEqual(response.status_code, 302)
        new = Assignment.objects.get(household_id=obj.household_id, ended_at=None)
        event = self.assertOneEvent(since, response, Action.RESPONSIBLE_ASSIGNED, self.users["town"], new)
        self.assertEqual(event.before["person"], obj.person_id)
        self.assertIsNotNone(Assignment.objects.get(pk=obj.pk).ended_at)  # the old row ended, not overwritten
        since = self.last_event_id()
        end = reverse("responsibility:assignment_end", kwargs={"pk": new.pk})
        response = self.client.post(end, {"reason": "调离"})
        self.assertEqual(response.status_code, 302)
        self.assertOneEvent(since, response, Action.RESPONSIBLE_ENDED, self.users["town"], new)
        self.assertFalse(Assignment.objects.filter(household_id=obj.household_id, ended_at=None).exists())


class AssignmentAPIListTests(APIViewTestCases.ListView, ChainScope):
    api_basename = "responsibility"

    def test_list_filters_by_person_and_rejects_unknown_division(self) -> None:
        obj = self.in_scope[0]
        body = self.api_list("county", person=obj.person_id).json()
        self.assertEqual([item["id"] for item in body["items"]], [obj.pk])
        assert_error_body(self.api_list("county", division="999999999999"), 400)

    def test_persons_named_above_are_seen_down_the_tree(self) -> None:
        """A village sees who answers for its town and county (read only); another county does not."""
        county = assign(Division.objects.get(code=factories.YUYANG), person(factories.YUYANG, "county_manager"))
        for key, seen in (("village", True), ("town", True), ("county", True), ("other_county", False)):
            with self.subTest(user=key):
                listed, _count = self.api_list_all(key, level="county")
                self.assertEqual(county.pk in listed, seen)

    def test_list_query_count_does_not_grow(self) -> None:
        village = self.villages["home"]
        made: list = []

        def grow(n: int) -> None:
            while len(made) < n:
                made.append(household_assignment(village))

        url = self.api_url("list")
        self.assertQueryCountsStable(
            "api:responsibility_list", grow=grow, fetch=lambda: self.api("GET", url, "county"), sizes=(3, 30)
        )


class AssignmentAPIWriteTests(ChainScope):
    covers = ("api:responsibility_assign", "api:responsibility_end", "api:responsibility_person")

    def url(self, name: str, **kwargs) -> str:
        return reverse(f"api:responsibility_{name}", kwargs=kwargs or None)

    def test_anonymous_is_401(self) -> None:
        obj = self.in_scope[0]
        assert_error_body(self.api("POST", self.url("assign"), None, {"person_id": 1}), 401, errors=False)
        assert_error_body(self.api("POST", self.url("end", pk=obj.pk), None, {"reason": "x"}), 401, errors=False)
        assert_error_body(self.api("GET", self.url("person", pk=obj.person_id), None), 401, errors=False)

    def test_assign_for_every_user(self) -> None:
        """Each role with the action assigns at its own level only; others 403; other subtrees 404."""
        village = self.villages["home_town"]
        officer = person(village.code)
        for key in self.user_keys():
            with self.subTest(user=key):
                before = self.snapshot()
                response = self.api(
                    "POST", self.url("assign"), key, {"division": village.code, "person_id": officer.pk}
                )
                if not self.may(key, "assign"):
                    assert_error_body(response, 403, errors=False)
                elif not self.code_visible(key, village.code):
                    assert_error_body(response, 404, errors=False)
                elif key != "town":
                    body = assert_error_body(response, 403)
                    self.assertIn("由乡镇人员指定", body["detail"])
                else:
                    self.assertEqual(response.status_code, 201, response.content[:300])
                    self.assertEqual(response.json()["person"], officer.pk)
                    continue
                self.assertNothingWritten(before, response)

    def test_assign_bad_input_is_400_not_500(self) -> None:
        for payload in (
            {"person_id": self.users["village"].pk},
            {"division": factories.YUYANG_TOWN, "household_id": self.in_town.household_id, "person_id": 1},
            {"division": self.villages["home"].code, "person_id": 999999},
            {"division": self.villages["home"].code, "person_id": self.users["other_county"].pk},
        ):
            with self.subTest(payload=payload):
                assert_error_body(self.api("POST", self.url("assign"), "town", payload), 400)
        response = self.api("POST", self.url("assign"), "town", {"division": "x", "person_id": "y"})
        self.assertEqual(response.status_code, 400)

    def test_end_and_person_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=obj.division_id):
                    response = self.api("GET", self.url("person", pk=obj.person_id), key)
                    if not self.may(key, "view"):
                        assert_error_body(response, 403, errors=False)
                    elif self.can_see(key, obj):
                        self.assertEqual([a["id"] for a in response.json()["assignments"]], [obj.pk])
                    else:
                        assert_error_body(response, 404, errors=False)
        obj = self.in_scope[0]
        for key in ("county", "other_county", "village", "department"):
            with self.subTest(user=key):
                before = self.snapshot()
                response = self.api("POST", self.url("end", pk=obj.pk), key, {"reason": "调离"})
                expected = {"county": 403, "other_county": 404, "village": 403, "department": 403}[key]
                assert_error_body(response, expected, errors=key == "county")
                self.assertNothingWritten(before, response)
        since = self.last_event_id()
        response = self.api("POST", self.url("end", pk=obj.pk), "town", {"reason": "调离"})
        self.assertEqual(response.status_code, 200, response.content[:300])
        self.assertIsNotNone(response.json()["ended_at"])
        self.assertOneEvent(since, response, Action.RESPONSIBLE_ENDED, self.users["town"], obj)
        assert_error_body(self.api("POST", self.url("end", pk=obj.pk), "town", {"reason": "again"}), 409)
