"""Every page and endpoint of special periods and disasters under the scope/permission helper (P9, P23).

Damage reports and resettlements are village rows: the NetBox-style mixins check their lists, details and the
report API's creation for every role and level. Events, plans and notes belong to a county (events are seen down
the tree, so a village reports against its county's event): a table checks them, and every write, for every role
and place — anonymous → login/401, a role without the action → 403, another county's (or sibling town's) object →
404, and a permitted write in scope leaves exactly its audit event by that user in that request.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.test import Client, override_settings
from django.urls import reverse

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.disasters import services
from anju.disasters.models import (
    CoordinationNote,
    DamagePhoto,
    DamageReport,
    DisasterEvent,
    EmergencyPlan,
    Resettlement,
)
from anju.divisions.models import Division
from anju.registry.models import House
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import PERSONAS, APIViewTestCases, ScopeTestCase, ViewTestCases

from . import world

SPARE = 8


class MediaWorld(ScopeTestCase):
    """Files go to a temporary media root; one event per county; spare houses for creations."""

    __test__ = False

    @classmethod
    def setUpClass(cls) -> None:
        cls.media_root = tempfile.mkdtemp(prefix="anju-test-media-")
        cls.media_override = override_settings(MEDIA_ROOT=cls.media_root)
        cls.media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.media_override.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    @classmethod
    def event_of(cls, code: str) -> DisasterEvent:
        county = code[:6] + "000000"
        found = DisasterEvent.objects.filter(division_id=county, name="测试灾害").first()
        return found or world.event(county, name="测试灾害")

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.spares = {
            key: itertools.cycle([factories.house(factories.household(v)) for _ in range(SPARE)])
            for key, v in cls.villages.items()
        }

    def spare(self, near: Any) -> House:
        place = next(k for k, v in self.villages.items() if v.code == near.division_id)
        return next(self.spares[place])


def _report(village: Division) -> DamageReport:
    house = factories.house(factories.household(village))
    return world.report(house, MediaWorld.event_of(village.code), level="moderate")


class ReportWorld(MediaWorld):
    __test__ = False
    model = DamageReport
    api_basename = "reports"
    page_model = "report"
    VERBS = {"add": "report", "change": "report"}

    @classmethod
    def build_in_scope(cls, village: Division) -> DamageReport:
        return _report(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class ReportAPIScopeTests(
    ReportWorld, APIViewTestCases.ListView, APIViewTestCases.DetailView, APIViewTestCases.CreateView
):
    create_action = Action.DAMAGE_REPORTED

    def create_payload(self, near: DamageReport) -> dict[str, Any]:
        return {"event_id": near.event_id, "house_id": self.spare(near).pk, "level": "minor", "people_affected": 3}


class ReportPageScopeTests(ReportWorld, ViewTestCases.DetailView):
    """disasters:report_detail for every role and place."""


class ResettlementAPIScopeTests(MediaWorld, APIViewTestCases.ListView):
    model = Resettlement
    api_basename = "resettlements"

    @classmethod
    def build_in_scope(cls, village: Division) -> Resettlement:
        report = _report(village)
        return services.resettlement_record(
            actor=world.reporter(village), report=report, method="relatives", place="亲戚家", since=report.reported_on
        )


# -- county rows and every write: one table -------------------------------------------------------------------

PLACES = ("home", "sibling_town", "other_county")


def _event(village: Division) -> DisasterEvent:
    return world.event(village.code[:6] + "000000", name=f"事件{DisasterEvent.objects.count() + 1}")


def _plan(village: Division) -> EmergencyPlan:
    county = village.code[:6] + "000000"
    year = 2021 + EmergencyPlan.objects.filter(division_id=county).count()
    return services.plan_file(
        actor=world.county_manager(county), county_code=county, season="flood", year=year,
        title=f"{year}年汛期应急预案", filed_on=services.dt.date.today(), document=world.pdf(),
    )  # fmt: skip


def _photo(village: Division) -> DamagePhoto:
    report = _report(village)
    return services.damage_photo_add(actor=world.reporter(village), report=report, file=world.png())


def _note(village: Division) -> CoordinationNote:
    event = _event(village)
    county = village.code[:6] + "000000"
    return services.note_record(
        actor=world.county_manager(county), event=event, department="emergency", noted_on=event.started_on,
        content="应急管理局通报雨情",
    )  # fmt: skip


@dataclass(frozen=True)
class Read:
    """One GET: a page or an API operation, on an object of each place (or a list)."""

    url_name: str
    build: Callable[[Division], Any] | None = None
    api: bool = False


READS = [
    Read("disasters:event_list"),
    Read("disasters:plan_list"),
    Read("disasters:event_detail", _event),
    Read("disasters:event_export", _event),
    Read("disasters:report_photo_file", _photo),
    Read("disasters:plan_document", _plan),
    Read("api:seasons_list", api=True),
    Read("api:plans_list", api=True),
    Read("api:events_list", api=True),
    Read("api:notes_list", api=True),
    Read("api:plans_detail", _plan, api=True),
    Read("api:plans_document", _plan, api=True),
    Read("api:events_detail", _event, api=True),
]


@dataclass(frozen=True)
class Write:
    """One write: the action it needs, the object it acts on (built in each place), a valid body, its event."""

    url_name: str
    action: str
    build: Callable[[Division], Any] | None
    data: Callable[[Any, Any], dict[str, Any]]
    events: tuple[str, ...]
    api: bool = False
    method: str = "POST"
    status: int = 200
    by: str = "county"
    multipart: bool = False
    county_row: bool = False  # the object belongs to a county: a town user sees it (ancestor) and is not refused 404


TODAY = services.dt.date.today()


def _event_body(test: Any, obj: Any) -> dict[str, Any]:
    return {"kind": "flood", "name": "冰雹", "started_on": str(TODAY), "affected_codes": [factories.YUYANG_TOWN]}


def _plan_body(test: Any, obj: Any, season: str = "freeze") -> dict[str, Any]:
    return {"county": factories.YUYANG, "season": season, "year": TODAY.year, "title": "冻融期预案",
            "filed_on": str(TODAY), "document": world.pdf()}  # fmt: skip


WRITES = [
    Write(
        "disasters:season_edit",
        "disasters.manage",
        None,
        lambda t, o: {
            "county": factories.YUYANG,
            "season": "freeze",
            "start_month": 11,
            "start_day": 1,
            "end_month": 3,
            "end_day": 31,
        },
        (Action.SEASON_WINDOW_SET,),
        status=302,
    ),
    Write("disasters:event_add", "disasters.manage", None, _event_body, (Action.DISASTER_DECLARED,), status=302),
    Write("disasters:plan_add", "disasters.manage", None, _plan_body, (Action.PLAN_FILED,), status=302, multipart=True),
    Write(
        "disasters:event_edit",
        "disasters.manage",
        _event,
        lambda t, e: {"name": e.name + "（续）", "affected_codes": e.affected_codes, "ended_on": str(TODAY)},
        (Action.DISASTER_CHANGED,),
        status=302,
        county_row=True,
    ),
    Write(
        "disasters:note_add",
        "disasters.manage",
        _event,
        lambda t, e: {"department": "finance", "noted_on": str(TODAY), "content": "财政局安排救灾资金"},
        (Action.COORDINATION_NOTED,),
        status=302,
        county_row=True,
    ),
    Write(
        "disasters:report_add",
        "disasters.report",
        _event,
        lambda t, e: {"house": next(t.spares["home"]).pk, "level": "minor", "people_affected": 2, "casualties": 0},
        (Action.DAMAGE_REPORTED,),
        status=302,
        by="village",
        county_row=True,
    ),
    Write(
        "disasters:resettlement_add",
        "disasters.report",
        _report,
        lambda t, r: {"method": "tent", "place": "村委会", "since": str(TODAY)},
        (Action.RESETTLEMENT_RECORDED,),
        status=302,
        by="village",
    ),
    Write(
        "disasters:report_photos",
        "disasters.report",
        _report,
        lambda t, r: {"photos": world.png("blue")},
        (Action.DAMAGE_PHOTO_ADDED,),
        status=302,
        by="village",
        multipart=True,
    ),
    Write(
        "disasters:report_request_appraisal",
        "disasters.report",
        _report,
        lambda t, r: {},
        (Action.REQUEST_OPENED, Action.DAMAGE_APPRAISAL_REQUESTED),
        status=302,
        by="village",
    ),
    Write(
        "api:seasons_set",
        "disasters.manage",
        None,
        lambda t, o: {
            "county": factories.YUYANG,
            "season": "flood",
            "start_month": 5,
            "start_day": 20,
            "end_month": 9,
            "end_day": 30,
        },
        (Action.SEASON_WINDOW_SET,),
        api=True,
        method="PUT",
    ),
    Write(
        "api:plans_create",
        "disasters.manage",
        None,
        lambda t, o: _plan_body(t, o, "flood") | {"year": TODAY.year + 1},
        (Action.PLAN_FILED,),
        api=True,
        status=201,
        multipart=True,
    ),
    Write(
        "api:events_create", "disasters.manage", None, _event_body, (Action.DISASTER_DECLARED,), api=True, status=201
    ),
    Write(
        "api:events_update",
        "disasters.manage",
        _event,
        lambda t, e: {"ended_on": str(TODAY)},
        (Action.DISASTER_CHANGED,),
        api=True,
        method="PATCH",
        county_row=True,
    ),
    Write(
        "api:notes_create",
        "disasters.manage",
        _event,
        lambda t, e: {"department": "civil_affairs", "noted_on": str(TODAY), "content": "民政局核定救助对象"},
        (Action.COORDINATION_NOTED,),
        api=True,
        status=201,
        county_row=True,
    ),
    Write(
        "api:reports_photos",
        "disasters.report",
        _report,
        lambda t, r: {"photo": world.png("green")},
        (Action.DAMAGE_PHOTO_ADDED,),
        api=True,
        status=201,
        by="village",
        multipart=True,
    ),
    Write(
        "api:reports_request_appraisal",
        "disasters.report",
        _report,
        lambda t, r: {},
        (Action.REQUEST_OPENED, Action.DAMAGE_APPRAISAL_REQUESTED),
        api=True,
        by="village",
    ),
    Write(
        "api:resettlements_create",
        "disasters.report",
        _report,
        lambda t, r: {
            "method": "central",
            "place": "镇中学",
            "since": str(TODAY),
            "is_safe": True,
            "confirmed_by": "镇应急办",
        },
        (Action.RESETTLEMENT_RECORDED,),
        api=True,
        status=201,
        by="village",
    ),
]

#: Where refused requests are tried: (user, place of the object). Each must be a 404.
HIDDEN = [("other_county", "home"), ("county", "other_county"), ("no_division", "home"), ("town", "sibling_town")]


class DisasterTableScopeTests(MediaWorld):
    """Every page and operation not covered by a mixin above, for every role and place."""

    covers = tuple(r.url_name for r in READS) + tuple(w.url_name for w in WRITES)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.reads: dict[tuple[str, str], Any] = {}
        cls.writes: dict[tuple[str, str], Any] = {}
        for place in PLACES:
            village = cls.villages[place]
            for read in READS:
                if read.build is not None:
                    cls.reads[read.url_name, place] = read.build(village)
            for write in WRITES:
                if write.build is not None:
                    cls.writes[write.url_name, place] = write.build(village)

    # -- requests --

    def url(self, name: str, obj: Any) -> str:
        return reverse(name, kwargs={"pk": obj.pk}) if obj is not None else reverse(name)

    def get(self, read: Read, key: str | None, obj: Any) -> Any:
        if read.api:
            return self.api("GET", self.url(read.url_name, obj), key)
        self.as_user(key)
        return self.client.get(self.url(read.url_name, obj))

    def send(self, write: Write, key: str | None, obj: Any) -> Any:
        url, body = self.url(write.url_name, obj), write.data(self, obj)
        if write.api and not write.multipart:
            return self.api(write.method, url, key, body)
        if write.api:
            auth = {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[key]}"} if key else {}
            return Client().post(url, body, **auth)
        self.as_user(key)
        return self.client.post(url, body)

    def visible(self, key: str, obj: Any) -> bool:
        """The object's code in the user's subtree, or (events) the event's county above the user."""
        user = self.users[key]
        if not user.division_id or not has_action(user, "disasters.view"):
            return False
        code = obj.division_id
        prefix = user.division_id[: {"city": 4, "county": 6, "town": 9, "village": 12}[user.division.level]]
        seen_below = isinstance(obj, (DisasterEvent, EmergencyPlan))  # a county's event or plan, for all below it
        return code.startswith(prefix) or (seen_below and user.division_id.startswith(code[:6]))

    def state(self) -> tuple[int, ...]:
        return (
            Event.objects.count(),
            DamageReport.objects.count(),
            Resettlement.objects.count(),
            DamagePhoto.objects.count(),
            CoordinationNote.objects.count(),
            EmergencyPlan.objects.count(),
            DisasterEvent.objects.count(),
        )

    def refused(self, write: Write, key: str | None, obj: Any, status: int) -> None:
        before = self.state()
        response = self.send(write, key, obj)
        if key is None and not write.api:
            self.assertLoginRedirect(response)
        elif write.api:
            assert_error_body(response, status, errors=False)
        else:
            self.assertEqual(response.status_code, status, response.content[:300])
        self.assertEqual(self.state(), before, f"a refused {write.url_name} by {key} wrote something")

    # -- reads --

    def test_reads_for_every_user_and_place(self) -> None:
        for read in READS:
            objects = [self.reads[read.url_name, p] for p in PLACES] if read.build else [None]
            for obj in objects:
                with self.subTest(read=read.url_name, user=None):
                    response = self.get(read, None, obj)
                    if read.api:
                        assert_error_body(response, 401, errors=False)
                    else:
                        self.assertLoginRedirect(response)
                for key in PERSONAS:
                    with self.subTest(read=read.url_name, user=key, obj=getattr(obj, "division_id", None)):
                        response = self.get(read, key, obj)
                        if not has_action(self.users[key], "disasters.view"):
                            expected = 403
                        elif obj is None or self.visible(key, obj):
                            expected = 200
                        else:
                            expected = 404
                        self.assertEqual(response.status_code, expected, getattr(response, "content", b"")[:200])

    def test_lists_hide_other_counties(self) -> None:
        home_event, other_event = (
            self.reads["disasters:event_detail", "home"],
            self.reads["disasters:event_detail", "other_county"],
        )
        response = self.api("GET", reverse("api:events_list"), "village", page_size=500)
        ids = {item["id"] for item in response.json()["items"]}
        self.assertIn(home_event.pk, ids)
        self.assertNotIn(other_event.pk, ids)
        home_plan, other_plan = self.reads["api:plans_detail", "home"], self.reads["api:plans_detail", "other_county"]
        ids = {item["id"] for item in self.api("GET", reverse("api:plans_list"), "county").json()["items"]}
        self.assertIn(home_plan.pk, ids)
        self.assertNotIn(other_plan.pk, ids)
        home_note, other_note = _note(self.villages["home"]), _note(self.villages["other_county"])
        ids = {item["id"] for item in self.api("GET", reverse("api:notes_list"), "village").json()["items"]}
        self.assertIn(home_note.pk, ids)  # the county's coordination is read in its villages
        self.assertNotIn(other_note.pk, ids)
        counties = {row["county"] for row in self.api("GET", reverse("api:seasons_list"), "village").json()}
        self.assertEqual(counties, {factories.YUYANG})
        self.as_user("county")
        page = self.client.get(reverse("disasters:event_list")).context["page"]
        self.assertIn(home_event.pk, {e.pk for e in page.object_list})
        self.assertNotIn(other_event.pk, {e.pk for e in page.object_list})

    # -- writes --

    def test_anonymous_is_refused(self) -> None:
        for write in WRITES:
            with self.subTest(write=write.url_name):
                obj = self.writes.get((write.url_name, "home"))
                self.refused(write, None, obj, 401)

    def test_roles_without_the_action_are_403(self) -> None:
        for write in WRITES:
            keys = [k for k in PERSONAS if not has_action(self.users[k], write.action)]
            self.assertIn("department", keys)
            for key in keys:
                with self.subTest(write=write.url_name, user=key):
                    self.refused(write, key, self.writes.get((write.url_name, "home")), 403)

    def test_objects_outside_the_subtree_are_404(self) -> None:
        for write in WRITES:
            if write.build is None:
                continue
            for key, place in HIDDEN:
                if not has_action(self.users[key], write.action) or (write.county_row and key == "town"):
                    continue
                with self.subTest(write=write.url_name, user=key, place=place):
                    self.refused(write, key, self.writes[write.url_name, place], 404)

    @staticmethod
    def elsewhere(data: Callable[[Any, Any], dict[str, Any]]) -> Callable[[Any, Any], dict[str, Any]]:
        """The same body aimed at 神木: its county, or its town as the affected division."""

        def shifted(test: Any, obj: Any) -> dict[str, Any]:
            body = data(test, obj)
            return body | (
                {"county": factories.SHENMU} if "county" in body else {"affected_codes": [factories.SHENMU_TOWN]}
            )

        return shifted

    def test_creations_outside_the_subtree_are_refused(self) -> None:
        """A county files no plan and sets no season for another county; nor declares an event there."""
        for write in WRITES:
            if write.build is not None:
                continue
            with self.subTest(write=write.url_name):
                before = self.state()
                shifted = Write(**{**write.__dict__, "data": self.elsewhere(write.data)})
                response = self.send(shifted, "county", None)
                self.assertIn(response.status_code, (200, 400, 403), response.content[:300])
                if response.status_code == 200:
                    self.assertTrue(response.context["form"].errors)
                self.assertEqual(self.state(), before)

    def test_each_write_succeeds_in_scope_and_is_audited(self) -> None:
        for write in WRITES:
            with self.subTest(write=write.url_name):
                obj = self.writes.get((write.url_name, "home"))
                since = self.last_event_id()
                response = self.send(write, write.by, obj)
                self.assertEqual(response.status_code, write.status, response.content[:500])
                events = list(Event.objects.filter(pk__gt=since))
                self.assertEqual([e.action for e in events], list(write.events))
                event = events[-1]
                self.assertEqual(
                    (event.actor_id, event.request_id), (self.users[write.by].pk, response["X-Request-ID"])
                )
                if obj is not None:
                    self.assertTrue(event.division_code.startswith(obj.division_id[:6]))

    def test_the_report_form_lists_only_houses_the_user_may_report(self) -> None:
        event = self.event_of(factories.YUYANG)
        self.as_user("village")
        response = self.client.get(reverse("disasters:report_add", kwargs={"pk": event.pk}))
        listed = {h.pk for h in response.context["form"].fields["house"].queryset}
        home = {h.pk for h in House.objects.filter(division_id=self.villages["home"].code)}
        self.assertTrue(listed)
        self.assertLessEqual(listed, home)
        other = next(self.spares["home_town"])
        response = self.client.post(
            reverse("disasters:report_add", kwargs={"pk": event.pk}), {"house": other.pk, "level": "minor"}
        )
        self.assertRefusedForm(response)
        self.as_user("other_county")
        self.assertEqual(self.client.get(reverse("disasters:report_add", kwargs={"pk": event.pk})).status_code, 404)
        self.as_user("appraiser")
        self.assertEqual(self.client.get(reverse("disasters:report_add", kwargs={"pk": event.pk})).status_code, 403)
