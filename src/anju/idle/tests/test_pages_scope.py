"""Every idle list page under the scope/permission helper (P11): anonymous → login, a role without the action →
403, a listing of another county or of a sibling town → 404 and absent from the list, one audit event per write;
the phone visit form; query budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.urls import reverse

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.idle import services
from anju.idle.models import IdleHouse
from anju.testing import factories
from anju.testing.scope import ViewTestCases, form_errors

from .builders import listing, png
from .world import IdleWorld

TODAY = dt.date.today().isoformat()


class IdlePageTests(
    IdleWorld, ViewTestCases.ListView, ViewTestCases.DetailView, ViewTestCases.AddView, ViewTestCases.EditView
):
    create_action = Action.IDLE_LISTED
    update_action = Action.IDLE_CHANGED
    add_url_has_parent = True

    def add_url(self, near: Any) -> str:
        return reverse("idle:idlehouse_add") + f"?house={self.spare_house(near).pk}"

    def create_data(self, near: Any) -> dict[str, Any]:
        return {"listed_on": TODAY, "watcher_name": "王五", "watcher_phone": "13800000002", "visit_interval_days": 30}

    def update_data(self, obj: IdleHouse) -> dict[str, Any]:
        return {
            "watcher_name": obj.watcher_name + "甲",
            "watcher_phone": obj.watcher_phone,
            "visit_interval_days": obj.visit_interval_days,
            "note": obj.note,
            "version": obj.version,
        }

    def test_add_without_a_house_offers_the_scope_s_unlisted_dangerous_houses(self) -> None:
        self.as_user("town")
        response = self.client.get(reverse("idle:idlehouse_add"))
        self.assertEqual(response.status_code, 200)
        shown = {h.pk for h in response.context["page"].object_list}
        self.assertIn(self.spare_house(self.in_town).pk, shown)
        self.assertNotIn(self.spare_house(self.in_sibling_town).pk, shown)
        self.assertNotIn(self.in_town.house_id, shown)  # already listed
        for query in ("?house=abc", f"?house={self.spare_house(self.out_of_scope).pk}"):
            self.assertEqual(self.client.get(reverse("idle:idlehouse_add") + query).status_code, 404)

    def test_list_counts_problems_and_divisions(self) -> None:
        self.as_user("county")
        response = self.client.get(reverse("idle:idlehouse_list"))
        counts = response.context["counts"]
        self.assertEqual(counts["open"], 4)  # home ×2, home town, sibling town — not Shenmu
        self.assertEqual(counts["visit_missed"], 4)  # listed 1 March 2025, never visited
        by_town = {row["code"]: row["n"] for row in response.context["by_division"]}
        self.assertEqual(by_town, {factories.YUYANG_TOWN: 3, factories.YUYANG_TOWN_2: 1})
        self.assertContains(response, 'data-count="visit_missed">4<')
        narrowed = self.client.get(reverse("idle:idlehouse_list"), {"division": factories.YUYANG_TOWN_2})
        self.assertEqual({o.pk for o in narrowed.context["page"].object_list}, {self.in_sibling_town.pk})

    def test_detail_shows_the_listing_s_p11_problems(self) -> None:
        self.as_user("village")
        url = reverse("idle:idlehouse_detail", kwargs={"pk": self.in_scope[0].pk})
        response = self.client.get(url)  # listed 1 March 2025, never visited, neither sealed nor signed
        self.assertContains(response, 'id="missed-alert"')
        self.assertContains(response, 'id="unsecured-alert"')
        self.assertNotContains(response, 'id="occupied-alert"')
        services.idle_visit(
            actor=self.users["village"],
            idle=self.in_scope[0],
            visited_on=dt.date.today(),
            result="occupied",
            action_taken="劝离",
        )
        response = self.client.get(url)
        self.assertContains(response, 'id="occupied-alert"')
        self.assertNotContains(response, 'id="missed-alert"')

    def test_list_query_count(self) -> None:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        rows: list[IdleHouse] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(listing(village))

        self.as_user("county")
        url = reverse("idle:idlehouse_list")
        self.assertQueryCountsStable(
            "idle:idlehouse_list", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30)
        )

    def test_detail_query_count(self) -> None:
        idle = self.in_scope[1]
        actor = self.users["village"]
        count = [0]

        def grow(n: int) -> None:
            while count[0] < n:
                count[0] += 1
                services.idle_visit(
                    actor=actor,
                    idle=IdleHouse.objects.get(pk=idle.pk),
                    result="empty",
                    visited_on=dt.date(2025, 3, 1) + dt.timedelta(days=count[0]),
                )

        self.as_user("village")
        url = reverse("idle:idlehouse_detail", kwargs={"pk": idle.pk})
        self.assertQueryCountsStable(
            "idle:idlehouse_detail", grow=grow, fetch=lambda: self.client.get(url), sizes=(1, 6)
        )


class FormPage(IdleWorld):
    """One form page on a listing: `covers[0]` is its URL name; a successful POST leaves `action`."""

    __test__ = False
    action: ClassVar[str]

    def url(self, obj: Any) -> str:
        return reverse(self.covers[0], kwargs={"pk": obj.pk})

    def data(self, obj: IdleHouse) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, key: str | None, obj: Any) -> Any:
        self.as_user(key)
        return self.client.post(self.url(obj), self.data(IdleHouse.objects.get(pk=obj.pk)))

    def test_anonymous_redirects_and_writes_nothing(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(self.url(self.in_scope[0])))
        before = self.snapshot()
        self.assertLoginRedirect(self.post(None, self.in_scope[0]))
        self.assertNothingWritten(before, "anonymous")

    def test_page_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.get(self.url(obj))
                    if not self.may(key, "manage"):
                        self.assertEqual(response.status_code, 403)
                    else:
                        self.assertEqual(response.status_code, 200 if self.can_see(key, obj) else 404)

    def test_refused_without_the_action(self) -> None:
        for key in [k for k in self.user_keys() if not self.may(k, "manage")]:
            with self.subTest(user=key):
                before = self.snapshot()
                self.assertEqual(self.post(key, self.in_scope[0]).status_code, 403)
                self.assertNothingWritten(before, key)

    def test_other_county_and_sibling_town_are_404(self) -> None:
        for key, obj in [
            ("county", self.out_of_scope),
            ("other_county", self.in_scope[0]),
            ("town", self.in_sibling_town),
            ("no_division", self.in_scope[0]),
        ]:
            with self.subTest(user=key):
                before = self.snapshot()
                self.assertEqual(self.post(key, obj).status_code, 404)
                self.assertNothingWritten(before, key)

    def test_writes_one_audit_event(self) -> None:
        for key in ("village", "town", "county"):
            with self.subTest(user=key):
                obj, since = self.in_scope[0], self.last_event_id()
                response = self.post(key, obj)
                self.assertEqual(response.status_code, 302, form_errors(response))
                self.assertEqual(response["Location"], reverse("idle:idlehouse_detail", kwargs={"pk": obj.pk}))
                self.assertOneEvent(since, response, self.action, self.users[key], obj)


class SecurePageTests(FormPage):
    covers = ("idle:idlehouse_secure", "idle:idlehouse_sign_photo")
    action = Action.IDLE_SECURED

    def data(self, obj: IdleHouse) -> dict[str, Any]:
        return {
            "sealed_on": TODAY,
            "sealed_by": "村主任",
            "sign_posted_on": TODAY,
            "sign_photo": png(),
            "version": obj.version,
        }

    def test_sign_photo_only_through_the_scope(self) -> None:
        self.assertEqual(self.post("village", self.in_scope[0]).status_code, 302)
        self.assertEqual(self.post("other_county", self.out_of_scope).status_code, 302)
        home = reverse("idle:idlehouse_sign_photo", kwargs={"pk": self.in_scope[0].pk})
        shenmu = reverse("idle:idlehouse_sign_photo", kwargs={"pk": self.out_of_scope.pk})
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(home))
        self.as_user("no_role")
        self.assertEqual(self.client.get(home).status_code, 403)
        for key in ("village", "town", "county", "department", "supervisor"):
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(home)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Content-Type"], "image/png")
                self.assertEqual(response["X-Content-Type-Options"], "nosniff")
                self.assertEqual(self.client.get(shenmu).status_code, 200 if key == "supervisor" else 404)
        self.as_user("county")  # a listing without a photo has nothing to serve
        self.assertEqual(
            self.client.get(reverse("idle:idlehouse_sign_photo", kwargs={"pk": self.in_scope[1].pk})).status_code, 404
        )
        detail = self.client.get(reverse("idle:idlehouse_detail", kwargs={"pk": self.in_scope[0].pk}))
        self.assertContains(detail, home)


class VisitPageTests(FormPage):
    covers = ("idle:idlehouse_visit",)
    action = Action.IDLE_VISITED

    def data(self, obj: IdleHouse) -> dict[str, Any]:
        return {"visited_on": TODAY, "result": "empty", "note": "门锁完好", "action_taken": "", "version": obj.version}

    def test_phone_form_and_incident_needs_action(self) -> None:
        self.as_user("village")
        url = self.url(self.in_scope[0])
        page = self.client.get(url)
        self.assertContains(page, 'type="radio"', count=4)
        self.assertContains(page, 'name="viewport"')
        self.assertContains(page, "btn-lg")
        before = self.snapshot()
        data = self.data(IdleHouse.objects.get(pk=self.in_scope[0].pk)) | {"result": "occupied"}
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("action_taken", response.context["form"].errors)
        self.assertNothingWritten(before, response)

    def test_stale_form_is_refused(self) -> None:
        self.as_user("village")
        obj = IdleHouse.objects.get(pk=self.in_scope[0].pk)
        stale = self.data(obj) | {"version": obj.version - 1 if obj.version > 1 else obj.version + 5}
        before = self.snapshot()
        response = self.client.post(self.url(obj), stale)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "已被他人更新")
        self.assertNothingWritten(before, response)


class EndPageTests(FormPage):
    covers = ("idle:idlehouse_end",)
    action = Action.IDLE_ENDED

    def data(self, obj: IdleHouse) -> dict[str, Any]:
        return {"ended_on": TODAY, "end_reason": "demolished", "end_note": "", "version": obj.version}

    def test_writes_one_audit_event(self) -> None:
        """An ended listing cannot be ended again: one user ends it."""
        obj, since = self.in_scope[0], self.last_event_id()
        response = self.post("village", obj)
        self.assertEqual(response.status_code, 302, form_errors(response))
        self.assertOneEvent(since, response, self.action, self.users["village"], obj)
        again = self.post("county", obj)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(Event.objects.filter(action=self.action).count(), 1)
