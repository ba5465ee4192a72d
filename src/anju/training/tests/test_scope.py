"""The training ledger's pages and endpoints under the scope/permission helper (P17).

A session belongs to its organising county or town: users see those in their subtree, `training.manage` (admin,
county manager) writes. The ledger lists the people of the user's subtree. Lists keep their query count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Craftsman
from anju.divisions.models import Division
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import APIViewTestCases, ScopeTestCase, ViewTestCases
from anju.training.models import Attendance, Session
from anju.training.services import session_create

TODAY = dt.date.today()
HELD = TODAY - dt.timedelta(days=3)


class SessionWorld(ScopeTestCase):
    """Sessions held by the town of each fixture village; writes are `training.manage`."""

    __test__ = False
    model = Session
    VERBS = {"add": "manage", "change": "manage"}

    @classmethod
    def build_in_scope(cls, village: Division) -> Session:
        return Session.objects.create(division_id=village.parent_id, held_on=HELD, topic="农房安全核查培训", hours=2)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class SessionPageTests(SessionWorld, ViewTestCases.PrimaryObjectViewTestCase):
    create_action = Action.TRAINING_SESSION_CREATED
    update_action = Action.TRAINING_SESSION_CHANGED
    covers = ("training:session_materials",)

    def create_data(self, near: Session) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "held_on": HELD.isoformat(),
            "topic": "危房鉴定技术培训",
            "kind": "appraisal",
            "hours": "3",
            "trainer": "县住建局",
            "signed_in": "on",
        }

    def update_data(self, obj: Session) -> dict[str, Any]:
        return {
            "held_on": obj.held_on.isoformat(),
            "topic": obj.topic + "（修订）",
            "kind": obj.kind,
            "hours": str(obj.hours),
            "trainer": obj.trainer,
            "place": obj.place,
        }

    def test_list_queries_do_not_grow_with_rows(self) -> None:
        town = self.villages["home"].parent_id

        def grow(n: int) -> None:
            while Session.objects.filter(division_id=town).count() < n:
                session = Session.objects.create(division_id=town, held_on=HELD, topic="加场", hours=1)
                Attendance.objects.create(session=session, user=self.users["village"])

        self.as_user("county")
        url = reverse("training:session_list")
        self.assertQueryCountsStable(
            "training:session_list", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30)
        )

    def test_edit_other_county_and_sibling_town_are_404(self) -> None:
        """The helper's town case does not apply: town staff do not manage training (403 before any lookup)."""
        for key, obj, status in [
            ("county", self.out_of_scope, 404),
            ("other_county", self.in_scope[0], 404),
            ("town", self.in_sibling_town, 403),
        ]:
            with self.subTest(user=key):
                self.as_user(key)
                before, row = self.snapshot(), self.row(obj)
                response = self.client.post(self.page_url("edit", obj), self.update_data(self.fresh(obj)))
                self.assertEqual(response.status_code, status)
                self.assertNothingWritten(before, response)
                self.assertEqual(self.row(obj), row)

    def test_detail_sign_in_and_removal_are_managers_only_and_scoped(self) -> None:
        """policy: P17 — signing in makes a person trained; only the county does it, in its own subtree."""
        session = self.in_scope[0]
        attendance = Attendance.objects.create(session=session, user=self.users["village"], signed_in=False)
        url = self.page_url("detail", session)
        for key, status in [("village", 403), ("town", 403), ("other_county", 404)]:
            with self.subTest(user=key):
                self.as_user(key)
                before = Event.objects.count()
                response = self.client.post(url, {"attendance": attendance.pk, "op": "sign"})
                self.assertEqual(response.status_code, status)
                self.assertEqual(Event.objects.count(), before)
        self.as_user("county")
        since = self.last_event_id()
        response = self.client.post(url, {"attendance": attendance.pk, "op": "sign"})
        self.assertRedirects(response, url)
        attendance.refresh_from_db()
        self.assertTrue(attendance.signed_in)
        self.assertOneEvent(since, response, Action.TRAINING_ATTENDEE_ADDED, self.users["county"], session)
        since = self.last_event_id()
        response = self.client.post(url, {"attendance": attendance.pk, "op": "remove"})
        self.assertFalse(Attendance.objects.filter(pk=attendance.pk).exists())
        self.assertOneEvent(since, response, Action.TRAINING_ATTENDEE_REMOVED, self.users["county"], session)

    def test_add_form_lists_only_people_of_the_subtree_and_records_them(self) -> None:
        craftsman = Craftsman.objects.create(division_id=factories.YUYANG, name="榆阳工匠")
        shenmu = Craftsman.objects.create(division_id=factories.SHENMU, name="神木工匠")
        self.as_user("county")
        response = self.client.get(reverse("training:session_add"))
        users = dict(response.context["form"].fields["users"].choices)
        craftsmen = dict(response.context["form"].fields["craftsmen"].choices)
        self.assertIn(self.users["village"].pk, users)
        self.assertNotIn(self.users["other_county"].pk, users)
        self.assertNotIn(self.users["department"].pk, users)  # reads only: not a person P17 trains
        self.assertIn(craftsman.pk, craftsmen)
        self.assertNotIn(shenmu.pk, craftsmen)
        data = self.create_data(self.in_scope[0]) | {
            "users": [self.users["village"].pk, self.users["town"].pk],
            "craftsmen": [craftsman.pk],
        }
        response = self.client.post(reverse("training:session_add"), data)
        self.assertEqual(response.status_code, 302, response)
        session = Session.objects.latest("id")
        self.assertEqual(
            set(session.attendances.values_list("user_id", "craftsman_id", "signed_in")),
            {(self.users["village"].pk, None, True), (self.users["town"].pk, None, True), (None, craftsman.pk, True)},
        )

    def test_materials_are_served_only_in_scope(self) -> None:
        session = self.in_scope[0]
        self.as_user("county")
        data = self.update_data(session) | {"materials": SimpleUploadedFile("讲义.pdf", b"%PDF-1.4 training")}
        self.assertEqual(self.client.post(self.page_url("edit", session), data).status_code, 302)
        url = reverse("training:session_materials", kwargs={"pk": session.pk})
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("other_county")
        self.assertEqual(self.client.get(url).status_code, 404)
        self.as_user("no_role")
        self.assertEqual(self.client.get(url).status_code, 403)
        self.as_user("department")
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), b"%PDF-1.4 training")
        self.as_user("county")
        bad = self.update_data(session) | {"materials": SimpleUploadedFile("tool.exe", b"MZ")}
        response = self.client.post(self.page_url("edit", session), bad)
        self.assertIn("materials", response.context["form"].errors)


class SessionAPITests(
    SessionWorld, APIViewTestCases.ListView, APIViewTestCases.DetailView, APIViewTestCases.CreateView
):
    api_basename = "training_sessions"
    create_action = Action.TRAINING_SESSION_CREATED
    covers = ("api:training_attendees_add", "api:training_attendees_remove")

    def create_payload(self, near: Session) -> dict[str, Any]:
        return {"division": near.division_id, "held_on": HELD.isoformat(), "topic": "核查培训", "hours": 2}

    def test_api_list_queries_do_not_grow_with_rows(self) -> None:
        town = self.villages["home"].parent_id

        def grow(n: int) -> None:
            while Session.objects.filter(division_id=town).count() < n:
                session = Session.objects.create(division_id=town, held_on=HELD, topic="加场", hours=1)
                Attendance.objects.create(session=session, user=self.users["village"])

        url = self.api_url("list")
        self.assertQueryCountsStable(
            "api:training_sessions_list", grow=grow, fetch=lambda: self.api("GET", url, "county"), sizes=(3, 30)
        )

    def test_bad_input_is_a_400_in_the_one_shape(self) -> None:
        """Never a 500: unknown codes, ids, kinds, dates and hours come back field by field."""
        url, good = self.api_url("create"), self.create_payload(self.in_scope[0])
        for change in [
            {"division": "999999999999"},
            {"held_on": "2026-02-30"},
            {"hours": 500},
            {"kind": "party"},
            {"topic": ""},
            {"user_ids": [987654]},
            {"craftsman_ids": ["x"]},
            {"held_on": (TODAY + dt.timedelta(days=5)).isoformat(), "user_ids": [self.users["village"].pk]},
        ]:
            with self.subTest(change=change):
                before = self.snapshot()
                response = self.api("POST", url, "county", good | change)
                assert_error_body(response, 400)
                self.assertNothingWritten(before, response)

    def test_attendees_add_and_remove(self) -> None:
        """policy: P17 — only `training.manage` in the subtree; people outside the organiser's are refused."""
        session = self.in_scope[0]
        url = reverse("api:training_attendees_add", kwargs={"pk": session.pk})
        payload = {"user_id": self.users["village"].pk}
        for key, status in [(None, 401), ("town", 403), ("department", 403), ("other_county", 404)]:
            with self.subTest(user=key):
                before = Attendance.objects.count(), Event.objects.count()
                assert_error_body(self.api("POST", url, key, payload), status, errors=False)
                self.assertEqual((Attendance.objects.count(), Event.objects.count()), before)
        stranger = self.api("POST", url, "admin", {"user_id": self.users["other_county"].pk})
        assert_error_body(stranger, stranger.status_code, errors=True)
        self.assertIn(stranger.status_code, (400, 403, 404))
        since = self.last_event_id()
        response = self.api("POST", url, "county", payload)
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(
            (body["person_type"], body["person_id"], body["signed_in"]), ("user", payload["user_id"], True)
        )
        self.assertOneEvent(since, response, Action.TRAINING_ATTENDEE_ADDED, self.users["county"], session)
        assert_error_body(self.api("POST", url, "county", payload), 409)
        remove = reverse("api:training_attendees_remove", kwargs={"pk": session.pk, "attendance_id": body["id"]})
        for key, status in [(None, 401), ("town", 403), ("other_county", 404)]:
            with self.subTest(user=key):
                assert_error_body(self.api("DELETE", remove, key), status, errors=False)
        other = reverse("api:training_attendees_remove", kwargs={"pk": self.in_town.pk, "attendance_id": body["id"]})
        assert_error_body(self.api("DELETE", other, "county"), 404, errors=False)  # not this session's attendee
        since = self.last_event_id()
        response = self.api("DELETE", remove, "county")
        self.assertEqual(response.status_code, 204)
        self.assertOneEvent(since, response, Action.TRAINING_ATTENDEE_REMOVED, self.users["county"], session)
        self.assertFalse(Attendance.objects.filter(pk=body["id"]).exists())


class LedgerScopeTests(ScopeTestCase):
    """The ledger lists people (staff of the roles P17 trains, and craftsmen) of the user's subtree."""

    covers = ("training:ledger", "api:training_ledger")

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.yuyang_craftsman = Craftsman.objects.create(division_id=factories.YUYANG, name="榆阳工匠")
        cls.shenmu_craftsman = Craftsman.objects.create(division_id=factories.SHENMU, name="神木工匠")
        session_create(
            actor=cls.users["county"],
            division_code=factories.YUYANG,
            held_on=HELD,
            topic="年度培训",
            hours=4,
            users=[cls.users["village"]],
            craftsmen=[cls.yuyang_craftsman],
        )

    def people(self, key: str, **params: Any) -> set[tuple[str, int]]:
        response = self.api("GET", reverse("api:training_ledger"), key, page_size=100, **params)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return {(row["person_type"], row["person_id"]) for row in response.json()["items"]}

    def test_anonymous_and_roleless_are_refused(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(reverse("training:ledger")))
        assert_error_body(self.api("GET", reverse("api:training_ledger"), None), 401, errors=False)
        self.as_user("no_role")
        self.assertEqual(self.client.get(reverse("training:ledger")).status_code, 403)
        assert_error_body(self.api("GET", reverse("api:training_ledger"), "no_role"), 403, errors=False)

    def test_each_user_sees_the_people_of_their_subtree(self) -> None:
        u = self.users
        county = self.people("county")
        self.assertIn(("user", u["village"].pk), county)
        self.assertIn(("user", u["town"].pk), county)
        self.assertIn(("user", u["appraiser"].pk), county)
        self.assertIn(("craftsman", self.yuyang_craftsman.pk), county)
        self.assertNotIn(("user", u["other_county"].pk), county)
        self.assertNotIn(("craftsman", self.shenmu_craftsman.pk), county)
        self.assertNotIn(("user", u["department"].pk), county)  # not a role P17 trains
        town = self.people("town")
        self.assertEqual(town, {("user", u["town"].pk), ("user", u["village"].pk)})
        self.assertEqual(self.people("village"), {("user", u["village"].pk)})
        self.assertEqual(self.people("no_division"), set())
        other = self.people("other_county")
        self.assertIn(("craftsman", self.shenmu_craftsman.pk), other)
        self.assertNotIn(("user", u["village"].pk), other)
        admin = self.people("admin")
        self.assertTrue(county | other <= admin)
        # a division outside the user's subtree narrows to nothing, never widens
        self.assertEqual(self.people("county", division=factories.SHENMU), set())
        self.as_user("town")
        response = self.client.get(reverse("training:ledger"))
        self.assertEqual({(r.kind, r.pk) for r in response.context["page"].object_list}, town)

    def test_trained_and_untrained(self) -> None:
        """policy: P17 — the ledger says who is trained this year and who is not."""
        u = self.users
        trained = self.people("county", status="trained")
        self.assertEqual(trained, {("user", u["village"].pk), ("craftsman", self.yuyang_craftsman.pk)})
        untrained = self.people("county", status="untrained")
        self.assertIn(("user", u["town"].pk), untrained)
        self.assertFalse(trained & untrained)
        self.assertEqual(self.people("county", status="trained", year=TODAY.year - 1), set())
        self.assertEqual(self.people("county", kind="craftsman"), {("craftsman", self.yuyang_craftsman.pk)})
        self.assertEqual(self.people("county", kind="appraiser"), {("user", u["appraiser"].pk)})
        bad = self.api("GET", reverse("api:training_ledger"), "county", kind="nobody")
        assert_error_body(bad, 400)

    def test_ledger_queries_do_not_grow_with_people(self) -> None:
        village = self.users["village"].division_id

        def grow(n: int) -> None:
            while Craftsman.objects.filter(division_id=factories.YUYANG).count() < n:
                factories.user(f"cun{n}_{Craftsman.objects.count()}", village, "village_staff")
                Craftsman.objects.create(division_id=factories.YUYANG, name=f"工匠{Craftsman.objects.count()}")

        self.as_user("county")
        page, api = reverse("training:ledger"), reverse("api:training_ledger")
        self.assertQueryCountsStable("training:ledger", grow=grow, fetch=lambda: self.client.get(page), sizes=(3, 30))
        self.assertQueryCountsStable(
            "api:training_ledger", grow=grow, fetch=lambda: self.api("GET", api, "county"), sizes=(3, 30)
        )
