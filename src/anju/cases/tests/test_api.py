"""The ledger through its HTTP API (DESIGN.md "HTTP"): the list and its filters, the case page, one case from a
suspected house appraised C to 已销号 by API calls only, and the refusals with their messages and status codes
(P2, P17, P19–P22)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from anju.accounts.services import token_issue
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseState, Craftsman, SignOff
from anju.cases.services import renovation
from anju.core import idnumber
from anju.registry.models import House
from anju.testing import appraisals, cases, factories
from anju.testing.api import api_call, assert_error_body
from anju.testing.scope import ScopeTestCase

TODAY = dt.date.today()


class CaseAPITests(ScopeTestCase):
    """Users of the shared world: village, town and county staff of the home village sign its cases."""

    def house(self, place: str = "home", **values: Any) -> House:
        return factories.house(factories.household(self.villages[place]), **values)

    def case(self, place: str = "home", **values: Any) -> Case:
        return cases.dangerous_case(self.house(place), **values)

    def url(self, name: str, obj: Any = None) -> str:
        return reverse(f"api:cases_{name}", kwargs={"pk": obj.pk} if obj is not None else None)

    def post(self, name: str, obj: Any, key: str, payload: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.api("POST", self.url(name, obj), key, payload)
        self.assertEqual(response.status_code, status, response.content.decode()[:600])
        return response.json()

    def detail(self, case: Case, key: str = "county") -> dict[str, Any]:
        response = self.api("GET", self.url("detail", case), key)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response.json()

    def items(self, key: str = "county", **params: Any) -> list[dict[str, Any]]:
        response = self.api("GET", self.url("list"), key, **params)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response.json()["items"]

    # -- reading ---------------------------------------------------------------------------------------------------

    def test_list_item_names_place_household_deadline_and_state(self) -> None:
        """policy: P19 — the row carries the deadline and whether it is late."""
        case = self.case(appraised_on=dt.date(TODAY.year - 2, 3, 10))
        body = self.api("GET", self.url("list"), "village").json()
        self.assertEqual(body["count"], 1)
        item = body["items"][0]
        household = case.household
        self.assertEqual(
            {k: item[k] for k in ("id", "division_code", "county", "town", "village", "household_id", "head_name")},
            {
                "id": case.pk,
                "division_code": self.villages["home"].code,
                "county": "榆阳区",
                "town": self.villages["home"].parent.name,
                "village": self.villages["home"].name,
                "household_id": household.pk,
                "head_name": household.head_name,
            },
        )
        self.assertEqual(item["id_number"], household.id_masked)
        self.assertIn("*", item["id_number"])
        self.assertNotIn(idnumber.decrypt(household.id_cipher), str(body))
        self.assertEqual(item["house_id"], case.house_id)
        self.assertEqual(item["source"], {"code": "suspected", "label": "疑似上报"})
        self.assertEqual(item["state"], {"code": "appraised", "label": "已鉴定"})
        self.assertEqual((item["household_type"], item["household_type_label"]), ("general", "一般农户"))
        self.assertEqual((item["grade"], item["appraised_on"]), ("C", f"{TODAY.year - 2}-03-10"))
        self.assertEqual(item["due_on"], f"{TODAY.year - 2}-11-30")
        self.assertTrue(item["late"])
        self.assertEqual((item["version"], item["outcome"], item["closed_on"]), (1, "", None))
        self.assertEqual(item["responsible"], case.responsible_name)
        self.assertEqual(item["opened_on"], f"{TODAY.year - 2}-03-10")

    def test_list_filters(self) -> None:
        """policy: P19 — late and due soon mean what the ledger page means (one filter in the selectors)."""
        late = self.case(appraised_on=dt.date(TODAY.year - 2, 8, 1))
        soon = self.case(grade="D")
        Case.objects.filter(pk=soon.pk).update(due_on=TODAY + dt.timedelta(days=10))
        other_town = self.case("sibling_town")
        closed = cases.advance(self.case(), CaseState.CLOSED)
        Case.objects.filter(pk=closed.pk).update(responsible=self.users["town"])

        def ids(**params: Any) -> set[int]:
            return {item["id"] for item in self.items(**params)}

        self.assertEqual(ids(), {late.pk, soon.pk, other_town.pk, closed.pk})
        self.assertEqual(ids(late="true"), {late.pk})
        self.assertEqual(ids(due_soon="1"), {soon.pk})
        self.assertEqual(ids(grade="D"), {soon.pk})
        self.assertEqual(ids(state="closed"), {closed.pk})
        self.assertEqual(ids(open="true"), {late.pk, soon.pk, other_town.pk})
        self.assertEqual(ids(division=factories.YUYANG_TOWN_2), {other_town.pk})
        self.assertEqual(ids(division=factories.SHENMU), set())
        self.assertEqual(ids(source="suspected", household=late.household_id), {late.pk})
        self.assertEqual(ids(source="complaint"), set())
        self.assertEqual(ids(q=soon.household.head_name), {soon.pk})
        self.assertEqual({i["id"] for i in self.items("town", responsible="me")}, {closed.pk})
        self.assertEqual(ids(responsible=str(self.users["town"].pk)), {closed.pk})
        village_cases = set(Case.objects.filter(responsible=self.users["village"]).values_list("pk", flat=True))
        self.assertEqual(ids(responsible=str(self.users["village"].pk)), village_cases)
        page = self.api("GET", self.url("list"), "county", page_size=3, page=2).json()
        self.assertEqual((page["count"], len(page["items"])), (4, 1))

    def test_bad_filters_answer_400_in_chinese(self) -> None:
        for params, field in [
            ({"state": "finished"}, "state"),
            ({"source": "rumour"}, "source"),
            ({"grade": "E"}, "grade"),
            ({"late": "maybe"}, "late"),
            ({"division": "999999999999"}, "division"),
            ({"responsible": "somebody"}, "responsible"),
            ({"household": "x"}, "household"),
            ({"page": "0"}, "page"),
        ]:
            with self.subTest(params=params):
                body = assert_error_body(self.api("GET", self.url("list"), "county", **params), 400)
                self.assertEqual([e["field"] for e in body["errors"]], [field])

    def test_detail_has_renovation_signoffs_visits_housing_payments_and_history(self) -> None:
        case = cases.advance(self.case(), CaseState.UNDER_CONSTRUCTION)
        actor = cases.manager(case)
        renovation.transitional_add(
            actor=actor, case=case, kind="relatives", place="本村亲戚家", from_on=TODAY, safety_confirmed=True
        )
        renovation.site_visit_add(
            actor=actor, case=case, visited_on=TODAY, findings="构造柱缺失", needs_fix=True, fix_due_on=TODAY
        )
        visit = case.visits.get()
        renovation.site_visit_fix(actor=actor, visit=visit, fixed_on=TODAY, fix_note="已补设构造柱")
        case = cases.advance(Case.objects.get(pk=case.pk), CaseState.ACCEPTED)
        renovation.subsidy_payment_add(actor=actor, case=case, paid_on=TODAY, amount="8000", account="6228 4800 1234")
        cases.sign(case, "problem")

        body = self.detail(case)
        self.assertEqual(body["state"], {"code": "accepted", "label": "已验收"})
        self.assertTrue(body["description"])
        self.assertIn("修缮加固", body["measures"])
        reno = body["renovation"]
        self.assertEqual(reno["method"], {"code": "reinforce", "label": "加固改造"})
        self.assertEqual((reno["design_kind"], reno["design_reference"]), ("atlas", "陕农房-A1"))
        self.assertEqual(reno["builder"], case.renovation.builder.name)
        self.assertEqual((reno["subsidy_amount"], reno["consent_by"]), ("20000.00", case.household.head_name))
        self.assertEqual((reno["started_on"], reno["accepted_on"]), (str(TODAY), str(TODAY)))
        self.assertTrue(reno["household_signed_acceptance"])
        self.assertEqual(
            [(s["kind"]["code"], s["level"]["label"]) for s in body["signoffs"]],
            [("problem", "村级"), ("problem", "乡镇级"), ("problem", "县级")],
        )
        self.assertEqual(len(body["missing_signoffs"]), 9)
        self.assertEqual(body["missing_signoffs"][0], "鉴定清（村级）")
        [first, second] = body["visits"]
        self.assertEqual(
            (first["findings"], first["fix_note"], first["fix_open"]), ("构造柱缺失", "已补设构造柱", False)
        )
        self.assertEqual(second["findings"], "施工规范")
        [housing] = body["transitional_housing"]
        self.assertEqual((housing["kind"]["label"], housing["safety_confirmed"]), ("投亲靠友", True))
        self.assertEqual(housing["confirmed_by"], actor.get_full_name())
        [payment] = body["payments"]
        self.assertEqual((payment["amount"], payment["account"]), ("8000.00", "********1234"))
        self.assertNotIn("62284800", str(body))
        actions = [e["action"] for e in body["history"]]
        self.assertEqual(actions[0], Action.CASE_OPENED)
        self.assertIn(Action.SITE_VISIT_FIXED, actions)
        self.assertEqual(actions[-1], Action.SIGNOFF_SIGNED)
        self.assertEqual(body["history"][0]["label"], "登记台账")
        self.assertTrue(all(e["actor"] for e in body["history"]))

    # -- the whole path, by API calls only -------------------------------------------------------------------------

    def test_from_a_suspected_house_appraised_c_to_closed_through_the_api(self) -> None:
        """policy: P1, P2, P8, P17, P19, P20, P21, P22 — every step a call, the sign-offs by the three signers."""
        factories.trained(self.users["appraiser"])
        house = self.house()
        opened = self.api(
            "POST",
            self.url("create"),
            "village",
            {
                "household_id": house.household_id,
                "house_id": house.pk,
                "source": "suspected",
                "description": "后墙开裂",
            },
        )
        self.assertEqual(opened.status_code, 201, opened.content)
        case = Case.objects.get(pk=opened.json()["id"])
        self.assertEqual(opened.json()["state"]["code"], "registered")
        body = self.post("request_appraisal", case, "village", {"version": 1})
        self.assertEqual((body["state"]["code"], body["version"]), ("awaiting_appraisal", 2))

        request_id = body["appraisal_request_id"]
        assign_url = reverse("api:appraisal_requests_assign", kwargs={"pk": request_id})
        assigned = self.api("POST", assign_url, "county", {"appraiser_id": self.users["appraiser"].pk})
        self.assertEqual(assigned.status_code, 200, assigned.content)
        components = [{"code": code, "grade": "a"} for code in appraisals.all_a(house)]
        components[0]["grade"] = "c"
        appraised = self.api(
            "POST",
            reverse("api:appraisals_create"),
            "appraiser",
            {
                "house_id": house.pk,
                "appraised_on": str(TODAY),
                "disaster_prevention": "partial",
                "components": components,
            },
        )
        self.assertEqual(appraised.status_code, 201, appraised.content)
        body = self.detail(case)
        self.assertEqual((body["state"]["code"], body["grade"]), ("appraised", "C"))
        self.assertTrue(body["due_on"])

        rate = self.api(
            "POST",
            reverse("api:subsidy_rates_create"),
            "admin",
            {"year": TODAY.year, "method": "reinforce", "grade": "C", "amount": "18000"},
        )
        self.assertEqual(rate.status_code, 201, rate.content)
        craftsman = self.api("POST", reverse("api:craftsmen_create"), "county", {"name": "李师傅"}).json()
        url = reverse("api:craftsmen_trainings", kwargs={"pk": craftsman["id"]})
        self.assertEqual(self.api("POST", url, "county", {"year": TODAY.year}).json()["trained_years"], [TODAY.year])

        version = body["version"]
        body = self.post(
            "application",
            case,
            "village",
            {
                "applied_on": str(TODAY),
                "consent_on": str(TODAY),
                "consent_by": "户主本人",
                "self_funding": "5000",
                "household_chose_plan": True,
                "own_labour": True,
                "version": version,
            },
        )
        body = self.post("plan", case, "county", {"method": "reinforce", "version": body["version"]})
        self.assertEqual((body["state"]["code"], body["renovation"]["subsidy_amount"]), ("planned", "18000.00"))
        body = self.post("design", case, "county", {"design_reference": "陕农房图集 NF-12", "version": body["version"]})
        body = self.post("builder", case, "county", {"craftsman_id": craftsman["id"], "version": body["version"]})
        self.assertEqual(body["renovation"]["builder"], "李师傅")
        housing = self.post(
            "transitional", case, "village", {"kind": "relatives", "place": "邻村亲戚家", "from_on": str(TODAY)}, 201
        )
        self.assertFalse(housing["safety_confirmed"])
        confirmed = self.post("transitional_confirm", type("H", (), {"pk": housing["id"]}), "town", {})
        self.assertTrue(confirmed["safety_confirmed"])
        body = self.post(
            "start", case, "county", {"started_on": str(TODAY), "energy_saving": True, "version": self.version(case)}
        )
        self.assertEqual(body["state"]["code"], "under_construction")
        visit = self.post(
            "visits",
            case,
            "county",
            {"visited_on": str(TODAY), "findings": "圈梁未闭合", "needs_fix": True, "fix_due_on": str(TODAY)},
            201,
        )
        self.assertTrue(visit["fix_open"])
        refused = self.api("POST", self.url("complete", case), "county", {"completed_on": str(TODAY)})
        self.assertIn("尚未整改完成", assert_error_body(refused, 400)["errors"][0]["message"])
        fixed = self.post(
            "visit_fix", type("V", (), {"pk": visit["id"]}), "county", {"fixed_on": str(TODAY), "fix_note": "已整改"}
        )
        self.assertFalse(fixed["fix_open"])
        body = self.post("complete", case, "county", {"completed_on": str(TODAY), "version": self.version(case)})
        body = self.post(
            "accept",
            case,
            "county",
            {
                "accepted_on": str(TODAY),
                "acceptance_team": "县住建局、镇村干部、农户",
                "household_signed": True,
                "house_grade_after": "B",
                "version": body["version"],
            },
        )
        self.assertEqual(body["state"]["code"], "accepted")
        house.refresh_from_db()
        self.assertEqual(house.grade, "B")
        payment = self.post("payments", case, "county", {"paid_on": str(TODAY), "amount": "18000"}, 201)
        self.assertEqual(payment["amount"], "18000.00")

        refused = self.api("POST", self.url("close", case), "county", {})
        self.assertIn("四清一责任签字未完成", assert_error_body(refused, 409)["detail"])
        for kind in ("problem", "appraisal", "renovation", "acceptance"):
            for key in ("village", "town", "county"):
                signed = self.post("signoffs", case, key, {"kind": kind, "comment": "情况属实"}, 201)
                self.assertEqual(signed["signer"], self.users[key].get_full_name())
        body = self.post("close", case, "county", {"version": self.version(case)})
        self.assertEqual(
            (body["state"]["code"], body["outcome"], body["closed_on"]), ("closed", "renovated", str(TODAY))
        )
        self.assertEqual(body["missing_signoffs"], [])
        self.assertEqual(len(body["signoffs"]), 12)
        actions = [e["action"] for e in body["history"]]
        for action in (
            Action.CASE_OPENED,
            Action.CASE_APPRAISED,
            Action.CASE_PLANNED,
            Action.CASE_STARTED,
            Action.SITE_VISIT_FIXED,
            Action.CASE_ACCEPTED,
            Action.SUBSIDY_PAID,
            Action.CASE_CLOSED,
        ):
            self.assertIn(action, actions)
        self.assertEqual(actions.count(Action.SIGNOFF_SIGNED), 12)
        self.assertEqual(self.items("county", state="closed")[0]["id"], case.pk)

    def version(self, case: Case) -> int:
        return Case.objects.get(pk=case.pk).version

    # -- refusals --------------------------------------------------------------------------------------------------

    def test_a_stale_version_is_409_and_changes_nothing(self) -> None:
        case = self.case()
        body = self.api("PATCH", self.url("update", case), "village", {"measures": "拆除重建", "version": 1}).json()
        self.assertEqual(body["version"], 2)
        before = (Event.objects.count(), self.version(case))
        for name, payload in [
            ("update", {"measures": "原地加固", "version": 1}),
            ("plan", {"method": "reinforce", "version": 1}),
            ("cancel", {"reason": "重复", "version": 1}),
        ]:
            with self.subTest(move=name):
                method = "PATCH" if name == "update" else "POST"
                body = assert_error_body(self.api(method, self.url(name, case), "county", payload), 409)
                self.assertIn("该台账已被他人更新", body["detail"])
                self.assertEqual(body["errors"][0]["field"], "version")
                self.assertEqual((Event.objects.count(), self.version(case)), before)

    def test_guards_answer_with_the_services_messages(self) -> None:
        """policy: P2, P17, P20, P22"""
        case = self.case()
        body = assert_error_body(self.api("POST", self.url("plan", case), "county", {"method": "reinforce"}), 400)
        self.assertEqual(body["errors"][0], {"field": "consent", "message": body["errors"][0]["message"]})
        self.assertIn("P20", body["errors"][0]["message"])
        body = assert_error_body(self.api("POST", self.url("plan", case), "county", {"method": "paint"}), 400)
        self.assertEqual(body["errors"][0]["field"], "method")
        body = assert_error_body(
            self.api("POST", self.url("design", case), "county", {"design_kind": "custom", "design_reference": "x"}),
            400,
        )
        self.assertIn("网页", body["detail"])
        untrained = cases.craftsman(case, trained=False)
        body = assert_error_body(
            self.api("POST", self.url("builder", case), "county", {"craftsman_id": untrained.pk}), 400
        )
        self.assertIn("P17", body["detail"])
        planned = cases.advance(self.case(), CaseState.PLANNED)
        body = assert_error_body(
            self.api("POST", self.url("start", planned), "county", {"started_on": str(TODAY)}), 400
        )
        self.assertIn("P22", " ".join(e["message"] for e in body["errors"]))
        body = assert_error_body(self.api("POST", self.url("close", case), "county", {}), 409)
        self.assertIn("须改造验收或通过其他方式保障安全", body["detail"])
        body = assert_error_body(self.api("POST", self.url("complete", case), "county", {"completed_on": "x"}), 400)
        self.assertEqual(body["errors"][0]["field"], "completed_on")
        body = assert_error_body(self.api("POST", self.url("start", planned), "county", {}), 400)
        self.assertEqual([e["field"] for e in body["errors"]], ["started_on"])
        body = assert_error_body(
            self.api("POST", self.url("signoffs", case), "county", {"kind": "problem"}), 409
        )  # P2: bottom up
        self.assertIn("须先由村级、乡镇级签字", body["detail"])
        body = assert_error_body(self.api("PATCH", self.url("update", case), "county", {}), 400)
        self.assertEqual(body["errors"][0]["field"], "description")
        malformed = self.api("POST", self.url("cancel", case), "county", "{not json")
        assert_error_body(malformed, 400, errors=False)
        self.assertEqual(Case.objects.get(pk=case.pk).state, CaseState.APPRAISED)
        self.assertFalse(SignOff.objects.filter(case=case).exists())

    def test_roles_and_levels(self) -> None:
        """policy: P2 — only the case's own village, town and county sign, each at its level."""
        case = self.case()
        for key, name, payload in [
            ("town", "plan", {"method": "reinforce"}),
            ("village", "close", {}),
            ("department", "signoffs", {"kind": "problem"}),
            ("appraiser", "application", {"applied_on": str(TODAY)}),
            ("admin", "signoffs", {"kind": "problem"}),
        ]:
            with self.subTest(user=key, move=name):
                assert_error_body(self.api("POST", self.url(name, case), key, payload), 403, errors=False)
        odd = factories.user("town_as_village", factories.YUYANG_TOWN, "village_staff")
        response = self.api("POST", self.url("signoffs", case), None, {"kind": "problem"})
        assert_error_body(response, 401, errors=False)
        response = api_call(
            "POST", self.url("signoffs", case), token=token_issue(user=odd), payload={"kind": "problem"}
        )
        body = assert_error_body(response, 403)
        self.assertIn("责任人", body["detail"])
        self.assertFalse(SignOff.objects.filter(case=case).exists())

    def test_other_county_sees_404_everywhere(self) -> None:
        case = self.case()
        assert_error_body(self.api("GET", self.url("detail", case), "other_county"), 404, errors=False)
        assert_error_body(
            self.api("GET", self.url("detail", type("X", (), {"pk": 10**6})), "county"), 404, errors=False
        )
        shenmu_household = factories.household(self.villages["other_county"])
        payload = {"household_id": shenmu_household.pk, "source": "complaint", "description": "漏雨"}
        assert_error_body(self.api("POST", self.url("create"), "county", payload), 404, errors=False)
        self.assertEqual([i["id"] for i in self.items("other_county")], [])

    def test_opening_a_problem_list_item_needs_its_household_type(self) -> None:
        """policy: P1"""
        household = factories.household(self.villages["home"])
        payload = {"household_id": household.pk, "source": "problem_list", "description": "住房不安全"}
        body = assert_error_body(self.api("POST", self.url("create"), "county", payload), 400)
        self.assertEqual({e["field"] for e in body["errors"]}, {"household_type", "transferred_on"})
        body = assert_error_body(
            self.api("POST", self.url("create"), "county", payload | {"household_type": "poor"}), 400
        )
        self.assertEqual(body["errors"][0]["field"], "household_type")
        payload |= {"household_type": "edge", "transferred_on": str(TODAY)}
        response = self.api("POST", self.url("create"), "county", payload)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(
            (response.json()["source"]["label"], response.json()["household_type_label"]), ("问题清单", "边缘易致贫户")
        )

    # -- query budgets ---------------------------------------------------------------------------------------------

    def test_list_queries_do_not_grow_with_rows(self) -> None:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        rows: list[Case] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(
                    cases.dangerous_case(factories.house(factories.household(village)), grade="CD"[len(rows) % 2])
                )

        self.assertQueryCountsStable(
            "api:cases_list", grow=grow, fetch=lambda: self.api("GET", self.url("list"), "county"), sizes=(3, 30)
        )

    def test_detail_queries_do_not_grow_with_visits_and_signoffs(self) -> None:
        case = cases.advance(self.case(), CaseState.UNDER_CONSTRUCTION)
        visits: list[Any] = []

        def grow(n: int) -> None:
            while len(visits) < n:
                visits.append(
                    renovation.site_visit_add(
                        actor=cases.manager(case), case=case, visited_on=TODAY, findings=f"第{len(visits) + 1}次巡查"
                    )
                )
                renovation.transitional_add(
                    actor=cases.manager(case),
                    case=case,
                    kind="rented",
                    place=f"租房{len(visits)}",
                    from_on=TODAY,
                    safety_confirmed=True,
                )
            cases.sign(case, "problem", "appraisal")

        self.assertQueryCountsStable(
            "api:cases_detail",
            grow=grow,
            fetch=lambda: self.api("GET", self.url("detail", case), "county"),
            sizes=(1, 4),
        )

    def test_craftsmen_list_queries_do_not_grow_with_rows(self) -> None:
        def grow(n: int) -> None:
            while Craftsman.objects.count() < n:
                person = Craftsman.objects.create(division_id=factories.YUYANG, name=f"工匠{Craftsman.objects.count()}")
                cases.train(person, TODAY.year)
                cases.train(person, TODAY.year - 1)

        url = reverse("api:craftsmen_list")
        self.assertQueryCountsStable(
            "api:craftsmen_list", grow=grow, fetch=lambda: self.api("GET", url, "county"), sizes=(3, 30)
        )
