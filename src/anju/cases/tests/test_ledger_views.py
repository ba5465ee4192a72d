"""The ledger page's filters (P19 late / due soon at their boundaries), its count strip and empty state, the case
page's content, and the 操作 panel offering exactly the moves a role may make in the case's state (P2, P20, P22)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from anju.cases.actions import case_moves, may_move
from anju.cases.models import Case, CaseState
from anju.cases.selectors import case_get
from anju.cases.services import cases as case_services
from anju.cases.services import renovation as works
from anju.cases.services.signoffs import signer_level
from anju.testing import cases, factories
from anju.testing.scope import ScopeTestCase

TODAY = dt.date.today()


def set_due(case: Case, due_on: dt.date) -> Case:
    """Put a case's P19 deadline at a boundary relative to today (the deadline itself is tested in the services)."""
    Case.objects.filter(pk=case.pk).update(due_on=due_on)
    return Case.objects.get(pk=case.pk)


class LedgerViewWorld(ScopeTestCase):
    """The shared users, and cases built per test in the 榆阳 home village."""

    __test__ = False

    def new_case(self, village: str = "home", **kwargs: Any) -> Case:
        return cases.dangerous_case(factories.house(factories.household(self.villages[village])), **kwargs)

    def listed(self, key: str, **params: Any) -> set[int]:
        self.as_user(key)
        response = self.client.get(reverse("cases:case_list"), params)
        self.assertEqual(response.status_code, 200)
        return {c.pk for c in response.context["page"].object_list}


class LedgerFilterTests(LedgerViewWorld):
    def test_late_and_due_soon_at_their_boundaries(self) -> None:
        """policy: P19 — late from the day after the deadline; due soon from today to today + 30 days."""
        due_today = set_due(self.new_case(), TODAY)
        overdue_by_one = set_due(self.new_case(), TODAY - dt.timedelta(days=1))
        in_30 = set_due(self.new_case(), TODAY + dt.timedelta(days=30))
        in_31 = set_due(self.new_case(), TODAY + dt.timedelta(days=31))
        self.assertEqual(self.listed("county", late="on"), {overdue_by_one.pk})
        self.assertEqual(self.listed("county", due_soon="on"), {due_today.pk, in_30.pk})
        self.assertNotIn(in_31.pk, self.listed("county", due_soon="on"))

    def test_a_case_appraised_long_ago_is_late_until_the_works_are_completed(self) -> None:
        """policy: P19 — appraised in March two years ago: due 30 Nov that year, late while not completed."""
        appraised = dt.date(TODAY.year - 2, 3, 10)
        late = self.new_case(appraised_on=appraised)
        self.assertEqual(late.due_on, dt.date(TODAY.year - 2, 11, 30))
        done = cases.advance(self.new_case(appraised_on=appraised), CaseState.COMPLETED)
        self.assertEqual(self.listed("county", late="on"), {late.pk})
        self.as_user("county")
        response = self.client.get(reverse("cases:case_list"))
        row = response.content.decode().split(f'id="case-{late.pk}"')[1].split("</tr>")[0]
        self.assertIn("text-danger", row)
        self.assertIn("逾期", row)
        other = response.content.decode().split(f'id="case-{done.pk}"')[1].split("</tr>")[0]
        self.assertNotIn("逾期", other)
        detail = self.client.get(reverse("cases:case_detail", kwargs={"pk": late.pk}))
        self.assertIn("逾期", detail.content.decode().split('id="case-deadline"')[1].split("</dd>")[0])

    def test_state_source_grade_division_name_and_responsible(self) -> None:
        c_case = self.new_case()
        d_case = self.new_case("home_town", grade="D")
        planned = cases.advance(self.new_case("sibling_town"), CaseState.PLANNED)
        complaint = case_services.case_open(
            actor=cases.manager(c_case),
            household=factories.household(self.villages["home"], head_name="信访户"),
            source="complaint",
            description="信访反映房屋漏雨",
        )
        self.assertEqual(self.listed("county", state="planned"), {planned.pk})
        self.assertEqual(self.listed("county", source="complaint"), {complaint.pk})
        self.assertEqual(self.listed("county", grade="D"), {d_case.pk})
        self.assertEqual(self.listed("county", division=self.villages["home"].code), {c_case.pk, complaint.pk})
        self.assertEqual(self.listed("county", division=factories.YUYANG_TOWN), {c_case.pk, d_case.pk, complaint.pk})
        self.assertEqual(self.listed("county", q="信访"), {complaint.pk})
        self.assertEqual(self.listed("county", source="complaint", grade="C"), set())
        # 我负责的: the responsible person named by the chain when the case was opened (P18)
        mine = Case.objects.filter(responsible_id=self.users["village"].pk).values_list("pk", flat=True)
        self.assertEqual(self.listed("village", responsible="me"), set(mine))
        Case.objects.filter(pk=c_case.pk).update(responsible=self.users["county"])
        theirs = set(Case.objects.filter(responsible=self.users["county"]).values_list("pk", flat=True))
        self.assertIn(c_case.pk, theirs)
        self.assertEqual(self.listed("county", responsible="me"), theirs)
        self.assertEqual(self.listed("town", responsible=str(self.users["county"].pk)), {c_case.pk})

    def test_bad_filter_values_are_form_errors_not_500(self) -> None:
        case = self.new_case()
        self.as_user("county")
        response = self.client.get(reverse("cases:case_list"), {"division": "999999999999", "state": "nonsense"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("division", response.context["form"].errors)
        self.assertIn("state", response.context["form"].errors)
        self.assertIn(case.pk, {c.pk for c in response.context["page"].object_list})
        shenmu = self.client.get(reverse("cases:case_list"), {"division": factories.SHENMU})
        self.assertEqual(shenmu.context["page"].paginator.count, 0, "another county's code must not widen the scope")

    def test_count_strip_counts_every_state_under_the_other_filters_in_one_query(self) -> None:
        self.new_case()
        self.new_case()
        cases.advance(self.new_case(), CaseState.PLANNED)
        self.new_case("other_county")
        self.as_user("county")
        response = self.client.get(reverse("cases:case_list"), {"state": "planned"})
        strip = {c["state"]: c["n"] for c in response.context["counts"]}
        self.assertEqual(strip, {"appraised": 2, "planned": 1})
        self.assertEqual(response.context["page"].paginator.count, 1)
        self.assertContains(response, 'href="?state=appraised"')
        grouped = self.client.get(reverse("cases:case_list"), {"grade": "D"})
        self.assertEqual(grouped.context["counts"], [])

    def test_htmx_request_answers_the_rows_only(self) -> None:
        self.new_case()
        self.as_user("county")
        response = self.client.get(reverse("cases:case_list"), HTTP_HX_REQUEST="true")
        self.assertTemplateUsed(response, "cases/_ledger_rows.html")
        self.assertNotContains(response, "<html")

    def test_export_buttons_carry_the_filters(self) -> None:
        self.as_user("county")
        response = self.client.get(reverse("cases:case_list"), {"late": "on", "page": "2"})
        self.assertContains(response, reverse("cases:ledger_export") + "?late=on")
        self.assertContains(response, reverse("cases:rectification_export") + "?late=on")

    def test_full_id_export_is_offered_only_to_roles_that_may_see_ids(self) -> None:
        """Personal data: the full-ID ledger is a separate, audited download for registry.view_id only."""
        for key, offered in [("county", True), ("town", True), ("village", False), ("department", False)]:
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(reverse("cases:case_list"), {"late": "on"})
                full = reverse("cases:ledger_export") + "?late=on&amp;full_id=1"
                (self.assertContains if offered else self.assertNotContains)(response, full)


class LedgerEmptyStateTests(LedgerViewWorld):
    def test_empty_ledger_explains_where_cases_come_from(self) -> None:
        self.as_user("county")
        response = self.client.get(reverse("cases:case_list"))
        self.assertContains(response, "辖区内还没有危房台账")
        self.assertContains(response, 'id="empty-open-link"')
        self.as_user("department")
        response = self.client.get(reverse("cases:case_list"))
        self.assertContains(response, "辖区内还没有危房台账")
        self.assertNotContains(response, 'id="empty-open-link"')

    def test_empty_filter_result_offers_to_clear_it(self) -> None:
        self.new_case()
        self.as_user("county")
        response = self.client.get(reverse("cases:case_list"), {"source": "disaster"})
        self.assertContains(response, "没有符合条件的台账")
        self.assertContains(response, "清除筛选条件")


class CasePageTests(LedgerViewWorld):
    def test_page_shows_the_whole_case(self) -> None:
        case = cases.advance(self.new_case(), CaseState.UNDER_CONSTRUCTION)
        actor = cases.manager(case)
        works.site_visit_add(actor=actor, case=case, visited_on=TODAY, findings="圈梁未封闭", needs_fix=True,
                             fix_due_on=TODAY + dt.timedelta(days=5))  # fmt: skip
        works.transitional_add(actor=actor, case=case, kind="rented", place="村东租房", from_on=TODAY)
        cases.sign(case, "problem")
        self.as_user("town")
        response = self.client.get(reverse("cases:case_detail", kwargs={"pk": case.pk}))
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        for text in (
            case.household.id_masked,
            "加固改造",
            "陕农房-A1",
            "圈梁未封闭",
            "村东租房",
            "未确认",
            "施工中",
            reverse("inspections:appraisal_detail", kwargs={"pk": case.appraisal_id}),
            "纳入改造计划",  # history: the action label of CASE_PLANNED
            "四清签字",
        ):
            self.assertIn(str(text), content)
        grid = content.split('id="case-signoffs"')[1].split('id="case-history"')[0]
        problem = grid.split('data-kind="problem"')[1].split("</tr>")[0]
        self.assertNotIn("未签", problem)
        renovation = grid.split('data-kind="renovation"')[1].split("</tr>")[0]
        self.assertEqual(renovation.count("未签"), 3)
        self.assertEqual(response.context["signed_count"], 3)

    def test_history_lists_every_event_with_actor_oldest_first(self) -> None:
        case = cases.advance(self.new_case(), CaseState.PLANNED)
        self.as_user("county")
        response = self.client.get(reverse("cases:case_detail", kwargs={"pk": case.pk}))
        labels = [str(row["event"].action_label) for row in response.context["history"]]
        self.assertEqual(labels, ["登记台账", "登记农户申请及意愿", "纳入改造计划"])
        self.assertIn("状态：已纳入计划", response.context["history"][-1]["details"])

    def test_household_page_lists_its_cases_and_the_open_button(self) -> None:
        case = self.new_case()
        url = reverse("registry:household_detail", kwargs={"pk": case.household_id})
        create = reverse("cases:case_create") + f"?household={case.household_id}"
        self.as_user("village")
        response = self.client.get(url)
        self.assertContains(response, reverse("cases:case_detail", kwargs={"pk": case.pk}))
        self.assertContains(response, create)
        self.as_user("department")
        response = self.client.get(url)
        self.assertContains(response, reverse("cases:case_detail", kwargs={"pk": case.pk}))
        self.assertNotContains(response, create)

    def test_nav_links_the_ledger(self) -> None:
        self.as_user("department")
        self.assertContains(self.client.get(reverse("web:home")), reverse("cases:case_list"))


class MovesPanelTests(LedgerViewWorld):
    """The 操作 panel offers the moves of the user's role in the case's state, and says what blocks a move."""

    def moves(self, key: str, case: Case) -> dict[str, str]:
        """url name → blocked reason, as the page shows them; every offered link resolves."""
        self.as_user(key)
        response = self.client.get(reverse("cases:case_detail", kwargs={"pk": case.pk}))
        self.assertEqual(response.status_code, 200)
        shown = {}
        for move in response.context["moves"]:
            if not move.blocked:
                self.assertContains(response, f'href="{move.url}"')
            shown[move.url_name] = move.blocked
        return shown

    def test_appraised_dangerous_case(self) -> None:
        case = self.new_case()
        county = self.moves("county", case)
        self.assertLessEqual(
            {"cases:case_edit", "cases:case_apply", "cases:case_design", "cases:case_builder", "cases:case_secure",
             "cases:case_transitional", "cases:case_photo", "cases:case_cancel", "cases:case_plan"},
            set(county),
        )  # fmt: skip
        self.assertIn("P20", county["cases:case_plan"], "no plan without the household's consent")
        for absent in ("cases:case_close", "cases:case_start", "cases:case_request_appraisal", "cases:case_visit"):
            self.assertNotIn(absent, county)
        village = self.moves("village", case)
        self.assertEqual(
            set(village),
            {"cases:case_edit", "cases:case_apply", "cases:case_transitional", "cases:case_photo", "cases:case_sign"},
        )
        self.assertEqual(village["cases:case_sign"], "")
        self.assertEqual(self.moves("department", case), {})
        self.assertEqual(self.moves("supervisor", case), {})
        self.assertEqual(self.moves("appraiser", case), {})

    def test_signoffs_follow_the_level_and_the_order(self) -> None:
        """policy: P2 — each level signs at its own level, bottom up; a signed clear is not offered again."""
        case = self.new_case()
        town = [m for m in case_moves(self.users["town"], case_get(self.users["town"], case.pk))
                if m.url_name == "cases:case_sign"]  # fmt: skip
        self.assertEqual({m.kwargs["kind"] for m in town}, {"problem", "appraisal"})
        self.assertTrue(all("村级" in m.blocked for m in town))
        cases.sign(case, "problem")
        signs = [m.kwargs["kind"] for m in case_moves(self.users["village"], case_get(self.users["village"], case.pk))
                 if m.url_name == "cases:case_sign"]  # fmt: skip
        self.assertEqual(signs, ["appraisal"])
        self.assertFalse(may_move(self.users["county"], case_get(self.users["county"], case.pk), "cases:case_close"))
        county = [m for m in case_moves(self.users["county"], case_get(self.users["county"], case.pk))
                  if m.url_name == "cases:case_sign"]  # fmt: skip
        self.assertEqual([(m.kwargs["kind"], "乡镇级" in m.blocked) for m in county], [("appraisal", True)])
        # the town's staff answer for every village of the town, a village's staff only for their own village
        other = self.new_case("home_town")
        self.assertTrue(may_move(self.users["town"], case_get(self.users["town"], other.pk), "cases:case_sign"))
        self.assertEqual(signer_level(self.users["village"], other), None)

    def test_moves_along_the_works(self) -> None:
        """policy: P22 — no start without design and builder, no completion before a visit or with open fixes."""
        case = cases.advance(self.new_case(), CaseState.PLANNED)
        county = self.moves("county", case)
        self.assertEqual(county["cases:case_start"], "尚缺：结构设计、施工工匠（P22）")
        self.assertNotIn("cases:case_plan", county)
        actor = cases.manager(case)
        works.renovation_design(actor=actor, case=case, design_kind="atlas", design_reference="陕农房-A1")
        works.renovation_builder(actor=actor, case=case, builder=cases.craftsman(case))
        self.assertEqual(self.moves("county", case)["cases:case_start"], "")
        case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
        county = self.moves("county", case)
        self.assertIn("巡查", county["cases:case_complete"])
        self.assertEqual(county["cases:case_visit"], "")
        self.assertNotIn("cases:case_secure", county)
        visit = works.site_visit_add(actor=cases.manager(case), case=case, visited_on=TODAY, findings="x",
                                     needs_fix=True, fix_due_on=TODAY)  # fmt: skip
        housing = works.transitional_add(
            actor=cases.manager(case), case=case, kind="rented", place="租房", from_on=TODAY
        )
        county = self.moves("county", case)
        self.assertIn("整改", county["cases:case_complete"])
        self.assertIn("cases:visit_fix", county)
        self.assertIn("cases:transitional_confirm", county)
        self.as_user("county")
        page = self.client.get(reverse("cases:case_detail", kwargs={"pk": case.pk}))
        self.assertContains(page, reverse("cases:visit_fix", kwargs={"pk": visit.pk}))
        self.assertContains(page, reverse("cases:transitional_confirm", kwargs={"pk": housing.pk}))
        village = self.moves("village", case)
        self.assertNotIn("cases:visit_fix", village)
        self.assertIn("cases:transitional_confirm", village)

    def test_close_needs_the_twelve_signatures_and_ended_cases_offer_little(self) -> None:
        """policy: P2"""
        case = cases.advance(self.new_case(), CaseState.ACCEPTED)
        county = self.moves("county", case)
        self.assertIn("12", county["cases:case_close"])
        self.assertIn("cases:case_payment", county)
        case = cases.sign(case)
        self.assertEqual(self.moves("county", case)["cases:case_close"], "")
        case = cases.advance(case, CaseState.CLOSED)
        self.assertEqual(set(self.moves("county", case)), {"cases:case_payment", "cases:case_photo"})
        self.assertEqual(self.moves("village", case), {"cases:case_photo": ""})
        self.as_user("department")
        self.assertContains(self.client.get(reverse("cases:case_detail", kwargs={"pk": case.pk})), "该台账已结束")

    def test_registered_case_without_a_house(self) -> None:
        case = case_services.case_open(
            actor=cases.manager(self.new_case()),
            household=factories.household(self.villages["home"]),
            source="complaint",
            description="信访反映",
        )
        county = self.moves("county", case)
        self.assertIn("cases:case_cancel", county)
        self.assertNotIn("cases:case_request_appraisal", county, "no appraisal request without a house")
        with_house = case_services.case_open(
            actor=cases.manager(case),
            household=case.household,
            house=factories.house(case.household),
            source="complaint",
            description="信访反映",
        )
        self.assertIn("cases:case_request_appraisal", self.moves("village", with_house))
        self.assertIn("cases:case_use_appraisal", self.moves("county", with_house))
