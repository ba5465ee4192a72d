"""Appraisal pages and endpoints under the scope/permission helper (P8, P17), plus their query budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.inspections.models import Appraisal, ComponentSpec
from anju.inspections.services import appraisals as services
from anju.registry.models import GradeSource
from anju.testing import appraisals as build
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import APIViewTestCases, ScopeTestCase, ViewTestCases
from anju.training.models import Attendance

TODAY = dt.date.today()


class AppraisalWorld(ScopeTestCase):
    """Appraisals in every fixture village; the admin and the 榆阳 appraiser are trained this year (P17)."""

    __test__ = False
    model = Appraisal
    page_model = "appraisal"
    api_basename = "appraisals"
    create_action = Action.APPRAISAL_RECORDED
    VERBS = {"add": "appraise", "change": "review"}

    @classmethod
    def build_in_scope(cls, village):
        house = factories.house(factories.household(village), structure="brick_wood")
        return build.appraisal(house, components={"bearing_wall": "b"})

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        factories.trained(cls.users["admin"])
        factories.trained(cls.users["appraiser"])

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))

    def assertOneEvent(self, since, response, action, actor, obj=None) -> Event:
        """An appraisal also writes the house's grade (HOUSE_GRADED); a C/D grade of a house without a ledger case
        opens one (CASE_OPENED, P19), and a house whose case awaits its appraisal settles it (CASE_APPRAISED): all
        in the same request by the same actor."""
        events = list(Event.objects.filter(pk__gt=since).order_by("id"))
        actions = [e.action for e in events]
        self.assertEqual(actions[:2], [Action.HOUSE_GRADED, action])
        self.assertIn(actions[2:], [[], [Action.CASE_OPENED], [Action.CASE_APPRAISED]])
        events = events[:2]
        self.assertTrue(response.has_header("X-Request-ID"))
        for event in events:
            self.assertEqual((event.actor_id, event.request_id), (actor.pk, response["X-Request-ID"]))
        graded, recorded = events
        self.assertEqual(graded.after["source"], GradeSource.APPRAISAL)
        if obj is not None:
            self.assertEqual((recorded.object_id, recorded.division_code), (str(obj.pk), obj.division_id))
        return recorded


class AppraisalPageTests(AppraisalWorld, ViewTestCases.ListView, ViewTestCases.DetailView, ViewTestCases.AddView):
    add_url_has_parent = True

    def add_url(self, near: Any) -> str:
        return reverse("inspections:appraisal_add", kwargs={"house_pk": near.house_id})

    def create_data(self, near: Any) -> dict[str, Any]:
        data = {
            "appraised_on": TODAY.isoformat(),
            "site_dangerous": "0",
            "disaster_prevention": "partial",
            "conclusion": "局部危房，建议加固",
        }
        return data | {f"component_{code}": "a" for code in build.all_a(near.house)} | {"component_bearing_wall": "c"}

    def test_add_outside_the_subtree_is_refused(self) -> None:
        """Only appraisers (and the admin) may appraise; outside their subtree the house is not found."""
        for key, near, status in [("appraiser", self.out_of_scope, 404), ("county", self.in_scope[0], 403)]:
            with self.subTest(user=key):
                self.as_user(key)
                before = self.snapshot()
                response = self.client.post(self.add_url(near), self.create_data(near))
                self.assertEqual(response.status_code, status)
                self.assertNothingWritten(before, response)

    def test_form_shows_the_components_of_the_structure_with_descriptions(self) -> None:
        cave = factories.house(factories.household(self.villages["home"]), structure="earth_cave")
        self.as_user("appraiser")
        response = self.client.get(reverse("inspections:appraisal_add", kwargs={"house_pk": cave.pk}))
        for spec in services.component_specs("earth_cave"):
            self.assertContains(response, f'name="component_{spec.code}"', count=4)
            self.assertContains(response, spec.desc_c)
        self.assertNotContains(response, 'name="component_bearing_wall"')
        self.assertContains(response, "本地默认，待确认")

    def test_missing_components_and_override_without_reason_are_shown_on_the_form(self) -> None:
        near = self.in_scope[0]
        self.as_user("appraiser")
        data = self.create_data(near)
        del data["component_roof"]
        before = self.snapshot()
        response = self.client.post(self.add_url(near), data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("请评定「楼屋盖」", response.context["form"].errors["component_roof"][0])
        response = self.client.post(self.add_url(near), self.create_data(near) | {"final_grade": "B"})
        self.assertIn("必须填写调整理由", response.context["form"].errors["override_reason"][0])
        self.assertNothingWritten(before, response)

    def test_untrained_appraiser_sees_the_p17_refusal(self) -> None:
        """policy: P17"""
        person = factories.user("jd_untrained", factories.YUYANG, "appraiser")
        self.client.force_login(person)
        before = self.snapshot()
        response = self.client.post(self.add_url(self.in_scope[0]), self.create_data(self.in_scope[0]))
        self.assertEqual(response.status_code, 200)
        self.assertIn("P17", " ".join(response.context["form"].non_field_errors()))
        self.assertNothingWritten(before, response)

    def test_form_answers_the_assigned_request(self) -> None:
        house = factories.house(factories.household(self.villages["home"]), structure="brick_wood")
        req = build.request(house, appraiser=self.users["appraiser"], assigned_by=self.users["county"])
        self.as_user("appraiser")
        url = reverse("inspections:appraisal_add", kwargs={"house_pk": house.pk}) + f"?request={req.pk}"
        self.assertContains(self.client.get(url), req.description)
        data = self.create_data(self.in_scope[0]) | {"request": req.pk}
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        req.refresh_from_db()
        self.assertEqual(req.status, "done")
        house.refresh_from_db()
        self.assertEqual(house.grade, "C")


class AppraisalAPITests(
    AppraisalWorld, APIViewTestCases.ListView, APIViewTestCases.DetailView, APIViewTestCases.CreateView
):
    def create_payload(self, near: Any) -> dict[str, Any]:
        return {
            "house_id": near.house_id,
            "appraised_on": str(TODAY),
            "disaster_prevention": "none",
            "components": [{"code": code, "grade": "a"} for code in build.all_a(near.house)],
        }

    def test_api_create_outside_the_subtree_is_404_for_an_appraiser(self) -> None:
        before = self.snapshot()
        response = self.api("POST", self.api_url("create"), "appraiser", self.create_payload(self.out_of_scope))
        assert_error_body(response, 404, errors=False)
        self.assertNothingWritten(before, response)

    def test_api_detail_has_components_and_the_override_flag(self) -> None:
        body = self.api("GET", self.api_url("detail", self.in_scope[0]), "county").json()
        self.assertEqual(body["computed_grade"], "B")
        self.assertFalse(body["flagged_for_review"])
        self.assertIn({"code": "bearing_wall", "name": "承重墙", "grade": "b", "note": ""}, body["components"])
        self.assertTrue(body["danger_points"][0].startswith("承重墙（b级）"))

    def test_api_override_and_its_errors(self) -> None:
        payload = self.create_payload(self.in_scope[0])
        body = assert_error_body(
            self.api("POST", self.api_url("create"), "appraiser", payload | {"final_grade": "D"}), 400
        )
        self.assertEqual(body["errors"][0]["field"], "override_reason")
        wrong = payload | {"components": payload["components"][1:]}
        body = assert_error_body(self.api("POST", self.api_url("create"), "appraiser", wrong), 400)
        self.assertTrue(all(e["field"].startswith("component_") for e in body["errors"]))
        response = self.api(
            "POST",
            self.api_url("create"),
            "appraiser",
            payload | {"final_grade": "D", "override_reason": "墙体酥碱严重"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual((response.json()["final_grade"], response.json()["is_override"]), ("D", True))
        self.assertTrue(response.json()["flagged_for_review"])
        ids, _n = self.api_list_all("county", flagged="1")
        self.assertEqual(ids, {response.json()["id"]})

    def test_api_untrained_appraiser_is_refused_with_the_p17_message(self) -> None:
        """policy: P17"""
        Attendance.objects.filter(user=self.users["appraiser"]).delete()
        before = self.snapshot()
        response = self.api("POST", self.api_url("create"), "appraiser", self.create_payload(self.in_scope[0]))
        body = assert_error_body(response, 400)
        self.assertIn("P17", body["detail"])
        self.assertNothingWritten(before, response)


class AppraisalReviewTests(AppraisalWorld):
    """The county reviews overrides: the queue and the review action."""

    covers = ("inspections:appraisal_review_list", "inspections:appraisal_review")

    def override(self, village_key: str = "home") -> Appraisal:
        house = factories.house(factories.household(self.villages[village_key]), structure="brick_wood")
        return build.appraisal(house, final_grade="C", override_reason="承重墙酥碱严重")

    def test_queue_lists_flagged_overrides_in_scope(self) -> None:
        flagged, hidden = self.override(), self.override("other_county")
        url = reverse("inspections:appraisal_review_list")
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        for key in ("village", "appraiser", "department", "supervisor"):
            self.as_user(key)
            self.assertEqual(self.client.get(url).status_code, 403)
        self.as_user("county")
        listed = {a.pk for a in self.client.get(url).context["page"].object_list}
        self.assertEqual(listed, {flagged.pk})
        self.assertNotIn(hidden.pk, listed)

    def test_review_action(self) -> None:
        flagged, hidden = self.override(), self.override("other_county")
        url = reverse("inspections:appraisal_review", kwargs={"pk": flagged.pk})
        self.as_user("appraiser")
        self.assertEqual(self.client.post(url, {"accept": "1"}).status_code, 403)
        self.as_user("county")
        hidden_url = reverse("inspections:appraisal_review", kwargs={"pk": hidden.pk})
        self.assertEqual(self.client.post(hidden_url, {"accept": "1"}).status_code, 404)
        self.assertEqual(self.client.post(url, {"accept": "0", "comment": ""}).status_code, 400)
        detail = self.client.get(reverse("inspections:appraisal_detail", kwargs={"pk": flagged.pk}))
        self.assertContains(detail, "复核调整等级")
        since = self.last_event_id()
        response = self.client.post(url, {"accept": "1", "comment": "同意"})
        self.assertEqual(response.status_code, 302)
        events = list(Event.objects.filter(pk__gt=since))
        self.assertEqual(
            [(e.action, e.actor_id) for e in events], [(Action.APPRAISAL_REVIEWED, self.users["county"].pk)]
        )
        flagged.refresh_from_db()
        self.assertFalse(flagged.flagged_for_review)


class GradePreviewTests(AppraisalWorld):
    """The live computed grade comes from the server's grading engine (htmx partial)."""

    covers = ("inspections:appraisal_grade",)

    def test_preview(self) -> None:
        house = factories.house(factories.household(self.villages["home"]), structure="earth_cave")
        url = reverse("inspections:appraisal_grade", kwargs={"house_pk": house.pk})
        grades = {f"component_{code}": "a" for code in build.all_a(house)}
        self.as_user(None)
        self.assertLoginRedirect(self.client.post(url, grades))
        self.as_user("county")
        self.assertEqual(self.client.post(url, grades).status_code, 403)
        self.as_user("appraiser")
        self.assertEqual(self.client.get(url).status_code, 405)
        self.assertContains(self.client.post(url, grades), "A级")
        self.assertContains(self.client.post(url, grades | {"component_cave_arch": "c"}), "C级")
        response = self.client.post(url, grades | {"component_cave_cliff": "d"})
        self.assertEqual(response.context["preview"].grade, "D")
        self.assertContains(response, "边坡失稳")
        self.assertContains(self.client.post(url, grades | {"site_dangerous": "1"}), "场地危险")
        response = self.client.post(url, grades | {"final_grade": "B"})
        self.assertContains(response, "须填写调整理由")
        partial = dict(grades)
        partial.pop("component_cave_pier")
        self.assertContains(self.client.post(url, partial), "评定全部构件后显示计算等级")
        shenmu = factories.house(factories.household(self.villages["other_county"]))
        self.assertEqual(
            self.client.post(
                reverse("inspections:appraisal_grade", kwargs={"house_pk": shenmu.pk}), grades
            ).status_code,
            404,
        )


class ComponentConfigTests(AppraisalWorld):
    """The city configures the component lists; everyone who reads may look at them."""

    covers = ("inspections:component_list", "inspections:component_edit")

    def test_list(self) -> None:
        url = reverse("inspections:component_list")
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("no_role")
        self.assertEqual(self.client.get(url).status_code, 403)
        self.as_user("village")
        response = self.client.get(url)
        self.assertContains(response, "崖体、边坡")
        self.assertContains(response, "本地默认，待确认")
        self.assertNotContains(response, reverse("inspections:component_edit", kwargs={"pk": 1}) + '"')
        self.as_user("admin")
        spec = ComponentSpec.objects.get(code="cave_arch")
        self.assertContains(self.client.get(url), reverse("inspections:component_edit", kwargs={"pk": spec.pk}))

    def test_edit(self) -> None:
        spec = ComponentSpec.objects.get(code="cave_arch")
        url = reverse("inspections:component_edit", kwargs={"pk": spec.pk})
        data = {
            "name": spec.name,
            "sort_order": spec.sort_order,
            "desc_a": spec.desc_a,
            "desc_b": "发丝裂缝（宽度小于0.5毫米）",
            "desc_c": spec.desc_c,
            "desc_d": spec.desc_d,
            "is_active": "on",
            "confirm": "on",
        }
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        for key in ("county", "village", "appraiser"):
            with self.subTest(user=key):
                self.as_user(key)
                self.assertEqual(self.client.post(url, data).status_code, 403)
        self.as_user("admin")
        self.assertEqual(self.client.get(url).status_code, 200)
        self.assertRefusedForm(self.client.post(url, data | {"desc_b": ""}))
        since = self.last_event_id()
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 302)
        event = Event.objects.get(pk__gt=since)
        self.assertEqual(event.action, Action.COMPONENT_CHANGED)
        self.assertEqual(event.after, {"desc_b": "发丝裂缝（宽度小于0.5毫米）", "is_local_default": False})
        spec.refresh_from_db()
        self.assertFalse(spec.is_local_default)


class AppraisalQueryCountTests(AppraisalWorld):
    def grow(self, rows: list, *, flagged: bool = False) -> Any:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")

        def grow(n: int) -> None:
            while len(rows) < n:
                house = factories.house(factories.household(village), structure="earth_cave")
                override = {"final_grade": "B", "override_reason": "x"} if flagged else {}
                rows.append(build.appraisal(house, self.users["appraiser"], **override))

        return grow

    def test_appraisal_list_page(self) -> None:
        self.as_user("county")
        url = reverse("inspections:appraisal_list")
        self.assertQueryCountsStable(
            "inspections:appraisal_list", grow=self.grow([]), fetch=lambda: self.client.get(url), sizes=(3, 30)
        )

    def test_review_queue_page(self) -> None:
        self.as_user("county")
        url = reverse("inspections:appraisal_review_list")
        self.assertQueryCountsStable(
            "inspections:appraisal_review_list",
            grow=self.grow([], flagged=True),
            fetch=lambda: self.client.get(url),
            sizes=(3, 30),
        )

    def test_appraisal_list_api(self) -> None:
        url = reverse("api:appraisals_list")
        self.assertQueryCountsStable(
            "api:appraisals_list",
            grow=self.grow([]),
            fetch=lambda: self.api("GET", url, "county", page_size=100),
            sizes=(3, 30),
        )

    def test_appraisal_detail_api(self) -> None:
        house = factories.house(factories.household(self.villages["home"]), structure="earth_cave")
        rows: list = []

        def grow(n: int) -> None:
            # the latest appraisal of a house appraised once and twice: the detail's queries are fixed
            while len(rows) < n:
                rows.append(build.appraisal(house, self.users["appraiser"]))

        self.assertQueryCountsStable(
            "api:appraisals_detail",
            grow=grow,
            fetch=lambda: self.api("GET", reverse("api:appraisals_detail", kwargs={"pk": rows[-1].pk}), "county"),
            sizes=(1, 2),
        )
