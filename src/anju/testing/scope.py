"""The scope/permission helper: every page and API endpoint checked for every role and level.

After NetBox `utilities/testing/views.py` (`ViewTestCases`) and `utilities/testing/api.py` (`APIViewTestCases`):
one mixin per action, composed by a concrete test that only declares its model and data (STYLE.md "Tests").

A concrete test declares:

- `model`, and the builder `build_in_scope(cls, village)` (optionally `build_out_of_scope`): a new row that belongs
  to `village` (or, for the division tree, sits next to it);
- URL names by convention — pages `<app>:<model>_<action>` (`page_app`, `page_model` override the parts), API
  `api:<api_basename>_<action>`; `url_kwargs(obj)` when the detail URL is not `pk`;
- `create_data(near)` / `update_data(obj)` (pages) or `create_payload(near)` / `update_payload(obj)` (API), plus
  `create_action` / `update_action`, the audit action one successful write must leave.

A new capability adds, in its app's `tests/test_api.py` (pages alike with `ViewTestCases`):

    class CaseAPITests(APIViewTestCases.PrimaryObjectAPITestCase):  # or pick ListView, DetailView, ...
        model = Case
        api_basename = "cases"
        create_action = Action.CASE_OPENED
        update_action = Action.CASE_CHANGED

        @classmethod
        def build_in_scope(cls, village):
            return factories.case(factories.household(village))

        def create_payload(self, near):
            return {"household_id": near.household_id, "source": "problem_list"}

        def update_payload(self, obj):
            return {"note": obj.note + "。"}

and one `query_counts.json` entry per list (`assertQueryCountsStable`, first run with UPDATE_QUERY_COUNTS=1).

The world every concrete test shares (built once per class in `setUpTestData`):

    users    admin (city)  supervisor (city)  county (榆阳)  other_county (神木)  town (榆阳 鼓楼街道)
             village (one 鼓楼 village)  department (榆阳, read only)  appraiser (榆阳)
             no_role (榆阳, no roles)  no_division (county manager without a division)
    objects  in_scope[0..1]  in the village user's village           seen by every 榆阳 user
             in_town         another village of the town user's town  not by the village user
             in_sibling_town a village of another 榆阳 town            not by the town user
             out_of_scope    a village of 神木                         only by the city and other_county

What a user should see is worked out here from the codes (`startswith` in Python, independent of the range query
in `ScopedQuerySet`), and the key cases are also asserted literally. Concrete classes register the URL names they
cover in `COVERAGE`; `tests/test_openapi_sweep.py` fails for any endpoint or page that none covers.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from django.db import connection, models
from django.db.models import Max
from django.http import HttpResponse
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anju.accounts.models import User
from anju.accounts.permissions import has_action
from anju.accounts.services import token_issue
from anju.audit.models import Event
from anju.divisions.models import Division
from anju.divisions.services import division_load_base
from anju.testing import factories
from anju.testing.api import api_call, assert_error_body

CITY = "610800000000"

#: url name -> the test classes that check it; read by the sweeps in tests/test_openapi_sweep.py.
COVERAGE: dict[str, set[str]] = {}

# Digits of the code that name a division at each level, written out again on purpose (not imported from scope.py).
LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}

# Where fixture objects are placed: (town, village number) for `factories.village`.
PLACES = {
    "home": (factories.YUYANG_TOWN, 1),
    "home_town": (factories.YUYANG_TOWN, 2),
    "sibling_town": (factories.YUYANG_TOWN_2, 1),
    "other_county": (factories.SHENMU_TOWN, 1),
}
HOME_VILLAGE = factories.YUYANG_TOWN[:9] + "201"

# key -> (roles, division code)
PERSONAS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "admin": (("admin",), CITY),
    "supervisor": (("city_supervisor",), CITY),
    "county": (("county_manager",), factories.YUYANG),
    "other_county": (("county_manager",), factories.SHENMU),
    "town": (("town_staff",), factories.YUYANG_TOWN),
    "village": (("village_staff",), HOME_VILLAGE),
    "department": (("department",), factories.YUYANG),
    "appraiser": (("appraiser",), factories.YUYANG),
    "no_role": ((), factories.YUYANG),
    "no_division": (("county_manager",), None),
}


def ensure_base_divisions() -> None:
    """The Yulin tree, for `setUpTestData` (which runs before the autouse fixture in conftest.py)."""
    if not Division.objects.filter(code=CITY).exists():
        division_load_base()


def prefix_of(user: User) -> str | None:
    if not user.division_id:
        return None
    return user.division_id[: LEVEL_DIGITS[user.division.level]]


def form_errors(response: HttpResponse) -> Any:
    """The form errors of a page that was shown again (for failure messages)."""
    context = getattr(response, "context", None)
    form = context.get("form") if context is not None else None
    return form.errors if form is not None else response


class ScopeTestCase(TestCase):
    """The shared world, the assertions, and one check that the fixture is not empty or misplaced."""

    __test__ = False

    model: ClassVar[type[models.Model] | None] = None
    #: the app whose actions (`<app>.view`, `.add`, `.change`) govern the model; default: the model's app label
    action_app: ClassVar[str | None] = None
    page_app: ClassVar[str | None] = None
    page_model: ClassVar[str | None] = None
    api_basename: ClassVar[str | None] = None
    #: the key of an object in API JSON (`code` for divisions)
    api_id_field: ClassVar[str] = "id"
    #: extra URL names checked by hand-written tests in the concrete class
    covers: ClassVar[tuple[str, ...]] = ()
    #: which page / API actions the mixins in the MRO check (each mixin declares its own)
    page_actions: ClassVar[tuple[str, ...]] = ()
    api_actions: ClassVar[tuple[str, ...]] = ()

    users: dict[str, User]
    tokens: dict[str, str]
    villages: dict[str, Division]
    in_scope: list[models.Model]
    in_town: models.Model
    in_sibling_town: models.Model
    out_of_scope: models.Model

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True  # concrete: collected, and registered for the sweep
        if cls.__test__:
            for name in cls.covered_url_names():
                COVERAGE.setdefault(name, set()).add(f"{cls.__module__}.{cls.__qualname__}")

    @classmethod
    def covered_url_names(cls) -> list[str]:
        names = list(cls.covers)
        for klass in cls.__mro__:
            names += [cls.page_url_name(a) for a in klass.__dict__.get("page_actions", ())]
            names += [cls.api_url_name(a) for a in klass.__dict__.get("api_actions", ())]
        return names

    # -- building the world --------------------------------------------------------------------------------------

    @classmethod
    def build_in_scope(cls, village: Division) -> models.Model:
        raise NotImplementedError(f"{cls.__name__} must define build_in_scope(cls, village)")

    @classmethod
    def build_out_of_scope(cls, village: Division) -> models.Model:
        return cls.build_in_scope(village)

    @classmethod
    def setUpTestData(cls) -> None:
        ensure_base_divisions()
        cls.villages = {key: factories.village(town, n) for key, (town, n) in PLACES.items()}
        cls.users, cls.tokens = {}, {}
        for key, (roles, division) in PERSONAS.items():
            user = User(username=f"scope_{key}", full_name=f"范围测试{key}", division_id=division, roles=list(roles))
            user.set_password(factories.PASSWORD)
            user.save()
            cls.users[key] = user
            cls.tokens[key] = token_issue(user=user)
        if cls.model is not None:
            cls.in_scope = [cls.build_in_scope(cls.villages["home"]), cls.build_in_scope(cls.villages["home"])]
            cls.in_town = cls.build_in_scope(cls.villages["home_town"])
            cls.in_sibling_town = cls.build_out_of_scope(cls.villages["sibling_town"])
            cls.out_of_scope = cls.build_out_of_scope(cls.villages["other_county"])

    # -- names and URLs ------------------------------------------------------------------------------------------

    @classmethod
    def app_label(cls) -> str:
        return cls.action_app or cls.model._meta.app_label

    @classmethod
    def page_url_name(cls, action: str) -> str:
        app = cls.page_app or cls.model._meta.app_label
        return f"{app}:{cls.page_model or cls.model._meta.model_name}_{action}"

    @classmethod
    def api_url_name(cls, action: str) -> str:
        return f"api:{cls.api_basename or cls.model._meta.model_name + 's'}_{action}"

    def url_kwargs(self, obj: models.Model) -> dict[str, Any]:
        return {"pk": obj.pk}

    def page_url(self, action: str, obj: models.Model | None = None) -> str:
        return reverse(self.page_url_name(action), kwargs=self.url_kwargs(obj) if obj is not None else None)

    def api_url(self, action: str, obj: models.Model | None = None) -> str:
        return reverse(self.api_url_name(action), kwargs=self.url_kwargs(obj) if obj is not None else None)

    # -- who sees what -------------------------------------------------------------------------------------------

    @classmethod
    def scope_code(cls, obj: models.Model) -> str:
        return getattr(obj, type(obj).scope_field)

    def may(self, key: str, verb: str) -> bool:
        return has_action(self.users[key], f"{self.app_label()}.{verb}")

    def code_visible(self, key: str, code: str) -> bool:
        """Expected visibility: the role allows viewing and the code starts with the user's prefix."""
        prefix = prefix_of(self.users[key])
        return prefix is not None and self.may(key, "view") and code.startswith(prefix)

    def can_see(self, key: str, obj: models.Model) -> bool:
        return self.code_visible(key, self.scope_code(obj))

    def expected_count(self, key: str) -> int:
        """Rows of the model the user should find in a list (every row's code is checked in Python)."""
        codes = self.model.objects.values_list(self.model.scope_field, flat=True)
        return sum(1 for code in codes if self.code_visible(key, code))

    def fixture_objects(self) -> list[models.Model]:
        return [*self.in_scope, self.in_town, self.in_sibling_town, self.out_of_scope]

    def user_keys(self) -> Iterator[str]:
        yield from PERSONAS

    # -- requests ------------------------------------------------------------------------------------------------

    def as_user(self, key: str | None) -> None:
        self.client.logout()
        if key is not None:
            self.client.force_login(self.users[key])

    def api(self, method: str, url: str, key: str | None, payload: Any = None, **params: Any) -> HttpResponse:
        return api_call(method, url, token=self.tokens[key] if key else None, payload=payload, **params)

    # -- assertions ----------------------------------------------------------------------------------------------

    def snapshot(self) -> tuple[int, int]:
        return self.model.objects.count(), Event.objects.count()

    def row(self, obj: models.Model) -> dict[str, Any]:
        return self.model.objects.filter(pk=obj.pk).values().get()

    def last_event_id(self) -> int:
        return Event.objects.aggregate(m=Max("id"))["m"] or 0

    def assertNothingWritten(self, before: tuple[int, int], response: HttpResponse) -> None:
        self.assertEqual(self.snapshot(), before, f"rows or audit events written by a refused request: {response}")

    def assertOneEvent(
        self, since: int, response: HttpResponse, action: str, actor: User, obj: models.Model | None = None
    ) -> Event:
        """Exactly one new audit event, of `action`, by `actor`, in the request that `response` answered."""
        events = list(Event.objects.filter(pk__gt=since).order_by("id"))
        self.assertEqual(len(events), 1, f"expected one audit event, got {[e.action for e in events]}")
        event = events[0]
        self.assertEqual(event.action, action)
        self.assertEqual(event.actor_id, actor.pk)
        self.assertTrue(response.has_header("X-Request-ID"), "response carries no X-Request-ID")
        self.assertEqual(event.request_id, response["X-Request-ID"])
        if obj is not None:
            self.assertEqual(event.object_id, str(obj.pk))
            self.assertEqual(event.division_code, self.scope_code(obj), "the event is not scoped like its object")
        return event

    def assertLoginRedirect(self, response: HttpResponse) -> None:
        self.assertEqual(response.status_code, 302, response)
        self.assertTrue(response["Location"].startswith(reverse("login")), response["Location"])

    def assertRefusedForm(self, response: HttpResponse) -> None:
        """A page refused the input: 4xx, or the form shown again with an error (never a redirect to success)."""
        self.assertNotEqual(response.status_code, 302, "the refused request was accepted")
        if response.status_code == 200:
            self.assertTrue(response.context["form"].errors, "form shown again without an error")
        else:
            self.assertIn(response.status_code, (400, 403, 404))

    def assertQueryCountsStable(
        self, key: str, *, grow: Callable[[int], None], fetch: Callable[[], HttpResponse], sizes: tuple[int, int]
    ) -> None:
        """Same number of queries for `sizes[0]` and `sizes[1]` rows, and equal to the baseline in query_counts.json.

        `grow(n)` makes n rows exist; `fetch()` makes the request. Baselines are rewritten only with
        UPDATE_QUERY_COUNTS=1 (NetBox `dcim/tests/query_counts.json`).
        """
        counts, logs = [], []
        for n in sizes:
            grow(n)
            self.assertEqual(fetch().status_code, 200)  # warm-up: token last-use stamp and other one-off writes
            with CaptureQueriesContext(connection) as ctx:
                response = fetch()
            self.assertEqual(response.status_code, 200, response.content[:300])
            counts.append(len(ctx))
            logs.append("\n".join(q["sql"][:160] for q in ctx.captured_queries))
        self.assertEqual(
            counts[0],
            counts[1],
            f"{key}: {counts[0]} queries for {sizes[0]} rows, {counts[1]} for {sizes[1]}\n{logs[1]}",
        )
        path = Path(sys.modules[type(self).__module__].__file__).with_name("query_counts.json")
        baseline = json.loads(path.read_text()) if path.exists() else {}
        if os.environ.get("UPDATE_QUERY_COUNTS") == "1":
            baseline[key] = counts[0]
            path.write_text(json.dumps(dict(sorted(baseline.items())), indent=2, ensure_ascii=False) + "\n")
            return
        self.assertIn(key, baseline, f"no baseline for {key} in {path}; run with UPDATE_QUERY_COUNTS=1")
        self.assertEqual(
            counts[0],
            baseline[key],
            f"{key}: {counts[0]} queries, baseline {baseline[key]}. If intended, run with UPDATE_QUERY_COUNTS=1 "
            f"and explain the change in the commit.\n{logs[0]}",
        )

    # -- the fixture itself --------------------------------------------------------------------------------------

    def test_fixture_holds_visible_and_hidden_objects(self) -> None:
        """Like NetBox: an empty or misplaced fixture must not let the scope tests pass vacuously."""
        if self.model is None:
            self.skipTest("no model")
        placed = [
            (self.in_scope[0], "home"),
            (self.in_scope[1], "home"),
            (self.in_town, "home_town"),
            (self.in_sibling_town, "sibling_town"),
            (self.out_of_scope, "other_county"),
        ]
        for obj, place in placed:
            self.assertTrue(self.scope_code(obj).startswith(self.villages[place].code[:9]), (obj, place))
        self.assertEqual(len({o.pk for o in self.fixture_objects()}), 5, "fixture objects must be distinct")
        self.assertGreaterEqual(sum(self.can_see("county", o) for o in self.fixture_objects()), 2)
        self.assertFalse(self.can_see("county", self.out_of_scope))
        self.assertTrue(self.can_see("other_county", self.out_of_scope))
        self.assertFalse(self.can_see("other_county", self.in_scope[0]))
        self.assertTrue(self.can_see("town", self.in_town))
        self.assertFalse(self.can_see("town", self.in_sibling_town))


class ViewTestCases:
    """Page mixins: anonymous → login redirect, no action → 403, out of scope → 404."""

    class ListView(ScopeTestCase):
        __test__ = False
        page_actions = ("list",)
        list_context: ClassVar[str] = "page"

        def list_result(self, response: HttpResponse) -> tuple[set[Any], int]:
            page = response.context[self.list_context]
            return {obj.pk for obj in page.object_list}, page.paginator.count

        def list_all(self, **params: Any) -> tuple[set[Any], int]:
            """Every id the list shows, page by page, and its count."""
            ids: set[Any] = set()
            for number in range(1, 100):
                response = self.client.get(self.page_url("list"), {**params, "page": number})
                self.assertEqual(response.status_code, 200)
                page = response.context[self.list_context]
                ids |= {obj.pk for obj in page.object_list}
                if not page.has_next():
                    break
            self.assertEqual(len(ids), page.paginator.count, "pages do not add up to the count")
            return ids, page.paginator.count

        def test_list_anonymous_redirects_to_login(self) -> None:
            self.as_user(None)
            self.assertLoginRedirect(self.client.get(self.page_url("list")))

        def test_list_shows_exactly_what_each_user_may_see(self) -> None:
            fixture = {o.pk: o for o in self.fixture_objects()}
            for key in self.user_keys():
                with self.subTest(user=key):
                    self.as_user(key)
                    response = self.client.get(self.page_url("list"))
                    if not self.may(key, "view"):
                        self.assertEqual(response.status_code, 403)
                        continue
                    self.assertEqual(response.status_code, 200)
                    listed, count = self.list_all()
                    expected = {pk for pk, o in fixture.items() if self.can_see(key, o)}
                    self.assertEqual(listed & set(fixture), expected)
                    self.assertEqual(count, self.expected_count(key))

        def test_list_hides_other_county_and_sibling_town(self) -> None:
            cases = [
                ("county", self.in_scope[0], self.out_of_scope),
                ("other_county", self.out_of_scope, self.in_scope[0]),
                ("town", self.in_town, self.in_sibling_town),
            ]
            for key, shown, hidden in cases:
                with self.subTest(user=key):
                    self.as_user(key)
                    listed, _ = self.list_all()
                    self.assertIn(shown.pk, listed)
                    self.assertNotIn(hidden.pk, listed)

    class DetailView(ScopeTestCase):
        __test__ = False
        page_actions = ("detail",)

        def test_detail_anonymous_redirects_to_login(self) -> None:
            self.as_user(None)
            self.assertLoginRedirect(self.client.get(self.page_url("detail", self.in_scope[0])))

        def test_detail_status_for_every_user_and_object(self) -> None:
            for key in self.user_keys():
                self.as_user(key)
                for obj in self.fixture_objects():
                    with self.subTest(user=key, obj=self.scope_code(obj)):
                        response = self.client.get(self.page_url("detail", obj))
                        expected = 200 if self.can_see(key, obj) else 404
                        self.assertEqual(response.status_code, expected if self.may(key, "view") else 403)

        def test_detail_other_county_and_sibling_town_are_404(self) -> None:
            for key, obj in [
                ("county", self.out_of_scope),
                ("other_county", self.in_scope[0]),
                ("town", self.in_sibling_town),
            ]:
                with self.subTest(user=key):
                    self.as_user(key)
                    self.assertEqual(self.client.get(self.page_url("detail", obj)).status_code, 404)
            self.as_user("county")
            self.assertEqual(self.client.get(self.page_url("detail", self.in_scope[0])).status_code, 200)

    class AddView(ScopeTestCase):
        __test__ = False
        page_actions = ("add",)
        create_action: ClassVar[str]
        #: the add URL names a parent object (e.g. a household's "add house"), so it answers 404 outside the subtree
        add_url_has_parent: ClassVar[bool] = False

        def create_data(self, near: models.Model) -> dict[str, Any]:
            """Form data for a new object in the same village as `near`."""
            raise NotImplementedError

        def add_url(self, near: models.Model) -> str:
            return self.page_url("add")

        def test_add_anonymous_redirects_and_writes_nothing(self) -> None:
            self.as_user(None)
            url = self.add_url(self.in_scope[0])
            self.assertLoginRedirect(self.client.get(url))
            before = self.snapshot()
            response = self.client.post(url, self.create_data(self.in_scope[0]))
            self.assertLoginRedirect(response)
            self.assertNothingWritten(before, response)

        def test_add_form_status_for_every_user(self) -> None:
            near = self.in_scope[0]
            for key in self.user_keys():
                with self.subTest(user=key):
                    self.as_user(key)
                    response = self.client.get(self.add_url(near))
                    if not self.may(key, "add"):
                        expected = 403
                    elif self.add_url_has_parent and not self.can_see(key, near):
                        expected = 404
                    else:
                        expected = 200
                    self.assertEqual(response.status_code, expected)

        def test_add_refused_without_the_action(self) -> None:
            keys = [k for k in self.user_keys() if not self.may(k, "add")]
            self.assertTrue(keys, "no role lacks the add action: nothing to check")
            for key in keys:
                with self.subTest(user=key):
                    self.as_user(key)
                    before = self.snapshot()
                    response = self.client.post(self.add_url(self.in_scope[0]), self.create_data(self.in_scope[0]))
                    self.assertEqual(response.status_code, 403)
                    self.assertNothingWritten(before, response)

        def test_add_writes_one_row_and_one_audit_event(self) -> None:
            near = self.in_scope[0]
            keys = [k for k in self.user_keys() if self.may(k, "add") and self.can_see(k, near)]
            self.assertGreaterEqual(len(keys), 2)
            for key in keys:
                with self.subTest(user=key):
                    self.as_user(key)
                    pks, since = set(self.model.objects.values_list("pk", flat=True)), self.last_event_id()
                    response = self.client.post(self.add_url(near), self.create_data(near))
                    self.assertEqual(response.status_code, 302, form_errors(response))
                    new = self.model.objects.exclude(pk__in=pks)
                    self.assertEqual(new.count(), 1)
                    obj = new.get()
                    self.assertEqual(self.scope_code(obj), self.scope_code(near))
                    self.assertOneEvent(since, response, self.create_action, self.users[key], obj)

        def test_add_outside_the_subtree_is_refused(self) -> None:
            for key, near in [
                ("county", self.out_of_scope),
                ("other_county", self.in_scope[0]),
                ("town", self.in_sibling_town),
                ("village", self.in_town),
            ]:
                with self.subTest(user=key):
                    self.as_user(key)
                    before = self.snapshot()
                    response = self.client.post(self.add_url(near), self.create_data(near))
                    if self.add_url_has_parent:
                        self.assertEqual(response.status_code, 404)
                    self.assertRefusedForm(response)
                    self.assertNothingWritten(before, response)

    class EditView(ScopeTestCase):
        __test__ = False
        page_actions = ("edit",)
        update_action: ClassVar[str]

        def update_data(self, obj: models.Model) -> dict[str, Any]:
            """Complete form data that changes `obj` (it is read fresh from the database first)."""
            raise NotImplementedError

        def move_data(self, obj: models.Model, village: Division) -> dict[str, Any] | None:
            """Form data moving `obj` to `village`, if the model can move at all."""
            return None

        def fresh(self, obj: models.Model) -> models.Model:
            return type(obj).objects.get(pk=obj.pk)

        def test_edit_anonymous_redirects_and_writes_nothing(self) -> None:
            self.as_user(None)
            obj = self.in_scope[0]
            self.assertLoginRedirect(self.client.get(self.page_url("edit", obj)))
            before, row = self.snapshot(), self.row(obj)
            response = self.client.post(self.page_url("edit", obj), self.update_data(self.fresh(obj)))
            self.assertLoginRedirect(response)
            self.assertNothingWritten(before, response)
            self.assertEqual(self.row(obj), row)

        def test_edit_form_status_for_every_user_and_object(self) -> None:
            for key in self.user_keys():
                self.as_user(key)
                for obj in self.fixture_objects():
                    with self.subTest(user=key, obj=self.scope_code(obj)):
                        response = self.client.get(self.page_url("edit", obj))
                        if not self.may(key, "change"):
                            self.assertEqual(response.status_code, 403)
                        else:
                            self.assertEqual(response.status_code, 200 if self.can_see(key, obj) else 404)

        def test_edit_refused_without_the_action(self) -> None:
            keys = [k for k in self.user_keys() if not self.may(k, "change")]
            self.assertTrue(keys, "no role lacks the change action: nothing to check")
            obj = self.in_scope[0]
            for key in keys:
                with self.subTest(user=key):
                    self.as_user(key)
                    before, row = self.snapshot(), self.row(obj)
                    response = self.client.post(self.page_url("edit", obj), self.update_data(self.fresh(obj)))
                    self.assertEqual(response.status_code, 403)
                    self.assertNothingWritten(before, response)
                    self.assertEqual(self.row(obj), row)

        def test_edit_other_county_and_sibling_town_are_404(self) -> None:
            for key, obj in [
                ("county", self.out_of_scope),
                ("other_county", self.in_scope[0]),
                ("town", self.in_sibling_town),
            ]:
                with self.subTest(user=key):
                    self.as_user(key)
                    before, row = self.snapshot(), self.row(obj)
                    response = self.client.post(self.page_url("edit", obj), self.update_data(self.fresh(obj)))
                    self.assertEqual(response.status_code, 404)
                    self.assertNothingWritten(before, response)
                    self.assertEqual(self.row(obj), row)

        def test_edit_writes_one_audit_event(self) -> None:
            obj = self.in_scope[0]
            keys = [k for k in self.user_keys() if self.may(k, "change") and self.can_see(k, obj)]
            self.assertGreaterEqual(len(keys), 2)
            for key in keys:
                with self.subTest(user=key):
                    self.as_user(key)
                    row, since = self.row(obj), self.last_event_id()
                    response = self.client.post(self.page_url("edit", obj), self.update_data(self.fresh(obj)))
                    self.assertEqual(response.status_code, 302, form_errors(response))
                    self.assertNotEqual(self.row(obj), row)
                    self.assertOneEvent(since, response, self.update_action, self.users[key], obj)

        def test_edit_cannot_move_out_of_the_subtree(self) -> None:
            cases = [("county", "other_county"), ("town", "sibling_town"), ("village", "home_town")]
            if self.move_data(self.fresh(self.in_scope[0]), self.villages["other_county"]) is None:
                self.skipTest("this model does not move between villages")
            obj = self.in_scope[0]
            for key, place in cases:
                with self.subTest(user=key):
                    self.as_user(key)
                    before, row = self.snapshot(), self.row(obj)
                    response = self.client.post(
                        self.page_url("edit", obj), self.move_data(self.fresh(obj), self.villages[place])
                    )
                    self.assertRefusedForm(response)
                    self.assertNothingWritten(before, response)
                    self.assertEqual(self.row(obj), row)

    class PrimaryObjectViewTestCase(ListView, DetailView, AddView, EditView):
        __test__ = False


class APIViewTestCases:
    """API mixins: anonymous → 401, no action → 403, out of scope → 404; every error in the one shape."""

    class ListView(ScopeTestCase):
        __test__ = False
        api_actions = ("list",)

        def api_list(self, key: str | None, **params: Any) -> HttpResponse:
            return self.api("GET", self.api_url("list"), key, **params)

        def api_list_all(self, key: str, **params: Any) -> tuple[set[Any], int]:
            """Every id the list returns, page by page, and its `count`."""
            ids: list[Any] = []
            for page in range(1, 100):
                body = self.api_list(key, page=page, page_size=100, **params).json()
                ids += [item[self.api_id_field] for item in body["items"]]
                if not body["items"] or len(ids) >= body["count"]:
                    break
            self.assertEqual(len(ids), body["count"], "pages do not add up to count")
            self.assertEqual(len(set(ids)), len(ids), "an item appears on two pages")
            return set(ids), body["count"]

        def test_api_list_anonymous_is_401(self) -> None:
            assert_error_body(self.api("GET", self.api_url("list"), None), 401, errors=False)

        def test_api_list_shows_exactly_what_each_user_may_see(self) -> None:
            fixture = {o.pk: o for o in self.fixture_objects()}
            for key in self.user_keys():
                with self.subTest(user=key):
                    response = self.api_list(key)
                    if not self.may(key, "view"):
                        assert_error_body(response, 403, errors=False)
                        continue
                    self.assertEqual(response.status_code, 200, response.content[:300])
                    listed, count = self.api_list_all(key)
                    expected = {pk for pk, o in fixture.items() if self.can_see(key, o)}
                    self.assertEqual(listed & set(fixture), expected)
                    self.assertEqual(count, self.expected_count(key))

        def test_api_list_hides_other_county_and_sibling_town(self) -> None:
            for key, shown, hidden in [
                ("county", self.in_scope[0], self.out_of_scope),
                ("other_county", self.out_of_scope, self.in_scope[0]),
                ("town", self.in_town, self.in_sibling_town),
            ]:
                with self.subTest(user=key):
                    listed, _ = self.api_list_all(key)
                    self.assertIn(shown.pk, listed)
                    self.assertNotIn(hidden.pk, listed)

    class DetailView(ScopeTestCase):
        __test__ = False
        api_actions = ("detail",)

        def test_api_detail_anonymous_is_401(self) -> None:
            assert_error_body(self.api("GET", self.api_url("detail", self.in_scope[0]), None), 401, errors=False)

        def test_api_detail_status_for_every_user_and_object(self) -> None:
            for key in self.user_keys():
                for obj in self.fixture_objects():
                    with self.subTest(user=key, obj=self.scope_code(obj)):
                        response = self.api("GET", self.api_url("detail", obj), key)
                        if not self.may(key, "view"):
                            assert_error_body(response, 403, errors=False)
                        elif self.can_see(key, obj):
                            self.assertEqual(response.status_code, 200, response.content[:300])
                        else:
                            assert_error_body(response, 404, errors=False)

        def test_api_detail_other_county_and_sibling_town_are_404(self) -> None:
            for key, obj in [
                ("county", self.out_of_scope),
                ("other_county", self.in_scope[0]),
                ("town", self.in_sibling_town),
            ]:
                with self.subTest(user=key):
                    assert_error_body(self.api("GET", self.api_url("detail", obj), key), 404, errors=False)
            self.assertEqual(self.api("GET", self.api_url("detail", self.in_scope[0]), "county").status_code, 200)

    class CreateView(ScopeTestCase):
        __test__ = False
        api_actions = ("create",)
        create_action: ClassVar[str]

        def create_payload(self, near: models.Model) -> dict[str, Any]:
            """JSON for a new object in the same village as `near`."""
            raise NotImplementedError

        def test_api_create_anonymous_is_401_and_writes_nothing(self) -> None:
            before = self.snapshot()
            response = self.api("POST", self.api_url("create"), None, self.create_payload(self.in_scope[0]))
            assert_error_body(response, 401, errors=False)
            self.assertNothingWritten(before, response)

        def test_api_create_refused_without_the_action(self) -> None:
            keys = [k for k in self.user_keys() if not self.may(k, "add")]
            self.assertTrue(keys, "no role lacks the add action: nothing to check")
            for key in keys:
                with self.subTest(user=key):
                    before = self.snapshot()
                    response = self.api("POST", self.api_url("create"), key, self.create_payload(self.in_scope[0]))
                    assert_error_body(response, 403, errors=False)
                    self.assertNothingWritten(before, response)

        def test_api_create_writes_one_row_and_one_audit_event(self) -> None:
            near = self.in_scope[0]
            keys = [k for k in self.user_keys() if self.may(k, "add") and self.can_see(k, near)]
            self.assertGreaterEqual(len(keys), 2)
            for key in keys:
                with self.subTest(user=key):
                    pks, since = set(self.model.objects.values_list("pk", flat=True)), self.last_event_id()
                    response = self.api("POST", self.api_url("create"), key, self.create_payload(near))
                    self.assertEqual(response.status_code, 201, response.content[:500])
                    obj = self.model.objects.exclude(pk__in=pks).get()
                    self.assertEqual(response.json()[self.api_id_field], obj.pk)
                    self.assertEqual(self.scope_code(obj), self.scope_code(near))
                    self.assertOneEvent(since, response, self.create_action, self.users[key], obj)

        def test_api_create_outside_the_subtree_is_refused(self) -> None:
            for key, near in [
                ("county", self.out_of_scope),
                ("other_county", self.in_scope[0]),
                ("town", self.in_sibling_town),
                ("village", self.in_town),
                ("no_division", self.in_scope[0]),
            ]:
                with self.subTest(user=key):
                    before = self.snapshot()
                    response = self.api("POST", self.api_url("create"), key, self.create_payload(near))
                    self.assertIn(response.status_code, (403, 404), response.content[:300])
                    assert_error_body(response, response.status_code, errors=False)
                    self.assertNothingWritten(before, response)

    class UpdateView(ScopeTestCase):
        __test__ = False
        api_actions = ("update",)
        update_action: ClassVar[str]

        def update_payload(self, obj: models.Model) -> dict[str, Any]:
            """A PATCH body that changes `obj` (read fresh from the database first)."""
            raise NotImplementedError

        def move_payload(self, obj: models.Model, village: Division) -> dict[str, Any] | None:
            return None

        def fresh(self, obj: models.Model) -> models.Model:
            return type(obj).objects.get(pk=obj.pk)

        def patch(self, key: str | None, obj: models.Model, payload: dict[str, Any]) -> HttpResponse:
            return self.api("PATCH", self.api_url("update", obj), key, payload)

        def test_api_update_anonymous_is_401_and_writes_nothing(self) -> None:
            obj = self.in_scope[0]
            before, row = self.snapshot(), self.row(obj)
            response = self.patch(None, obj, self.update_payload(self.fresh(obj)))
            assert_error_body(response, 401, errors=False)
            self.assertNothingWritten(before, response)
            self.assertEqual(self.row(obj), row)

        def test_api_update_status_for_every_user_and_object(self) -> None:
            """Refusals only (403/404); the successful writes are checked one by one below."""
            for key in self.user_keys():
                for obj in self.fixture_objects():
                    allowed, visible = self.may(key, "change"), self.can_see(key, obj)
                    if allowed and visible:
                        continue
                    with self.subTest(user=key, obj=self.scope_code(obj)):
                        before, row = self.snapshot(), self.row(obj)
                        response = self.patch(key, obj, self.update_payload(self.fresh(obj)))
                        assert_error_body(response, 403 if not allowed else 404, errors=False)
                        self.assertNothingWritten(before, response)
                        self.assertEqual(self.row(obj), row)

        def test_api_update_writes_one_audit_event(self) -> None:
            obj = self.in_scope[0]
            keys = [k for k in self.user_keys() if self.may(k, "change") and self.can_see(k, obj)]
            self.assertGreaterEqual(len(keys), 2)
            for key in keys:
                with self.subTest(user=key):
                    row, since = self.row(obj), self.last_event_id()
                    response = self.patch(key, obj, self.update_payload(self.fresh(obj)))
                    self.assertEqual(response.status_code, 200, response.content[:500])
                    self.assertNotEqual(self.row(obj), row)
                    self.assertOneEvent(since, response, self.update_action, self.users[key], obj)

        def test_api_update_cannot_move_out_of_the_subtree(self) -> None:
            obj = self.in_scope[0]
            if self.move_payload(self.fresh(obj), self.villages["other_county"]) is None:
                self.skipTest("this model does not move between villages")
            for key, place in [("county", "other_county"), ("town", "sibling_town"), ("village", "home_town")]:
                with self.subTest(user=key):
                    before, row = self.snapshot(), self.row(obj)
                    response = self.patch(key, obj, self.move_payload(self.fresh(obj), self.villages[place]))
                    self.assertIn(response.status_code, (400, 403), response.content[:300])
                    assert_error_body(response, response.status_code, errors=False)
                    self.assertNothingWritten(before, response)
                    self.assertEqual(self.row(obj), row)

    class PrimaryObjectAPITestCase(ListView, DetailView, CreateView, UpdateView):
        __test__ = False
