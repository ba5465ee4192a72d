"""Every page and endpoint of complaints (P14), publicity and public opinion (P15) under the scope/permission helper:
anonymous → login or 401, a role without the action → 403, another county's or a sibling town's row → 404 and
absent from lists, and a permitted write → exactly one audit event by that user in that request. Complaints belong to
their division (county, town or village); `complaints.handle` and `complaints.publicity` are admin, county and
town staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.divisions.models import Division
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import PERSONAS, APIViewTestCases, ScopeTestCase, ViewTestCases

from .. import services
from ..models import Complaint, ComplaintState, OpinionIncident, PublicityActivity
from .world import activity, advance, complaint, county_manager, incident

TODAY = dt.date.today()


class ComplaintWorld(ScopeTestCase):
    """Receiving and editing a complaint are `complaints.handle`."""

    __test__ = False
    model = Complaint
    api_basename = "complaints"
    VERBS = {"add": "handle", "change": "handle"}

    @classmethod
    def build_in_scope(cls, village: Division) -> Complaint:
        return complaint(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class ComplaintPageTests(
    ComplaintWorld, ViewTestCases.ListView, ViewTestCases.DetailView, ViewTestCases.AddView, ViewTestCases.EditView
):
    create_action = Action.COMPLAINT_RECEIVED
    update_action = Action.COMPLAINT_CHANGED

    def create_data(self, near: Complaint) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "channel": "visit",
            "received_on": TODAY.isoformat(),
            "complainant_name": "赵来访",
            "phone": "",
            "category": "quality",
            "content": "反映改造房屋施工质量差",
        }

    def update_data(self, obj: Complaint) -> dict[str, Any]:
        return {
            "version": obj.version,
            "complainant_name": obj.complainant_name,
            "category": obj.category,
            "content": obj.content + "（补充）",
            "phone": "",
            "household": "",
            "case": "",
        }

    def test_detail_masks_the_phone_and_offers_the_audited_full_view(self) -> None:
        obj = self.in_scope[0]
        for key, button in [("county", True), ("village", False)]:
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(self.page_url("detail", obj))
                self.assertContains(response, "138****1234")
                self.assertNotContains(response, "13800001234")
                url = reverse("complaints:complaint_phone", kwargs={"pk": obj.pk})
                (self.assertContains if button else self.assertNotContains)(response, url)

    def test_add_from_a_household_page_fills_the_village(self) -> None:
        household = factories.household(self.villages["home"])
        self.as_user("town")
        response = self.client.get(reverse("complaints:complaint_add"), {"household": household.pk})
        self.assertEqual(response.context["form"]["division_code"].value(), household.division_id)
        shenmu = factories.household(self.villages["other_county"])
        response = self.client.get(reverse("complaints:complaint_add"), {"household": shenmu.pk})
        self.assertEqual(response.status_code, 404)

    def test_add_with_a_household_of_another_county_is_refused(self) -> None:
        shenmu = factories.household(self.villages["other_county"])
        self.as_user("county")
        before = self.snapshot()
        data = self.create_data(self.in_scope[0]) | {"household": shenmu.pk}
        response = self.client.post(reverse("complaints:complaint_add"), data)
        self.assertRefusedForm(response)
        self.assertIn("household", response.context["form"].errors)
        self.assertNothingWritten(before, response)


class ComplaintAPITests(ComplaintWorld, APIViewTestCases.PrimaryObjectAPITestCase):
    create_action = Action.COMPLAINT_RECEIVED
    update_action = Action.COMPLAINT_CHANGED

    def create_payload(self, near: Complaint) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "channel": "online",
            "received_on": TODAY.isoformat(),
            "complainant_name": "网民甲",
            "phone": "13900002222",
            "content": "反映补助资金发放不及时",
            "category": "subsidy",
        }

    def update_payload(self, obj: Complaint) -> dict[str, Any]:
        return {"content": obj.content + "。"}

    def test_api_phone_is_masked_in_list_and_detail(self) -> None:
        body = self.api("GET", self.api_url("detail", self.in_scope[0]), "county").json()
        self.assertEqual(body["phone"], "138****1234")
        self.assertNotIn("13800001234", str(body))
        self.assertNotIn("13800001234", self.api("GET", self.api_url("list"), "county").content.decode())

    def test_api_create_with_a_household_of_another_county_is_404(self) -> None:
        shenmu = factories.household(self.villages["other_county"])
        payload = self.create_payload(self.in_scope[0]) | {"household_id": shenmu.pk}
        before = self.snapshot()
        assert_error_body(self.api("POST", self.api_url("create"), "county", payload), 404, errors=False)
        self.assertNothingWritten(before, payload)

    def test_api_create_takes_the_division_of_the_household(self) -> None:
        household = factories.household(self.villages["home"])
        payload = self.create_payload(self.in_scope[0]) | {"division_code": None, "household_id": household.pk}
        response = self.api("POST", self.api_url("create"), "town", payload)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["division_code"], household.division_id)

    def test_api_stale_version_is_409_and_writes_nothing(self) -> None:
        obj = self.in_scope[0]
        before, row = self.snapshot(), self.row(obj)
        url = reverse("api:complaints_assign", kwargs={"pk": obj.pk})
        payload = {"handler_id": county_manager(obj.division_id).pk, "version": obj.version + 1}
        body = assert_error_body(self.api("POST", url, "county", payload), 409)
        self.assertIn("已被他人更新", body["detail"])
        self.assertNothingWritten(before, payload)
        self.assertEqual(self.row(obj), row)

    def test_detail_shows_the_whole_history(self) -> None:
        obj = advance(complaint(self.villages["home"]), ComplaintState.REPLIED)
        body = self.api("GET", self.api_url("detail", obj), "town").json()
        self.assertEqual(
            [e["action"] for e in body["history"]],
            [Action.COMPLAINT_RECEIVED, Action.COMPLAINT_ASSIGNED, Action.COMPLAINT_REPLIED],
        )
        self.as_user("town")
        page = self.client.get(reverse("complaints:complaint_detail", kwargs={"pk": obj.pk}))
        self.assertContains(page, "答复信访人")
        self.assertContains(page, reverse("complaints:complaint_close", kwargs={"pk": obj.pk}))

    def test_api_bad_input_is_400_in_chinese(self) -> None:
        payload = self.create_payload(self.in_scope[0]) | {"phone": "abc", "received_on": "2999-01-01"}
        body = assert_error_body(self.api("POST", self.api_url("create"), "county", payload), 400)
        self.assertEqual({e["field"] for e in body["errors"]}, {"phone", "received_on"})
        assert_error_body(self.api("GET", self.api_url("list"), "county", division="123"), 400)


# -- every move of a complaint and an incident, through the API and the pages -------------------------------------


def _received(village: Division) -> Complaint:
    return complaint(village)


def _handling(village: Division) -> Complaint:
    return advance(complaint(village), ComplaintState.HANDLING)


def _replied(village: Division) -> Complaint:
    return advance(complaint(village), ComplaintState.REPLIED)


def _closed(village: Division) -> Complaint:
    return advance(complaint(village), ComplaintState.CLOSED)


def _with_household(village: Division) -> Complaint:
    return complaint(village, household=factories.household(village))


def _responded(village: Division) -> OpinionIncident:
    item = incident(village)
    return services.incident_respond(actor=county_manager(village), incident=item, response="已发布情况说明")


def _handler(obj: Complaint) -> int:
    return county_manager(obj.division_id).pk


@dataclass(frozen=True)
class Move:
    """One move: its action, the object it acts on, an API body, a page form, and the event it records."""

    name: str
    action: str
    build: Callable[[Division], Any]
    payload: Callable[[Any], dict[str, Any]]
    form: Callable[[Any], dict[str, Any]]
    event: str
    status: int = 200
    page_status: int = 302
    prefix: str = "complaints"
    page_prefix: str = "complaint"


def _v(obj: Any) -> dict[str, Any]:
    return {"version": obj.version}


MOVES = [
    Move(
        "assign",
        "complaints.handle",
        _received,
        lambda c: {"handler_id": _handler(c)},
        lambda c: _v(c) | {"handler": _handler(c), "assigned_on": TODAY.isoformat(), "reply_due_on": ""},
        Action.COMPLAINT_ASSIGNED,
    ),
    Move(
        "reply",
        "complaints.handle",
        _handling,
        lambda c: {"reply_text": "经核实已安排鉴定", "reply_method": "phone"},
        lambda c: _v(c) | {"reply_text": "经核实已安排鉴定", "reply_method": "phone", "replied_on": TODAY.isoformat()},
        Action.COMPLAINT_REPLIED,
    ),
    Move(
        "close",
        "complaints.handle",
        _replied,
        lambda c: {"satisfaction": "satisfied"},
        lambda c: _v(c) | {"satisfaction": "satisfied", "closed_on": TODAY.isoformat(), "close_note": ""},
        Action.COMPLAINT_CLOSED,
    ),
    Move(
        "review",
        "complaints.handle",
        _closed,
        lambda c: {"review_note": "回访农户，问题已解决", "review_result": "resolved"},
        lambda c: (
            _v(c)
            | {"review_note": "回访农户，问题已解决", "review_result": "resolved", "reviewed_on": TODAY.isoformat()}
        ),
        Action.COMPLAINT_REVIEWED,
    ),
    Move(
        "open_case",
        "complaints.handle",
        _with_household,
        lambda c: {},
        lambda c: {"house": "", "description": ""},
        Action.COMPLAINT_CASE_OPENED,
        status=201,
    ),
    Move("phone", "complaints.handle", _received, lambda c: {}, lambda c: {}, Action.COMPLAINT_PHONE_VIEWED, 200, 200),
    Move(
        "respond",
        "complaints.publicity",
        incident,
        lambda i: {"response": "已发布情况说明"},
        lambda i: {"response": "已发布情况说明", "responded_on": TODAY.isoformat()},
        Action.INCIDENT_RESPONDED,
        prefix="incidents",
        page_prefix="incident",
    ),
    Move(
        "close",
        "complaints.publicity",
        _responded,
        lambda i: {},
        lambda i: {"closed_on": TODAY.isoformat()},
        Action.INCIDENT_CLOSED,
        prefix="incidents",
        page_prefix="incident",
    ),
]
HIDDEN = [("other_county", "home"), ("county", "other_county"), ("no_division", "home"), ("town", "sibling_town")]


def _api_name(move: Move) -> str:
    return f"api:{move.prefix}_{move.name}"


def _page_name(move: Move) -> str:
    return f"complaints:{move.page_prefix}_{move.name}"


class MoveScopeTests(ScopeTestCase):
    """Every move through the API and its page, for every role and place."""

    covers = tuple(_api_name(m) for m in MOVES) + tuple(_page_name(m) for m in MOVES)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.objects: dict[tuple[str, str], Any] = {}
        for place in ("home", "sibling_town", "other_county"):
            for move in MOVES:
                cls.objects[move.page_prefix + move.name, place] = move.build(cls.villages[place])

    def obj(self, move: Move, place: str = "home") -> Any:
        return self.objects[move.page_prefix + move.name, place]

    def state(self, obj: Any) -> tuple[Any, ...]:
        row = type(obj).objects.filter(pk=obj.pk).values().get()
        return Event.objects.count(), tuple(sorted(row.items()))

    def call(self, move: Move, key: str | None, obj: Any, *, page: bool) -> Any:
        fresh = type(obj).objects.get(pk=obj.pk)
        if page:
            self.as_user(key)
            return self.client.post(reverse(_page_name(move), kwargs={"pk": obj.pk}), move.form(fresh))
        return self.api("POST", reverse(_api_name(move), kwargs={"pk": obj.pk}), key, move.payload(fresh))

    def refused(self, move: Move, key: str | None, obj: Any, status: int, *, page: bool) -> None:
        before = self.state(obj)
        response = self.call(move, key, obj, page=page)
        if page and status == 401:
            self.assertLoginRedirect(response)
        elif page:
            self.assertEqual(response.status_code, status)
        else:
            assert_error_body(response, status, errors=False)
        self.assertEqual(self.state(obj), before, f"a refused {move.name} wrote something")

    def test_anonymous_is_refused(self) -> None:
        for move in MOVES:
            for page in (False, True):
                with self.subTest(move=_page_name(move), page=page):
                    self.refused(move, None, self.obj(move), 401, page=page)

    def test_roles_without_the_action_are_403(self) -> None:
        for move in MOVES:
            keys = [k for k in PERSONAS if not has_action(self.users[k], move.action)]
            self.assertIn("village", keys)
            for key in keys:
                for page in (False, True):
                    with self.subTest(move=_page_name(move), user=key, page=page):
                        self.refused(move, key, self.obj(move), 403, page=page)

    def test_objects_outside_the_subtree_are_404(self) -> None:
        for move in MOVES:
            for key, place in HIDDEN:
                for page in (False, True):
                    with self.subTest(move=_page_name(move), user=key, place=place, page=page):
                        self.refused(move, key, self.obj(move, place), 404, page=page)

    def test_each_move_succeeds_in_scope_and_is_audited(self) -> None:
        for move in MOVES:
            for key, page in (("county", False), ("town", True)):
                with self.subTest(move=_page_name(move), page=page):
                    obj = move.build(self.villages["home"])
                    since = self.last_event_id()
                    response = self.call(move, key, obj, page=page)
                    self.assertEqual(response.status_code, move.page_status if page else move.status, response)
                    events = list(Event.objects.filter(pk__gt=since, action=move.event))
                    self.assertEqual(len(events), 1, [e.action for e in Event.objects.filter(pk__gt=since)])
                    event = events[0]
                    self.assertEqual((event.actor_id, event.request_id), (self.users[key].pk, response["X-Request-ID"]))
                    self.assertEqual((event.object_id, event.division_code), (str(obj.pk), obj.division_id))

    def test_move_pages_show_their_form(self) -> None:
        self.as_user("county")
        for move in MOVES:
            if move.name == "phone":
                continue
            with self.subTest(move=_page_name(move)):
                url = reverse(_page_name(move), kwargs={"pk": self.obj(move).pk})
                self.assertEqual(self.client.get(url).status_code, 200)


# -- publicity and incidents --------------------------------------------------------------------------------------


class PublicityWorld(ScopeTestCase):
    __test__ = False
    model = PublicityActivity
    page_model = "publicity"
    api_basename = "publicity"
    VERBS = {"add": "publicity", "change": "publicity"}

    @classmethod
    def build_in_scope(cls, village: Division) -> PublicityActivity:
        return activity(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class PublicityPageTests(PublicityWorld, ViewTestCases.ListView, ViewTestCases.AddView, ViewTestCases.EditView):
    create_action = Action.PUBLICITY_RECORDED
    update_action = Action.PUBLICITY_CHANGED

    def create_data(self, near: PublicityActivity) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "held_on": TODAY.isoformat(),
            "kind": "meeting",
            "title": "村民大会宣讲住房安全政策",
            "audience": "65",
            "notes": "",
        }

    def update_data(self, obj: PublicityActivity) -> dict[str, Any]:
        return {
            "held_on": obj.held_on.isoformat(),
            "kind": obj.kind,
            "title": obj.title + "（补记）",
            "audience": str(obj.audience),
            "notes": obj.notes,
        }


class PublicityAPITests(PublicityWorld, APIViewTestCases.PrimaryObjectAPITestCase):
    create_action = Action.PUBLICITY_RECORDED
    update_action = Action.PUBLICITY_CHANGED

    def create_payload(self, near: PublicityActivity) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "held_on": TODAY.isoformat(),
            "kind": "poster",
            "title": "张贴政策明白纸",
            "audience": 0,
        }

    def update_payload(self, obj: PublicityActivity) -> dict[str, Any]:
        return {"audience": obj.audience + 1}


class IncidentWorld(ScopeTestCase):
    __test__ = False
    model = OpinionIncident
    page_model = "incident"
    api_basename = "incidents"
    VERBS = {"add": "publicity", "change": "publicity"}

    @classmethod
    def build_in_scope(cls, village: Division) -> OpinionIncident:
        return incident(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class IncidentPageTests(IncidentWorld, ViewTestCases.ListView, ViewTestCases.DetailView, ViewTestCases.AddView):
    create_action = Action.INCIDENT_RECORDED

    def create_data(self, near: OpinionIncident) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "found_on": TODAY.isoformat(),
            "source": "video",
            "source_detail": "短视频平台",
            "severity": "medium",
            "summary": "短视频称某村危房无人管",
        }


class IncidentAPITests(
    IncidentWorld, APIViewTestCases.ListView, APIViewTestCases.DetailView, APIViewTestCases.CreateView
):
    create_action = Action.INCIDENT_RECORDED

    def create_payload(self, near: OpinionIncident) -> dict[str, Any]:
        return {
            "division_code": near.division_id,
            "found_on": TODAY.isoformat(),
            "source": "news",
            "summary": "媒体报道某镇改造进度慢",
            "severity": "high",
        }
