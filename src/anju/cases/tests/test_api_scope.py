"""The ledger's endpoints under the scope/permission helper: the case list, page, opening and editing through the
NetBox-style mixins, and every move, the craftsmen and the subsidy rates by a table of who may do what where.

For every move: anonymous → 401; a role without the move's action → 403; a case (or visit, transitional
housing) of another county, of a sibling town, or seen by a user without a division → 404; and each refusal writes
nothing. A permitted user in scope succeeds, and the audit log gains the move's event by that user in that request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.urls import reverse

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseState, Craftsman, SubsidyRate, TransitionalHousing
from anju.cases.services import cases as case_services
from anju.cases.services import renovation
from anju.divisions.models import Division
from anju.testing import appraisals, cases, factories
from anju.testing.api import assert_error_body
from anju.testing.scope import PERSONAS, APIViewTestCases, ScopeTestCase

TODAY = dt.date.today()


def open_case(village: Division, **values: Any) -> Case:
    """A registered case (登记) of a new household with a house, opened by the county."""
    house = factories.house(factories.household(village))
    return case_services.case_open(
        actor=appraisals.county_manager(house),
        household=house.household,
        house=house,
        source=values.pop("source", "complaint"),
        description=values.pop("description", "群众反映墙体开裂"),
        **values,
    )


class CaseWorld(ScopeTestCase):
    """Opening and editing a case are `cases.open` (admin, county, town, village staff)."""

    __test__ = False
    model = Case
    api_basename = "cases"
    VERBS = {"add": "open", "change": "open"}

    @classmethod
    def build_in_scope(cls, village: Division) -> Case:
        return open_case(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class CaseAPIScopeTests(CaseWorld, APIViewTestCases.PrimaryObjectAPITestCase):
    create_action = Action.CASE_OPENED
    update_action = Action.CASE_CHANGED

    def create_payload(self, near: Case) -> dict[str, Any]:
        return {"household_id": near.household_id, "source": "complaint", "description": "村民反映屋顶漏雨"}

    def update_payload(self, obj: Case) -> dict[str, Any]:
        return {"measures": obj.measures + "加固屋面。"}

    def test_api_create_with_a_house_of_another_county_is_404(self) -> None:
        payload = self.create_payload(self.in_scope[0]) | {"house_id": self.out_of_scope.house_id}
        before = self.snapshot()
        assert_error_body(self.api("POST", self.api_url("create"), "county", payload), 404, errors=False)
        self.assertNothingWritten(before, payload)


# -- every move ---------------------------------------------------------------------------------------------------


def _appraised(village: Division) -> Case:
    return cases.dangerous_case(factories.house(factories.household(village)))


def _with_appraisal(village: Division) -> tuple[Case, int]:
    """A registered case whose house already has an appraisal (A: it opened no case by itself)."""
    house = factories.house(factories.household(village))
    appraisal = appraisals.appraisal(house, components=appraisals.all_a(house))
    case = case_services.case_open(
        actor=appraisals.county_manager(house),
        household=house.household,
        house=house,
        source="complaint",
        description="复核房屋安全",
    )
    return case, appraisal.pk


def _consented(village: Division) -> Case:
    case = _appraised(village)
    renovation.renovation_apply(
        actor=cases.manager(case), case=case, applied_on=TODAY, consent_on=TODAY, consent_by=case.household.head_name
    )
    cases.rate(TODAY.year)
    return Case.objects.get(pk=case.pk)


def _ready(village: Division) -> Case:
    """Planned, with a design and a trained craftsman: ready to start."""
    case = cases.advance(_appraised(village), CaseState.PLANNED)
    renovation.renovation_design(actor=cases.manager(case), case=case, design_kind="atlas", design_reference="A-1")
    renovation.renovation_builder(actor=cases.manager(case), case=case, builder=cases.craftsman(case))
    return Case.objects.get(pk=case.pk)


def _building(village: Division) -> Case:
    """Under construction, visited once without findings: ready to complete."""
    case = cases.advance(_appraised(village), CaseState.UNDER_CONSTRUCTION)
    renovation.site_visit_add(actor=cases.manager(case), case=case, visited_on=TODAY, findings="施工规范")
    return Case.objects.get(pk=case.pk)


def _fix_visit(village: Division) -> Any:
    case = cases.advance(_appraised(village), CaseState.UNDER_CONSTRUCTION)
    return renovation.site_visit_add(
        actor=cases.manager(case), case=case, visited_on=TODAY, findings="圈梁未闭合", needs_fix=True, fix_due_on=TODAY
    )


def _housing(village: Division) -> TransitionalHousing:
    case = _appraised(village)
    return renovation.transitional_add(
        actor=cases.manager(case), case=case, kind="relatives", place="本村亲戚家", from_on=TODAY
    )


def _signed(village: Division) -> Case:
    return cases.sign(cases.advance(_appraised(village), CaseState.ACCEPTED))


def _craftsman_of(obj: Case) -> Craftsman:
    return Craftsman.objects.get(division_id=obj.division_id[:6] + "000000", name="巡查表工匠")


@dataclass(frozen=True)
class Move:
    """One move endpoint: the action it needs, the object it acts on, a valid body, and what it records."""

    name: str
    action: str
    build: Callable[[Division], Any]
    payload: Callable[[Any], dict[str, Any]]
    event: str
    status: int = 200
    by: str = "county"


def _appraisal_payload(obj: tuple[Case, int]) -> dict[str, Any]:
    return {"appraisal_id": obj[1]}


MOVES = [
    Move("request_appraisal", "cases.open", open_case, lambda c: {}, Action.CASE_APPRAISAL_REQUESTED, by="village"),
    Move("use_appraisal", "cases.manage", _with_appraisal, _appraisal_payload, Action.CASE_APPRAISED),
    Move(
        "application",
        "cases.apply",
        _appraised,
        lambda c: {"applied_on": str(TODAY), "consent_on": str(TODAY), "consent_by": "户主"},
        Action.RENOVATION_APPLIED,
        by="village",
    ),
    Move("plan", "cases.manage", _consented, lambda c: {"method": "reinforce"}, Action.CASE_PLANNED),
    Move("design", "cases.manage", _appraised, lambda c: {"design_reference": "陕农房A-3"}, Action.RENOVATION_DESIGNED),
    Move(
        "builder",
        "cases.manage",
        _appraised,
        lambda c: {"craftsman_id": _craftsman_of(c).pk},
        Action.RENOVATION_BUILDER_SET,
    ),
    Move("start", "cases.manage", _ready, lambda c: {"started_on": str(TODAY)}, Action.CASE_STARTED),
    Move(
        "visits",
        "cases.visit",
        _building,
        lambda c: {"visited_on": str(TODAY), "findings": "砂浆饱满"},
        Action.SITE_VISIT_RECORDED,
        201,
    ),
    Move(
        "visit_fix",
        "cases.visit",
        _fix_visit,
        lambda v: {"fixed_on": str(TODAY), "fix_note": "已补做圈梁"},
        Action.SITE_VISIT_FIXED,
    ),
    Move("complete", "cases.manage", _building, lambda c: {"completed_on": str(TODAY)}, Action.CASE_COMPLETED),
    Move(
        "accept",
        "cases.manage",
        lambda v: cases.advance(_appraised(v), CaseState.COMPLETED),
        lambda c: {"accepted_on": str(TODAY), "acceptance_team": "县住建局、镇村干部、农户", "household_signed": True},
        Action.CASE_ACCEPTED,
    ),
    Move(
        "payments",
        "cases.manage",
        lambda v: cases.advance(_appraised(v), CaseState.ACCEPTED),
        lambda c: {"paid_on": str(TODAY), "amount": "5000", "account": "6228480000001234"},
        Action.SUBSIDY_PAID,
        201,
    ),
    Move(
        "transitional",
        "cases.apply",
        _appraised,
        lambda c: {"kind": "rented", "place": "镇上租房", "from_on": str(TODAY)},
        Action.TRANSITIONAL_RECORDED,
        201,
        by="village",
    ),
    Move("transitional_confirm", "cases.apply", _housing, lambda h: {}, Action.TRANSITIONAL_CONFIRMED, by="village"),
    Move(
        "secure",
        "cases.manage",
        _appraised,
        lambda c: {"means": "relatives", "secured_on": str(TODAY), "evidence": "已投靠子女，住房经鉴定安全"},
        Action.CASE_SECURED,
    ),
    Move("cancel", "cases.manage", open_case, lambda c: {"reason": "重复登记"}, Action.CASE_CANCELLED),
    Move("close", "cases.manage", _signed, lambda c: {}, Action.CASE_CLOSED),
    Move("signoffs", "cases.sign", _appraised, lambda c: {"kind": "problem"}, Action.SIGNOFF_SIGNED, 201, "village"),
]

#: Where refused requests are tried: (user, place of the object). Every pair must be a 404.
HIDDEN = [("other_county", "home"), ("county", "other_county"), ("no_division", "home"), ("town", "sibling_town")]


def _target(obj: Any) -> Model:
    return obj[0] if isinstance(obj, tuple) else obj


def _case_of(obj: Any) -> Case:
    target = _target(obj)
    return target if isinstance(target, Case) else target.case


class CaseMoveScopeTests(ScopeTestCase):
    """Every move of the ledger through the API, for every role and place."""

    covers = tuple(f"api:cases_{move.name}" for move in MOVES)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.objects: dict[tuple[str, str], Any] = {}
        for place in ("home", "sibling_town", "other_county"):
            village = cls.villages[place]
            cases.train(Craftsman.objects.get_or_create(division_id=village.code[:6] + "000000", name="巡查表工匠")[0])
            for move in MOVES:
                if place != "sibling_town" or has_action(cls.users["town"], move.action):
                    cls.objects[move.name, place] = move.build(village)

    def home(self, move: Move) -> Any:
        return self.objects[move.name, "home"]

    def url(self, move: Move, obj: Any) -> str:
        return reverse(f"api:cases_{move.name}", kwargs={"pk": _target(obj).pk})

    def state(self, obj: Any) -> tuple[Any, ...]:
        case = Case.objects.get(pk=_case_of(obj).pk)
        return Event.objects.count(), case.state, case.version, Case.objects.count()

    def refused(self, move: Move, key: str | None, obj: Any, status: int) -> None:
        before = self.state(obj)
        response = self.api("POST", self.url(move, obj), key, move.payload(obj))
        assert_error_body(response, status, errors=False)
        self.assertEqual(self.state(obj), before, f"a refused {move.name} wrote something")

    def test_fixture_objects_are_where_they_should_be(self) -> None:
        for (name, place), obj in self.objects.items():
            self.assertTrue(_target(obj).division_id.startswith(self.villages[place].code), (name, place))

    def test_anonymous_is_401(self) -> None:
        for move in MOVES:
            with self.subTest(move=move.name):
                self.refused(move, None, self.objects[move.name, "home"], 401)

    def test_roles_without_the_action_are_403(self) -> None:
        for move in MOVES:
            keys = [k for k in PERSONAS if not has_action(self.users[k], move.action)]
            self.assertIn("department", keys)
            for key in keys:
                with self.subTest(move=move.name, user=key):
                    self.refused(move, key, self.objects[move.name, "home"], 403)

    def test_objects_outside_the_subtree_are_404(self) -> None:
        for move in MOVES:
            for key, place in HIDDEN:
                if not has_action(self.users[key], move.action):
                    continue
                with self.subTest(move=move.name, user=key, place=place):
                    self.refused(move, key, self.objects[move.name, place], 404)

    def test_unknown_ids_are_404(self) -> None:
        for move in MOVES:
            with self.subTest(move=move.name):
                url, payload = reverse(f"api:cases_{move.name}", kwargs={"pk": 999999}), move.payload(self.home(move))
                response = self.api("POST", url, "county", payload)
                assert_error_body(response, 404, errors=False)

    def test_each_move_succeeds_in_scope_and_is_audited(self) -> None:
        for move in MOVES:
            with self.subTest(move=move.name):
                obj = self.objects[move.name, "home"]
                since = self.last_event_id()
                response = self.api("POST", self.url(move, obj), move.by, move.payload(obj))
                self.assertEqual(response.status_code, move.status, response.content[:500])
                events = list(Event.objects.filter(pk__gt=since, action=move.event))
                self.assertEqual(len(events), 1, [e.action for e in Event.objects.filter(pk__gt=since)])
                event = events[0]
                self.assertEqual((event.actor_id, event.request_id), (self.users[move.by].pk, response["X-Request-ID"]))
                self.assertEqual((event.object_id, event.division_code), (str(_case_of(obj).pk), obj_code(obj)))


def obj_code(obj: Any) -> str:
    return _target(obj).division_id


# -- craftsmen and subsidy rates ----------------------------------------------------------------------------------


class CraftsmanScopeTests(ScopeTestCase):
    """Craftsmen belong to a county (P22): its county and the city see them; registering and training need
    `cases.manage` in that county."""

    covers = ("api:craftsmen_list", "api:craftsmen_create", "api:craftsmen_trainings")

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.yuyang = Craftsman.objects.create(division_id=factories.YUYANG, name="榆阳工匠")
        cases.train(cls.yuyang, TODAY.year - 1)
        cls.shenmu = Craftsman.objects.create(division_id=factories.SHENMU, name="神木工匠")

    def listed(self, key: str) -> set[int]:
        response = self.api("GET", reverse("api:craftsmen_list"), key)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return {item["id"] for item in response.json()["items"]}

    def test_anonymous_is_401(self) -> None:
        for method, url in [
            ("GET", reverse("api:craftsmen_list")),
            ("POST", reverse("api:craftsmen_create")),
            ("POST", reverse("api:craftsmen_trainings", kwargs={"pk": self.yuyang.pk})),
        ]:
            with self.subTest(url=url):
                assert_error_body(self.api(method, url, None, {"name": "x", "year": TODAY.year}), 401, errors=False)

    def test_list_is_scoped_to_the_county(self) -> None:
        both = {self.yuyang.pk, self.shenmu.pk}
        self.assertEqual(self.listed("admin"), both)
        self.assertEqual(self.listed("supervisor"), both)
        self.assertEqual(self.listed("county"), {self.yuyang.pk})
        self.assertEqual(self.listed("department"), {self.yuyang.pk})
        self.assertEqual(self.listed("other_county"), {self.shenmu.pk})
        self.assertEqual(self.listed("no_division"), set())
        assert_error_body(self.api("GET", reverse("api:craftsmen_list"), "no_role"), 403, errors=False)

    def test_register_in_own_county_only(self) -> None:
        url = reverse("api:craftsmen_create")
        for key, payload, status in [
            ("town", {"name": "王师傅"}, 403),
            ("department", {"name": "王师傅"}, 403),
            ("county", {"name": "王师傅", "division": factories.SHENMU}, 403),
            ("other_county", {"name": "王师傅", "division": factories.YUYANG}, 403),
            ("admin", {"name": "王师傅"}, 400),
        ]:
            with self.subTest(user=key):
                before = (Craftsman.objects.count(), Event.objects.count())
                assert_error_body(self.api("POST", url, key, payload), status, errors=False)
                self.assertEqual((Craftsman.objects.count(), Event.objects.count()), before)
        since = self.last_event_id()
        response = self.api("POST", url, "county", {"name": "王师傅", "certificate": "JZ-01"})
        self.assertEqual(response.status_code, 201, response.content)
        craftsman = Craftsman.objects.get(pk=response.json()["id"])
        self.assertEqual(craftsman.division_id, factories.YUYANG)
        self.assertOneEvent(since, response, Action.CRAFTSMAN_REGISTERED, self.users["county"], craftsman)
        response = self.api(
            "POST", url, "admin", {"name": "神木建筑队", "kind": "builder", "division": factories.SHENMU}
        )
        self.assertEqual((response.status_code, response.json()["division_code"]), (201, factories.SHENMU))

    def test_training_in_own_county_only(self) -> None:
        url = reverse("api:craftsmen_trainings", kwargs={"pk": self.yuyang.pk})
        payload = {"year": TODAY.year, "topic": "农房抗震构造"}
        for key, status in [("town", 403), ("village", 403), ("other_county", 404), ("no_division", 404)]:
            with self.subTest(user=key):
                before = Event.objects.count()
                assert_error_body(self.api("POST", url, key, payload), status, errors=False)
                self.assertEqual(Event.objects.count(), before)
        since = self.last_event_id()
        response = self.api("POST", url, "county", payload)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["trained_years"], [TODAY.year - 1, TODAY.year])
        # One step into the training ledger: the county's session of the day is opened with the craftsman on it.
        event = self.assertOneEvent(since, response, Action.TRAINING_SESSION_CREATED, self.users["county"])
        self.assertEqual(event.division_code, factories.YUYANG)


class SubsidyRateScopeTests(ScopeTestCase):
    """Subsidy rates (P21) are the city's data: every reader sees them, only `cases.configure` sets them."""

    covers = ("api:subsidy_rates_list", "api:subsidy_rates_create")

    def test_list_for_every_reader(self) -> None:
        rate = cases.rate(TODAY.year)
        url = reverse("api:subsidy_rates_list")
        assert_error_body(self.api("GET", url, None), 401, errors=False)
        for key in PERSONAS:
            with self.subTest(user=key):
                response = self.api("GET", url, key)
                if has_action(self.users[key], "cases.view"):
                    self.assertEqual(response.status_code, 200)
                    self.assertEqual([i["id"] for i in response.json()["items"]], [rate.pk])
                else:
                    assert_error_body(response, 403, errors=False)

    def test_only_the_configure_action_sets_a_rate(self) -> None:
        url = reverse("api:subsidy_rates_create")
        payload = {"year": TODAY.year, "method": "rebuild", "grade": "D", "amount": "35000"}
        for key in PERSONAS:
            if has_action(self.users[key], "cases.configure"):
                continue
            with self.subTest(user=key):
                assert_error_body(self.api("POST", url, key, payload), 403, errors=False)
        self.assertFalse(SubsidyRate.objects.exists())
        assert_error_body(self.api("POST", url, None, payload), 401, errors=False)
        since = self.last_event_id()
        response = self.api("POST", url, "admin", payload)
        self.assertEqual(response.status_code, 201, response.content)
        rate = SubsidyRate.objects.get()
        self.assertEqual((rate.amount, response.json()["method"]["label"]), (35000, "拆除重建"))
        event = Event.objects.get(pk__gt=since)
        self.assertEqual((event.action, event.actor_id), (Action.SUBSIDY_RATE_SET, self.users["admin"].pk))
        response = self.api("POST", url, "admin", payload | {"amount": "36000"})
        self.assertEqual((response.status_code, response.json()["amount"]), (200, "36000.00"))
