"""Every supervision page and endpoint under the scope/permission helper.

Findings (about a village) go through the NetBox-style mixins: lists and details for every role and place. Every
other page and endpoint is a row of `ENDPOINTS`: anonymous → login or 401; a role without the action → 403; an
object of another county (or, for a finding, of a sibling town; for a county's visit, filing or interview, any
town or village user) → 404; each refusal writes nothing; a permitted user in scope succeeds, and a write leaves
exactly one audit event of its action, by that user, in that request. Visits, filings and interviews belong to
the county, so their lists are checked by hand: the city sees all, a county its own, a town or village none.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.divisions.models import Division
from anju.testing import factories
from anju.testing.api import assert_error_body, bearer
from anju.testing.scope import APIViewTestCases, ScopeTestCase, ViewTestCases

from .. import services
from ..models import Finding, Measure, PlanFiling, Visit
from . import world

TODAY = dt.date.today()
COUNTER = itertools.count(1)


def county_of(village: Division) -> str:
    return village.code[:6] + "000000"


class MediaWorld(ScopeTestCase):
    """Files go to a temporary media root."""

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


# -- findings through the mixins ------------------------------------------------------------------------------------


class FindingWorld(MediaWorld):
    __test__ = False
    model = Finding
    api_basename = "supervision_findings"
    VERBS = {"add": "inspect", "change": "inspect"}

    @classmethod
    def build_in_scope(cls, village: Division) -> Finding:
        return world.finding(world.visit(county_of(village)), village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class FindingPageScopeTests(FindingWorld, ViewTestCases.ListView, ViewTestCases.DetailView):
    def test_finding_list_queries(self) -> None:
        visit = Finding.objects.get(pk=self.in_scope[0].pk).visit

        def grow(n: int) -> None:
            while Finding.objects.filter(visit=visit).count() < n:
                world.finding(visit, self.villages["home"], household=factories.household(self.villages["home"]))

        self.as_user("county")
        url = reverse("supervision:finding_list")
        self.assertQueryCountsStable(
            "supervision:finding_list", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30)
        )


class FindingAPIScopeTests(
    FindingWorld, APIViewTestCases.ListView, APIViewTestCases.DetailView, APIViewTestCases.CreateView
):
    create_action = Action.FINDING_RECORDED

    def create_payload(self, near: Finding) -> dict[str, Any]:
        return {"visit_id": near.visit_id, "division_code": near.division_id, "description": "档案不全"}

    def test_finding_api_list_queries(self) -> None:
        visit = Finding.objects.get(pk=self.in_scope[0].pk).visit

        def grow(n: int) -> None:
            while Finding.objects.filter(visit=visit).count() < n:
                world.finding(visit, self.villages["home"])

        url = reverse("api:supervision_findings_list")
        self.assertQueryCountsStable(
            "api:supervision_findings_list",
            grow=grow,
            fetch=lambda: self.api("GET", url, "county", page_size=50),
            sizes=(3, 30),
        )


# -- every other page and endpoint ------------------------------------------------------------------------------------


def _visit(village: Division) -> Visit:
    return world.visit(county_of(village))


def _round(village: Division) -> Any:
    return world.plan_round(title=f"实施方案备案第{next(COUNTER)}批")


def _filing(village: Division) -> PlanFiling:
    return world.filing(_round(village), county_of(village))


def _finding(village: Division) -> Finding:
    return world.finding(_visit(village), village)


def _with_household(village: Division) -> Finding:
    household = factories.household(village)
    factories.house(household)
    return world.finding(_visit(village), village, household=household)


def _submitted(village: Division) -> Any:
    return world.pending(world.rectify(_finding(village), accept=False))


def _evidence(village: Division) -> Any:
    item = _finding(village)
    return services.rectification_submit(
        actor=world.county_manager(village.code),
        finding=item,
        done_on=TODAY,
        description="已整改",
        evidence=world.document("整改照片.pdf"),
    )


def _measure(village: Division) -> Measure:
    return services.measure_record(
        actor=world.supervisor(),
        county_code=county_of(village),
        kind="interview",
        person="县住建局局长",
        held_on=TODAY,
        reason="整改不力",
        conducted_by="市住建局",
    )


def _pdf() -> SimpleUploadedFile:
    return world.document()


@dataclass(frozen=True)
class Endpoint:
    """One page or API operation: its URL name, method, action, the object it acts on (built per place), its
    input, what success answers and what event it records."""

    name: str
    action: str
    build: Callable[[Division], Any] | None = None
    method: str = "GET"
    data: Callable[[Any], dict[str, Any]] = field(default=lambda obj: {})
    status: int = 200
    event: str | None = None
    by: str = "supervisor"
    in_url: bool = True  # the object's pk is in the URL (else it is in the body, or there is none)
    level: str = "county"  # "village" objects can be hidden from a sibling town's user
    multipart: bool = False
    query: dict[str, Any] = field(default_factory=dict)
    also: tuple[str, ...] = ()  # events of the services it calls (opening a ledger case)

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api:")


V, INSPECT, R = "supervision.view", "supervision.inspect", "supervision.rectify"
YEAR = {"year": TODAY.year}


def _visit_form(obj: Any) -> dict[str, Any]:
    return {
        "county": factories.YUYANG,
        "level": "city",
        "mode": "unannounced",
        "starts_on": TODAY,
        "ends_on": TODAY,
        "member_names": "张三、李四",
    }


def _weights(obj: Any) -> dict[str, Any]:
    return {
        "check_coverage": 40,
        "cases_on_time": 30,
        "complaints_on_time": 10,
        "findings_on_time": 10,
        "training_coverage": 10,
    }


def _measure_form(obj: Any) -> dict[str, Any]:
    return {
        "county": factories.YUYANG,
        "kind": "accountability",
        "person": "某镇分管领导",
        "held_on": TODAY,
        "reason": "督导问题逾期未整改",
        "conducted_by": "市纪委",
    }


ENDPOINTS = [
    # pages: P16
    Endpoint("supervision:round_list", V, by="village"),
    Endpoint("supervision:round_detail", V, _round, by="town"),
    Endpoint("supervision:round_add", INSPECT),
    Endpoint(
        "supervision:round_add",
        INSPECT,
        method="POST",
        status=302,
        event=Action.PLAN_ROUND_CREATED,
        data=lambda o: {"year": TODAY.year, "title": "新批次", "deadline": TODAY},
    ),
    Endpoint(
        "supervision:round_edit",
        INSPECT,
        _round,
        method="POST",
        status=302,
        event=Action.PLAN_ROUND_CHANGED,
        data=lambda o: {"year": o.year, "title": o.title + "（修订）", "deadline": TODAY},
    ),
    Endpoint(
        "supervision:filing_add",
        R,
        _round,
        method="POST",
        status=302,
        event=Action.PLAN_SUBMITTED,
        data=lambda o: {"county": factories.YUYANG, "title": "榆阳区实施方案", "filed_on": TODAY, "document": _pdf()},
        by="county",
        multipart=True,
    ),
    Endpoint(
        "supervision:filing_review",
        INSPECT,
        _filing,
        method="POST",
        status=302,
        event=Action.PLAN_REVIEWED,
        data=lambda o: {"status": "received"},
    ),
    Endpoint("supervision:filing_document", V, _filing, by="county"),
    # pages: P3
    Endpoint("supervision:visit_list", V, by="department"),
    Endpoint("supervision:visit_detail", V, _visit, by="county"),
    Endpoint(
        "supervision:visit_add", INSPECT, method="POST", status=302, event=Action.VISIT_RECORDED, data=_visit_form
    ),
    Endpoint(
        "supervision:visit_edit",
        INSPECT,
        _visit,
        method="POST",
        status=302,
        event=Action.VISIT_CHANGED,
        data=lambda o: _visit_form(o) | {"scope_note": "核查危房改造质量"},
    ),
    Endpoint(
        "supervision:finding_add",
        INSPECT,
        _visit,
        method="POST",
        status=302,
        event=Action.FINDING_RECORDED,
        data=lambda o: {
            "division_code": o.division_id,
            "description": "改造户未签订协议",
            "severity": "serious",
            "fed_back_on": TODAY,
        },
    ),
    Endpoint(
        "supervision:finding_rectify",
        R,
        _finding,
        method="POST",
        status=302,
        event=Action.RECTIFICATION_SUBMITTED,
        by="county",
        level="village",
        multipart=True,
        data=lambda o: {"done_on": TODAY, "description": "已补签协议", "evidence": _pdf()},
    ),
    Endpoint(
        "supervision:rectification_review",
        INSPECT,
        _submitted,
        method="POST",
        status=302,
        level="village",
        event=Action.RECTIFICATION_REVIEWED,
        data=lambda o: {"verdict": "accepted"},
    ),
    Endpoint("supervision:rectification_evidence", V, _evidence, by="village", level="village"),
    Endpoint(
        "supervision:finding_case",
        R,
        _with_household,
        method="POST",
        status=302,
        level="village",
        event=Action.FINDING_CASE_OPENED,
        also=(Action.CASE_OPENED,),
        by="county",
        data=lambda o: {"description": ""},
    ),
    # pages: P24
    Endpoint("supervision:measure_list", V, by="county"),
    Endpoint("supervision:measure_detail", V, _measure, by="county"),
    Endpoint(
        "supervision:measure_add", INSPECT, method="POST", status=302, event=Action.MEASURE_RECORDED, data=_measure_form
    ),
    Endpoint("supervision:assessment", V, by="village", query=YEAR),
    Endpoint("supervision:assessment_export", V, by="county", event=Action.ASSESSMENT_EXPORTED, query=YEAR),
    Endpoint(
        "supervision:weights_edit",
        INSPECT,
        method="POST",
        status=302,
        event=Action.WEIGHTS_SET,
        data=_weights,
        query=YEAR,
    ),
    # the forms themselves
    Endpoint("supervision:round_edit", INSPECT, _round),
    Endpoint("supervision:filing_add", R, _round, by="county"),
    Endpoint("supervision:filing_review", INSPECT, _filing),
    Endpoint("supervision:visit_add", INSPECT),
    Endpoint("supervision:visit_edit", INSPECT, _visit),
    Endpoint("supervision:finding_add", INSPECT, _visit),
    Endpoint("supervision:finding_rectify", R, _finding, by="county", level="village"),
    Endpoint("supervision:rectification_review", INSPECT, _submitted, level="village"),
    Endpoint("supervision:finding_case", R, _with_household, by="county", level="village"),
    Endpoint("supervision:measure_add", INSPECT),
    Endpoint("supervision:weights_edit", INSPECT, query=YEAR),
    # API: P16
    Endpoint("api:supervision_rounds_list", V, by="village"),
    Endpoint("api:supervision_rounds_detail", V, _round, by="county"),
    Endpoint(
        "api:supervision_rounds_create",
        INSPECT,
        method="POST",
        status=201,
        event=Action.PLAN_ROUND_CREATED,
        data=lambda o: {"year": TODAY.year, "title": "接口批次", "deadline": str(TODAY)},
    ),
    Endpoint(
        "api:supervision_rounds_update",
        INSPECT,
        _round,
        method="PATCH",
        event=Action.PLAN_ROUND_CHANGED,
        data=lambda o: {"deadline": str(TODAY + dt.timedelta(days=30))},
    ),
    Endpoint("api:supervision_filings_list", V, by="county"),
    Endpoint("api:supervision_filings_detail", V, _filing, by="county"),
    Endpoint(
        "api:supervision_filings_create",
        R,
        _round,
        method="POST",
        status=201,
        event=Action.PLAN_SUBMITTED,
        by="county",
        in_url=False,
        multipart=True,
        data=lambda o: {
            "round_id": o.pk,
            "county": factories.YUYANG,
            "title": "榆阳区实施方案",
            "filed_on": str(TODAY),
            "document": _pdf(),
        },
    ),
    Endpoint(
        "api:supervision_filings_review",
        INSPECT,
        _filing,
        method="POST",
        event=Action.PLAN_REVIEWED,
        data=lambda o: {"status": "returned", "note": "请补充资金安排"},
    ),
    Endpoint("api:supervision_filings_document", V, _filing, by="county"),
    # API: P3
    Endpoint("api:supervision_visits_list", V, by="county"),
    Endpoint("api:supervision_visits_detail", V, _visit, by="county"),
    Endpoint(
        "api:supervision_visits_create",
        INSPECT,
        method="POST",
        status=201,
        event=Action.VISIT_RECORDED,
        data=lambda o: {
            "county": factories.YUYANG,
            "starts_on": str(TODAY),
            "ends_on": str(TODAY),
            "member_names": "张三",
        },
    ),
    Endpoint(
        "api:supervision_visits_update",
        INSPECT,
        _visit,
        method="PATCH",
        event=Action.VISIT_CHANGED,
        data=lambda o: {"mode": "unannounced"},
    ),
    Endpoint(
        "api:supervision_findings_rectify",
        R,
        _finding,
        method="POST",
        status=201,
        by="county",
        level="village",
        event=Action.RECTIFICATION_SUBMITTED,
        data=lambda o: {"done_on": str(TODAY), "description": "已整改"},
    ),
    Endpoint(
        "api:supervision_findings_rectify_upload",
        R,
        _finding,
        method="POST",
        status=201,
        by="county",
        level="village",
        multipart=True,
        event=Action.RECTIFICATION_SUBMITTED,
        data=lambda o: {"done_on": str(TODAY), "description": "已整改", "evidence": _pdf()},
    ),
    Endpoint(
        "api:supervision_rectifications_review",
        INSPECT,
        _submitted,
        method="POST",
        level="village",
        event=Action.RECTIFICATION_REVIEWED,
        data=lambda o: {"verdict": "returned", "note": "照片不清"},
    ),
    Endpoint(
        "api:supervision_findings_case",
        R,
        _with_household,
        method="POST",
        status=201,
        by="county",
        level="village",
        event=Action.FINDING_CASE_OPENED,
        also=(Action.CASE_OPENED,),
        data=lambda o: {},
    ),
    # API: P24
    Endpoint("api:supervision_measures_list", V, by="county"),
    Endpoint("api:supervision_measures_detail", V, _measure, by="county"),
    Endpoint(
        "api:supervision_measures_create",
        INSPECT,
        method="POST",
        status=201,
        event=Action.MEASURE_RECORDED,
        data=lambda o: {k: str(v) if isinstance(v, dt.date) else v for k, v in _measure_form(o).items()},
    ),
    Endpoint("api:supervision_assessment", V, by="town", query=YEAR),
    Endpoint(
        "api:supervision_weights_set", INSPECT, method="PUT", event=Action.WEIGHTS_SET, data=_weights, in_url=False
    ),
]

#: (user, place of the object): each must be a 404. Town and village users see no county-level object at all.
HIDDEN = {
    "county": [
        ("other_county", "home"),
        ("county", "other_county"),
        ("no_division", "home"),
        ("town", "home"),
        ("village", "home"),
    ],
    "village": [
        ("other_county", "home"),
        ("county", "other_county"),
        ("no_division", "home"),
        ("town", "sibling_town"),
    ],
}
ROUND_BUILDERS = (_round,)  # a round is the city's: every county sees it, so only a user without a division misses it


class SupervisionScopeTests(MediaWorld):
    """Every page and endpoint of `ENDPOINTS`, for every role and place."""

    covers = tuple(sorted({e.name for e in ENDPOINTS}))

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.objects: dict[tuple[int, str], Any] = {}
        for index, endpoint in enumerate(ENDPOINTS):
            if endpoint.build is None:
                continue
            places = ("home", "other_county") + (("sibling_town",) if endpoint.level == "village" else ())
            for place in places:
                cls.objects[index, place] = endpoint.build(cls.villages[place])

    # -- requests ---------------------------------------------------------------------------------------------------

    def url(self, endpoint: Endpoint, obj: Any) -> str:
        kwargs = {"pk": obj.pk} if endpoint.in_url and obj is not None else {}
        if endpoint.name == "api:supervision_weights_set":
            kwargs = {"year": TODAY.year}
        return reverse(endpoint.name, kwargs=kwargs or None)

    def call(self, endpoint: Endpoint, key: str | None, obj: Any) -> HttpResponse:
        url, data = self.url(endpoint, obj), endpoint.data(obj)
        if endpoint.query:
            url += "?" + "&".join(f"{k}={v}" for k, v in endpoint.query.items())
        if endpoint.is_api:
            token = self.tokens[key] if key else None
            if endpoint.multipart:
                return Client().post(url, data, **bearer(token))
            if endpoint.method == "GET":
                return Client().get(url, **bearer(token))
            return self.api(endpoint.method, url, key, data)
        self.as_user(key)
        if endpoint.method == "GET":
            return self.client.get(url)
        return self.client.post(url, data)

    def obj(self, index: int, place: str = "home") -> Any:
        return self.objects.get((index, place))

    def refused(self, endpoint: Endpoint, key: str | None, obj: Any, status: int) -> None:
        events = Event.objects.count()
        response = self.call(endpoint, key, obj)
        if key is None and not endpoint.is_api:
            self.assertLoginRedirect(response)
        elif endpoint.is_api:
            assert_error_body(response, status, errors=False)
        else:
            self.assertEqual(response.status_code, status, (endpoint.name, key))
        self.assertEqual(Event.objects.count(), events, f"a refused {endpoint.name} wrote an event")

    # -- the checks -------------------------------------------------------------------------------------------------

    def test_fixture_objects_are_where_they_should_be(self) -> None:
        for (index, place), obj in self.objects.items():
            if ENDPOINTS[index].build in ROUND_BUILDERS:
                continue
            code = obj.division_id
            expected = (
                self.villages[place].code if ENDPOINTS[index].level == "village" else county_of(self.villages[place])
            )
            self.assertEqual(code, expected, (ENDPOINTS[index].name, place))

    def test_anonymous_is_refused(self) -> None:
        for index, endpoint in enumerate(ENDPOINTS):
            with self.subTest(endpoint=endpoint.name, method=endpoint.method):
                self.refused(endpoint, None, self.obj(index), 401)

    def test_roles_without_the_action_are_403(self) -> None:
        for index, endpoint in enumerate(ENDPOINTS):
            keys = [k for k in self.users if not has_action(self.users[k], endpoint.action)]
            self.assertIn("no_role", keys)
            for key in keys:
                with self.subTest(endpoint=endpoint.name, method=endpoint.method, user=key):
                    self.refused(endpoint, key, self.obj(index), 403)

    def test_objects_outside_the_subtree_are_404(self) -> None:
        for index, endpoint in enumerate(ENDPOINTS):
            if endpoint.build is None or not endpoint.in_url:
                continue
            pairs = [("no_division", "home")] if endpoint.build in ROUND_BUILDERS else HIDDEN[endpoint.level]
            for key, place in pairs:
                if not has_action(self.users[key], endpoint.action):
                    continue
                with self.subTest(endpoint=endpoint.name, method=endpoint.method, user=key, place=place):
                    self.refused(endpoint, key, self.obj(index, place), 404)

    def test_each_succeeds_in_scope_and_writes_are_audited(self) -> None:
        for index, endpoint in enumerate(ENDPOINTS):
            with self.subTest(endpoint=endpoint.name, method=endpoint.method):
                since = self.last_event_id()
                response = self.call(endpoint, endpoint.by, self.obj(index))
                body = response.content[:500] if not getattr(response, "streaming", False) else b""
                self.assertEqual(response.status_code, endpoint.status, body)
                events = list(Event.objects.filter(pk__gt=since))
                if endpoint.event is None:
                    self.assertEqual(events, [], [e.action for e in events])
                    continue
                self.assertEqual([e.action for e in events], [*endpoint.also, endpoint.event])
                self.assertEqual(events[0].actor_id, self.users[endpoint.by].pk)
                self.assertEqual(events[0].request_id, response["X-Request-ID"])

    def test_a_county_cannot_file_for_another(self) -> None:
        plan_round = world.plan_round(title="跨县报送")
        for endpoint in [e for e in ENDPOINTS if e.event == Action.PLAN_SUBMITTED]:
            with self.subTest(endpoint=endpoint.name):
                before = PlanFiling.objects.count(), Event.objects.count()
                self.as_user("other_county")
                data = endpoint.data(plan_round)
                if endpoint.is_api:
                    response = Client().post(
                        self.url(endpoint, plan_round), data, **bearer(self.tokens["other_county"])
                    )
                    assert_error_body(response, 403, errors=False)
                else:
                    response = self.client.post(self.url(endpoint, plan_round), data)
                    self.assertRefusedForm(response)
                self.assertEqual((PlanFiling.objects.count(), Event.objects.count()), before)


# -- the county-level lists --------------------------------------------------------------------------------------


class CountyListScopeTests(MediaWorld):
    """Visits, filings and interviews: the city sees every county's, a county its own, a town or village none."""

    covers = ()
    LISTS = [
        ("supervision:visit_list", Visit, _visit),
        ("api:supervision_visits_list", Visit, _visit),
        ("api:supervision_filings_list", PlanFiling, _filing),
        ("supervision:measure_list", Measure, _measure),
        ("api:supervision_measures_list", Measure, _measure),
    ]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.rows = {
            (model, place): build(cls.villages[place])
            for model, build in {model: build for _n, model, build in cls.LISTS}.items()
            for place in ("home", "other_county")
        }

    def listed(self, name: str, key: str) -> set[int]:
        if name.startswith("api:"):
            response = self.api("GET", reverse(name), key, page_size=100)
            self.assertEqual(response.status_code, 200)
            return {item["id"] for item in response.json()["items"]}
        self.as_user(key)
        response = self.client.get(reverse(name))
        self.assertEqual(response.status_code, 200)
        return {obj.pk for obj in response.context["page"].object_list}

    def test_each_user_lists_the_rows_of_their_county(self) -> None:
        expected = {
            "admin": {"home", "other_county"},
            "supervisor": {"home", "other_county"},
            "county": {"home"},
            "other_county": {"other_county"},
            "department": {"home"},
            "appraiser": {"home"},
            "town": set(),
            "village": set(),
            "no_division": set(),
        }
        for name, model, _build in self.LISTS:
            for key, places in expected.items():
                with self.subTest(list=name, user=key):
                    want = {self.rows[model, p].pk for p in places}
                    self.assertEqual(self.listed(name, key), want)

    def test_county_list_queries(self) -> None:
        for name, model, build in [
            ("supervision:visit_list", Visit, _visit),
            ("api:supervision_visits_list", Visit, _visit),
            ("supervision:measure_list", Measure, _measure),
        ]:
            with self.subTest(list=name):

                def grow(n: int, model: type[Model] = model, build: Callable = build) -> None:
                    while model.objects.filter(division_id=factories.YUYANG).count() < n:
                        item = build(self.villages["home"])
                        if model is Visit:
                            world.finding(item, self.villages["home"])

                if name.startswith("api:"):
                    fetch = lambda name=name: self.api("GET", reverse(name), "county", page_size=50)  # noqa: E731
                else:
                    self.as_user("county")
                    fetch = lambda name=name: self.client.get(reverse(name))  # noqa: E731
                self.assertQueryCountsStable(name, grow=grow, fetch=fetch, sizes=(3, 30))
