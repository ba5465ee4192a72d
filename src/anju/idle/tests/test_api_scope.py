"""The idle list's endpoints under the scope/permission helper (P11): list, detail, create, update through the
NetBox-style mixins; secure (multipart with the sign's photo), visits and end by hand — anonymous → 401, a role
without `idle.manage` → 403, another county's or a sibling town's listing → 404, nothing written on refusal, one
audit event by the caller in the request on success; bad input in the one error shape; query budget."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse

from anju.audit.actions import Action
from anju.idle.models import IdleHouse, IdleVisit
from anju.testing import factories
from anju.testing.api import assert_error_body, bearer
from anju.testing.scope import APIViewTestCases

from .builders import listing, png
from .world import IdleWorld

TODAY = dt.date.today().isoformat()


class IdleAPIScopeTests(IdleWorld, APIViewTestCases.PrimaryObjectAPITestCase):
    create_action = Action.IDLE_LISTED
    update_action = Action.IDLE_CHANGED

    def create_payload(self, near: Any) -> dict[str, Any]:
        return {
            "house_id": self.spare_house(near).pk,
            "listed_on": TODAY,
            "watcher_name": "王五",
            "watcher_phone": "13800000002",
        }

    def update_payload(self, obj: IdleHouse) -> dict[str, Any]:
        return {"watcher_name": obj.watcher_name + "甲", "watcher_phone": obj.watcher_phone}

    def test_api_bad_input_in_the_error_shape(self) -> None:
        near = self.in_scope[0]
        cases = [
            self.create_payload(near) | {"listed_on": "2025-13-40"},
            self.create_payload(near) | {"visit_interval_days": 0},
            self.create_payload(near) | {"watcher_phone": ""},
            self.create_payload(near) | {"house_id": near.house_id},  # already listed
            {"house_id": "abc"},
        ]
        for payload in cases:
            with self.subTest(payload=payload):
                before = self.snapshot()
                response = self.api("POST", self.api_url("create"), "county", payload)
                self.assertIn(response.status_code, (400, 409, 422))
                assert_error_body(response, response.status_code)
                self.assertNothingWritten(before, response)
        response = self.api("GET", self.api_url("list"), "county", problem="nonsense")
        assert_error_body(response, 400)

    def test_api_list_filters_by_problem(self) -> None:
        body = self.api("GET", self.api_url("list"), "county", problem="visit_missed").json()
        self.assertEqual(body["count"], 4)
        body = self.api("GET", self.api_url("list"), "county", problem="occupied").json()
        self.assertEqual(body["count"], 0)

    def test_api_list_query_count(self) -> None:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        rows: list[IdleHouse] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(listing(village))

        url = self.api_url("list")
        self.assertQueryCountsStable(
            "api:idlehouses_list", grow=grow, fetch=lambda: self.api("GET", url, "county", page_size=50), sizes=(3, 30)
        )


class IdleMoveAPITests(IdleWorld):
    """secure, visits and end: who may, where, and what each leaves in the audit log."""

    covers = ("api:idlehouses_secure", "api:idlehouses_visit", "api:idlehouses_end")

    def call(self, name: str, key: str | None, obj: IdleHouse) -> Any:
        url = reverse(f"api:idlehouses_{name}", kwargs={"pk": obj.pk})
        if name == "secure":
            data = {"sealed_on": TODAY, "sealed_by": "村主任", "sign_posted_on": TODAY, "sign_photo": png()}
            return Client().post(url, data, **bearer(self.tokens[key] if key else None))
        payload = (
            {"visited_on": TODAY, "result": "occupied", "action_taken": "已劝离"}
            if name == "visit"
            else {"ended_on": TODAY, "reason": "renovated"}
        )
        return self.api("POST", url, key, payload)

    def test_refusals(self) -> None:
        for name in ("secure", "visit", "end"):
            cases = [(None, self.in_scope[0], 401)]
            cases += [(k, self.in_scope[0], 403) for k in self.user_keys() if not self.may(k, "manage")]
            cases += [
                ("county", self.out_of_scope, 404),
                ("other_county", self.in_scope[0], 404),
                ("town", self.in_sibling_town, 404),
                ("village", self.in_town, 404),
                ("no_division", self.in_scope[0], 404),
            ]
            for key, obj, status in cases:
                with self.subTest(name=name, user=key):
                    before = self.snapshot(), IdleVisit.objects.count()
                    assert_error_body(self.call(name, key, obj), status, errors=False)
                    self.assertEqual((self.snapshot(), IdleVisit.objects.count()), before)

    def test_each_writes_its_event(self) -> None:
        obj = self.in_scope[0]
        for name, key, action, status in [
            ("secure", "village", Action.IDLE_SECURED, 200),
            ("visit", "town", Action.IDLE_VISITED, 201),
            ("end", "county", Action.IDLE_ENDED, 200),
        ]:
            with self.subTest(name=name):
                since = self.last_event_id()
                response = self.call(name, key, obj)
                self.assertEqual(response.status_code, status, response.content[:300])
                self.assertOneEvent(since, response, action, self.users[key], obj)
        obj.refresh_from_db()
        self.assertTrue(obj.is_secured)
        self.assertEqual((obj.last_result, obj.end_reason), ("occupied", "renovated"))
        detail = self.api("GET", reverse("api:idlehouses_detail", kwargs={"pk": obj.pk}), "village").json()
        self.assertEqual([v["result"] for v in detail["visits"]], ["occupied"])
        self.assertTrue(detail["has_sign_photo"])
        # ended: no more visits (409 in the error shape)
        assert_error_body(self.call("visit", "county", obj), 409)

    def test_visit_incident_without_action_is_400(self) -> None:
        url = reverse("api:idlehouses_visit", kwargs={"pk": self.in_scope[0].pk})
        before = self.snapshot()
        body = assert_error_body(self.api("POST", url, "village", {"visited_on": TODAY, "result": "collapsed"}), 400)
        self.assertIn("action_taken", {e["field"] for e in body["errors"]})
        self.assertNothingWritten(before, body)
