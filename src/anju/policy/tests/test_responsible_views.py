"""Alerts per responsible person (issue 4, P18, P19): the summary page under the scope helper, its links into the
filtered alert list, and the alert list's rule and responsible filters with the ledger's rules."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import parse_qs, urlparse

from django.urls import reverse

from anju.cases.models import Case
from anju.divisions.models import Division
from anju.policy.models import Alert, AlertStatus
from anju.policy.services import alerts_refresh
from anju.testing import cases, factories
from anju.testing.scope import ScopeTestCase

from .builders import listed_household

URL = "policy:responsible_summary"
LATE = "P19.case_late"


class ResponsibleSummaryViewTests(ScopeTestCase):
    model = Alert
    covers = (URL,)

    @classmethod
    def build_in_scope(cls, village: Division) -> Alert:
        return Alert.objects.get(household=listed_household(village))

    def summary(self, key: str | None, **params):
        self.as_user(key)
        return self.client.get(reverse(URL), params)

    def rows(self, response) -> dict[int | None, dict]:
        self.assertEqual(response.status_code, 200)
        return {person["id"]: person for person in response.context["page"].object_list}

    def late_case(self, village: Division) -> Case:
        """A P19 late case in `village`: appraised C on 30 June 2025, due 30 November 2025, never built."""
        house = factories.house(factories.household(village), structure="brick_concrete")
        case = cases.dangerous_case(house, appraised_on=dt.date(2025, 6, 30))
        alerts_refresh(household_ids=[case.household_id])
        return case

    def test_anonymous_redirects_and_no_role_is_refused(self) -> None:
        self.assertLoginRedirect(self.summary(None))
        self.assertEqual(self.summary("no_role").status_code, 403)

    def test_each_user_sees_the_people_of_their_subtree_only(self) -> None:
        for key in self.user_keys():
            if not self.may(key, "view"):
                continue
            with self.subTest(user=key):
                rows = self.rows(self.summary(key))
                expected = Counter(a.responsible_id for a in self.fixture_objects() if self.can_see(key, a))
                self.assertEqual({pk: row["total"] for pk, row in rows.items()}, dict(expected))
                self.assertEqual(self.summary(key).context["summary"]["total"], sum(expected.values()))
        county = self.rows(self.summary("county"))
        self.assertEqual(
            set(county), {self.users["village"].pk, self.users["town"].pk, self.users["county"].pk}
        )  # the county manager answers for the sibling town, where nobody works
        self.assertNotIn(self.users["other_county"].pk, county)
        self.assertEqual(set(self.rows(self.summary("village"))), {self.users["village"].pk})

    def test_counts_by_rule_link_to_the_filtered_alert_list(self) -> None:
        case = self.late_case(self.villages["home"])
        alert = Alert.objects.get(rule_id=LATE, object_id=case.pk)
        village_user = self.users["village"]
        response = self.summary("county")
        person = self.rows(response)[village_user.pk]
        rules = [r.id for r in response.context["summary"]["rules"]]
        self.assertIn(LATE, rules)
        counts = dict(zip(rules, person["per_rule"], strict=True))
        self.assertEqual((counts[LATE], counts["P7.monitoring"], person["total"]), (1, 2, 3))
        url = dict(zip(rules, [link for _n, link in person["links"]], strict=True))[LATE]
        self.assertEqual(parse_qs(urlparse(url).query), {"responsible": [str(village_user.pk)], "rule": [LATE]})
        self.assertContains(response, url.replace("&", "&amp;"))
        self.assertContains(response, reverse("responsibility:person_detail", kwargs={"pk": village_user.pk}))
        listed = self.client.get(url).context["page"]
        self.assertEqual([a.pk for a in listed.object_list], [alert.pk])
        self.assertContains(self.client.get(url), f"台账 #{case.pk}")
        everything = self.client.get(person["url"]).context["page"]
        self.assertEqual(everything.paginator.count, 3)

    def test_alerts_nobody_answers_for_are_listed_last(self) -> None:
        Alert.objects.filter(pk=self.in_town.pk).update(responsible=None, responsible_name="")
        response = self.summary("county")
        people = list(response.context["page"].object_list)
        self.assertEqual((people[-1]["id"], people[-1]["total"]), (None, 1))
        self.assertEqual(parse_qs(urlparse(people[-1]["url"]).query), {"responsible": ["none"]})
        self.assertContains(response, "未明确责任人")
        self.assertEqual(
            [a.pk for a in self.client.get(people[-1]["url"]).context["page"].object_list], [self.in_town.pk]
        )

    def test_only_open_alerts_count(self) -> None:
        Alert.objects.filter(pk=self.in_scope[0].pk).update(status=AlertStatus.RESOLVED)
        self.assertEqual(self.rows(self.summary("village"))[self.users["village"].pk]["total"], 1)

    def test_division_filter_narrows_and_cannot_widen(self) -> None:
        rows = self.rows(self.summary("county", division=factories.YUYANG_TOWN_2))
        self.assertEqual({pk: r["total"] for pk, r in rows.items()}, {self.users["county"].pk: 1})
        link = rows[self.users["county"].pk]["url"]
        self.assertEqual(parse_qs(urlparse(link).query)["division"], [factories.YUYANG_TOWN_2])
        self.assertEqual(self.rows(self.summary("county", division=factories.SHENMU)), {})

        def totals(**params) -> dict:
            return {pk: r["total"] for pk, r in self.rows(self.summary("town", **params)).items()}

        self.assertEqual(totals(division=factories.YUYANG), totals())  # the county's code: still only the town's
        self.assertEqual(totals(), {self.users["village"].pk: 2, self.users["town"].pk: 1})

    def test_bad_division_is_shown_not_500(self) -> None:
        response = self.summary("county", division="999999999999")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "区划代码999999999999不存在")

    def test_empty_state(self) -> None:
        Alert.objects.all().delete()
        self.assertContains(self.summary("county"), "本辖区目前没有未处理的预警")

    def test_query_count_does_not_grow_with_people(self) -> None:
        made: list = []

        def grow(n: int) -> None:
            while len(made) < n:
                village = factories.village(factories.YUYANG_TOWN, 20 + len(made))
                factories.user(f"officer_{village.code}", village.code, "village_staff")
                made.append(listed_household(village))

        self.as_user("county")
        url = reverse(URL)
        self.assertQueryCountsStable(URL, grow=grow, fetch=lambda: self.client.get(url), sizes=(2, 6))
        self.assertEqual(len(self.rows(self.client.get(url))), 3 + 6)


class AlertListLedgerRulesTests(ScopeTestCase):
    """The alert list's rule filter offers the ledger's rules; "我负责的" (responsible=me) is the current user."""

    model = Alert

    @classmethod
    def build_in_scope(cls, village: Division) -> Alert:
        return Alert.objects.get(household=listed_household(village))

    def test_rule_filter_offers_the_p19_rules(self) -> None:
        self.as_user("county")
        choices = dict(self.client.get(reverse("policy:alert_list")).context["form"].fields["rule"].choices)
        for rule_id in (LATE, "P19.case_due_soon", "P19.transitional_unsafe"):
            self.assertIn(rule_id, choices)

    def test_me_and_rule_together(self) -> None:
        house = factories.house(factories.household(self.villages["home"]), structure="brick_concrete")
        case = cases.dangerous_case(house, appraised_on=dt.date(2025, 6, 30))
        alerts_refresh(household_ids=[case.household_id])
        late = Alert.objects.get(rule_id=LATE)
        self.as_user("village")
        page = self.client.get(reverse("policy:alert_list"), {"responsible": "me", "rule": LATE}).context["page"]
        self.assertEqual([a.pk for a in page.object_list], [late.pk])
        self.as_user("town")
        page = self.client.get(reverse("policy:alert_list"), {"responsible": "me", "rule": LATE}).context["page"]
        self.assertEqual(page.paginator.count, 0)

    def test_a_person_answering_from_above_stays_selected(self) -> None:
        """A link may name someone who answers from above the user's subtree (the county manager answers where no
        one works below him): the name stays selected. Nobody of another subtree is ever named."""
        county = self.users["county"]
        self.as_user("town")
        form = self.client.get(reverse("policy:alert_list"), {"responsible": str(county.pk)}).context["form"]
        self.assertIn((str(county.pk), county.get_full_name()), form.fields["responsible"].widget.choices)
        other = self.users["other_county"]
        form = self.client.get(reverse("policy:alert_list"), {"responsible": str(other.pk)}).context["form"]
        self.assertNotIn(other.get_full_name(), dict(form.fields["responsible"].widget.choices).values())
