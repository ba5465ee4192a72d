"""P10's tracking endpoints under the scope/permission helper: list, detail, create, update through the NetBox-style
mixins; explain, wish, case and close by hand — anonymous → 401, a role without `returns.track` → 403, another
county's or a sibling town's record → 404, nothing written on refusal, the step's audit event on success; bad input
in the one error shape; query budget."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from anju.audit.actions import Action
from anju.cases.models import Case, CaseSource
from anju.returns.models import Tracking
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import APIViewTestCases

from .builders import returned, secured_case
from .world import TrackingWorld

TODAY = dt.date.today().isoformat()


class TrackingAPIScopeTests(TrackingWorld, APIViewTestCases.PrimaryObjectAPITestCase):
    create_action = Action.TRACKING_STARTED
    update_action = Action.TRACKING_CHANGED

    def create_payload(self, near: Any) -> dict[str, Any]:
        return {
            "household_id": self.spare_household(near).pk,
            "kind": "returned",
            "housing": "own_safe",
            "housed_since": TODAY,
            "returned_on": TODAY,
        }

    def update_payload(self, obj: Tracking) -> dict[str, Any]:
        return {"follower_name": obj.follower_name + "甲", "last_contact_on": TODAY}

    def move_payload(self, obj: Tracking, village: Any) -> dict[str, Any]:
        return {"followed_by_code": village.code}

    def test_api_create_from_a_secured_case(self) -> None:
        case = secured_case(self.villages["home"], means="public_rental")
        response = self.api("POST", self.api_url("create"), "village", {"origin_case_id": case.pk})
        self.assertEqual(response.status_code, 201, response.content[:300])
        body = response.json()
        self.assertEqual((body["housing"], body["origin_case_id"], body["kind"]), ("public_rental", case.pk, "secured"))
        other = secured_case(self.villages["other_county"])
        assert_error_body(
            self.api("POST", self.api_url("create"), "county", {"origin_case_id": other.pk}), 404, errors=False
        )

    def test_api_bad_input_in_the_error_shape(self) -> None:
        near = self.in_scope[0]
        for payload in [
            self.create_payload(near) | {"housed_since": "2025-02-30"},
            self.create_payload(near) | {"returned_on": None},
            self.create_payload(near) | {"housing": "castle"},
            self.create_payload(near) | {"household_id": near.household_id},  # already followed
            {"kind": "returned"},
        ]:
            with self.subTest(payload=payload):
                before = self.snapshot()
                response = self.api("POST", self.api_url("create"), "county", payload)
                self.assertIn(response.status_code, (400, 409))
                assert_error_body(response, response.status_code)
                self.assertNothingWritten(before, response)
        assert_error_body(self.api("GET", self.api_url("list"), "county", state="nonsense"), 400)

    def test_api_list_query_count(self) -> None:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        rows: list[Tracking] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(returned(village))

        url = self.api_url("list")
        self.assertQueryCountsStable(
            "api:trackings_list", grow=grow, fetch=lambda: self.api("GET", url, "county", page_size=50), sizes=(3, 30)
        )


class TrackingStepAPITests(TrackingWorld):
    """explain → wish → case, and close: who may, where, and what each leaves in the audit log."""

    covers = ("api:trackings_explain", "api:trackings_wish", "api:trackings_case", "api:trackings_close")
    PAYLOADS = {
        "explain": {"explained_on": TODAY, "explained_by": "镇干部", "explanation": "补助标准与改造方式"},
        "wish": {"confirmed_on": TODAY, "signed_by": "户主", "signed": True},
        "case": {"description": ""},
        "close": {"closed_on": TODAY, "reason": "迁居外地"},
    }

    def call(self, name: str, key: str | None, obj: Tracking, **extra: Any) -> Any:
        url = reverse(f"api:trackings_{name}", kwargs={"pk": obj.pk})
        return self.api("POST", url, key, self.PAYLOADS[name] | extra)

    def test_refusals(self) -> None:
        for name in self.PAYLOADS:
            cases = [(None, self.in_scope[0], 401)]
            cases += [(k, self.in_scope[0], 403) for k in self.user_keys() if not self.may(k, "track")]
            cases += [
                ("county", self.out_of_scope, 404),
                ("other_county", self.in_scope[0], 404),
                ("town", self.in_sibling_town, 404),
                ("village", self.in_town, 404),
                ("no_division", self.in_scope[0], 404),
            ]
            for key, obj, status in cases:
                with self.subTest(name=name, user=key):
                    before = self.snapshot(), Case.objects.count()
                    assert_error_body(self.call(name, key, obj), status, errors=False)
                    self.assertEqual((self.snapshot(), Case.objects.count()), before)

    def test_reapplication_steps_write_their_events(self) -> None:
        obj = self.in_scope[0]
        assert_error_body(self.call("wish", "village", obj), 409)  # no explanation yet
        for name, key, action in [
            ("explain", "village", Action.TRACKING_EXPLAINED),
            ("wish", "town", Action.TRACKING_WISH_CONFIRMED),
        ]:
            with self.subTest(name=name):
                since = self.last_event_id()
                response = self.call(name, key, obj)
                self.assertEqual(response.status_code, 200, response.content[:300])
                self.assertOneEvent(since, response, action, self.users[key], obj)
        response = self.call("case", "county", obj)
        self.assertEqual(response.status_code, 200, response.content[:300])
        body = response.json()
        case = Case.objects.get(pk=body["case_id"])
        self.assertEqual((case.source, body["state"]), (CaseSource.REAPPLICATION, "case_opened"))
        assert_error_body(self.call("close", "county", obj), 409)  # already in the ledger

    def test_close_writes_its_event(self) -> None:
        obj, since = self.in_scope[1], self.last_event_id()
        response = self.call("close", "town", obj)
        self.assertEqual(response.status_code, 200, response.content[:300])
        self.assertOneEvent(since, response, Action.TRACKING_CLOSED, self.users["town"], obj)
        self.assertEqual(response.json()["state"], "closed")
