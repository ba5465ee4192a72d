"""Every P10 tracking page under the scope/permission helper: anonymous → login, a role without the action → 403,
a record of another county or a sibling town → 404 and absent from the list, one audit event per write; the steps
of a re-application through the pages; query budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.urls import reverse

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseSource
from anju.returns.models import Tracking, TrackingState
from anju.testing import factories
from anju.testing.scope import ViewTestCases, form_errors

from .builders import explained, returned, secured_case, wish_confirmed
from .world import TrackingWorld

TODAY = dt.date.today().isoformat()


class TrackingPageTests(
    TrackingWorld, ViewTestCases.ListView, ViewTestCases.DetailView, ViewTestCases.AddView, ViewTestCases.EditView
):
    create_action = Action.TRACKING_STARTED
    update_action = Action.TRACKING_CHANGED
    add_url_has_parent = True

    def add_url(self, near: Any) -> str:
        return reverse("returns:tracking_add") + f"?household={self.spare_household(near).pk}"

    def create_data(self, near: Any) -> dict[str, Any]:
        return {
            "kind": "returned",
            "housing": "own_safe",
            "housed_since": TODAY,
            "returned_on": TODAY,
            "followed_by_code": near.division_id,
            "follower_name": "村主任",
        }

    def update_data(self, obj: Tracking) -> dict[str, Any]:
        return {
            "housing": obj.housing,
            "housed_since": obj.housed_since.isoformat(),
            "returned_on": obj.returned_on.isoformat(),
            "followed_by_code": obj.followed_by_id,
            "follower_name": obj.follower_name + "甲",
            "notes": obj.notes,
            "last_contact_on": TODAY,
            "version": obj.version,
        }

    def test_add_from_a_secured_case_and_the_candidates(self) -> None:
        case = secured_case(self.villages["home"])
        self.as_user("town")
        page = self.client.get(reverse("returns:tracking_add"))
        self.assertIn(case.pk, {c.pk for c in page.context["page"].object_list})
        found = self.client.get(reverse("returns:tracking_add"), {"q": self.in_town.household.head_name})
        self.assertIn(self.in_town.household_id, [h.pk for h in found.context["found"]])
        hidden = self.client.get(reverse("returns:tracking_add"), {"q": self.in_sibling_town.household.head_name})
        self.assertNotIn(self.in_sibling_town.household_id, [h.pk for h in hidden.context["found"]])
        url = reverse("returns:tracking_add") + f"?case={case.pk}"
        response = self.client.post(url, {"kind": "secured", "followed_by_code": factories.YUYANG_TOWN})
        self.assertEqual(response.status_code, 302, form_errors(response))
        tracking = Tracking.objects.get(origin_case=case)
        self.assertEqual((tracking.housing, tracking.followed_by_id), ("relatives", factories.YUYANG_TOWN))
        self.as_user("other_county")
        self.assertEqual(self.client.get(url).status_code, 404)
        for query in ("?case=abc", "?household=x"):
            self.assertEqual(self.client.get(reverse("returns:tracking_add") + query).status_code, 404)

    def test_list_counts_by_kind_step_and_division(self) -> None:
        wish_confirmed(Tracking.objects.get(pk=self.in_scope[1].pk))
        self.as_user("county")
        response = self.client.get(reverse("returns:tracking_list"))
        counts = response.context["counts"]
        self.assertEqual((counts["open"], counts["returned"], counts["wish_confirmed"]), (4, 4, 1))
        self.assertEqual(counts["stalled"], 1)  # signed in January 2025, no case since
        by_town = {row["code"]: (row["n"], row["wish"]) for row in response.context["by_division"]}
        self.assertEqual(by_town, {factories.YUYANG_TOWN: (3, 1), factories.YUYANG_TOWN_2: (1, 0)})
        stalled = self.client.get(reverse("returns:tracking_list"), {"stalled": "on"})
        self.assertEqual({t.pk for t in stalled.context["page"].object_list}, {self.in_scope[1].pk})

    def test_list_query_count(self) -> None:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        rows: list[Tracking] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(returned(village))

        self.as_user("county")
        url = reverse("returns:tracking_list")
        self.assertQueryCountsStable(
            "returns:tracking_list", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30)
        )


class StepPage(TrackingWorld):
    """One step page on a record: `covers[0]` is its URL name; `ready()` gives a record the step can be taken on."""

    __test__ = False
    action: ClassVar[str]
    verbs: ClassVar[tuple[str, ...]] = ("track",)

    def ready(self) -> Tracking:
        return self.in_scope[0]

    def url(self, obj: Any) -> str:
        return reverse(self.covers[0], kwargs={"pk": obj.pk})

    def data(self, obj: Tracking) -> dict[str, Any]:
        raise NotImplementedError

    def allowed(self, key: str) -> bool:
        return all(self.may(key, verb) for verb in self.verbs)

    def post(self, key: str | None, obj: Any) -> Any:
        self.as_user(key)
        return self.client.post(self.url(obj), self.data(Tracking.objects.get(pk=obj.pk)))

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
                    if not self.allowed(key):
                        self.assertEqual(response.status_code, 403)
                    else:
                        self.assertEqual(response.status_code, 200 if self.can_see(key, obj) else 404)

    def test_refused_without_the_action(self) -> None:
        for key in [k for k in self.user_keys() if not self.allowed(k)]:
            with self.subTest(user=key):
                before = self.snapshot()
                self.assertEqual(self.post(key, self.in_scope[0]).status_code, 403)
                self.assertNothingWritten(before, key)

    def test_other_county_and_sibling_town_are_404(self) -> None:
        pairs = [
            ("county", self.out_of_scope),
            ("other_county", self.in_scope[0]),
            ("town", self.in_sibling_town),
            ("village", self.in_town),
            ("no_division", self.in_scope[0]),
        ]
        for key, obj in pairs:
            with self.subTest(user=key):
                before = self.snapshot()
                self.assertEqual(self.post(key, obj).status_code, 404)
                self.assertNothingWritten(before, key)

    def test_writes_its_audit_event(self) -> None:
        obj, since = self.ready(), self.last_event_id()
        response = self.post("village", obj)
        self.assertEqual(response.status_code, 302, form_errors(response))
        self.assertEqual(response["Location"], reverse("returns:tracking_detail", kwargs={"pk": obj.pk}))
        events = list(Event.objects.filter(pk__gt=since, action__startswith="returns.").order_by("id"))
        self.assertEqual([e.action for e in events], [self.action])
        self.assertEqual(
            (events[0].actor_id, events[0].request_id), (self.users["village"].pk, response["X-Request-ID"])
        )
        self.assertEqual((events[0].object_id, events[0].division_code), (str(obj.pk), obj.division_id))


class ExplainPageTests(StepPage):
    covers = ("returns:tracking_explain",)
    action = Action.TRACKING_EXPLAINED

    def data(self, obj: Tracking) -> dict[str, Any]:
        return {
            "explained_on": TODAY,
            "explained_by": "镇干部",
            "explanation": "补助标准与改造方式",
            "version": obj.version,
        }


class WishPageTests(StepPage):
    covers = ("returns:tracking_wish",)
    action = Action.TRACKING_WISH_CONFIRMED

    def ready(self) -> Tracking:
        return explained(returned(self.villages["home"]))

    def data(self, obj: Tracking) -> dict[str, Any]:
        return {"confirmed_on": TODAY, "signed_by": "户主", "signed": "on", "note": "", "version": obj.version}

    def test_unsigned_is_refused_on_the_form(self) -> None:
        obj = self.ready()
        self.as_user("village")
        before = self.snapshot()
        response = self.client.post(self.url(obj), self.data(obj) | {"signed": ""})
        self.assertEqual(response.status_code, 200)
        self.assertIn("signed", response.context["form"].errors)
        self.assertNothingWritten(before, response)


class CasePageTests(StepPage):
    covers = ("returns:tracking_case",)
    action = Action.TRACKING_CASE_OPENED
    verbs = ("track",)

    def ready(self) -> Tracking:
        return wish_confirmed(returned(self.villages["home"]))

    def data(self, obj: Tracking) -> dict[str, Any]:
        return {"house": "", "description": ""}

    def test_writes_its_audit_event(self) -> None:
        super().test_writes_its_audit_event()
        case = Case.objects.get(source=CaseSource.REAPPLICATION)
        tracking = Tracking.objects.get(case=case)
        self.assertEqual(tracking.state, TrackingState.CASE_OPENED)
        self.as_user("county")
        detail = self.client.get(reverse("returns:tracking_detail", kwargs={"pk": tracking.pk}))
        self.assertContains(detail, reverse("cases:case_detail", kwargs={"pk": case.pk}))

    def test_before_the_wish_is_refused(self) -> None:
        self.as_user("village")
        before = self.snapshot(), Case.objects.count()
        response = self.client.post(self.url(self.in_scope[0]), self.data(self.in_scope[0]))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "确认改造意愿")
        self.assertEqual((self.snapshot(), Case.objects.count()), before)


class ClosePageTests(StepPage):
    covers = ("returns:tracking_close",)
    action = Action.TRACKING_CLOSED

    def data(self, obj: Tracking) -> dict[str, Any]:
        return {"closed_on": TODAY, "reason": "全家迁居外地", "version": obj.version}
