"""Campaign pages and endpoints under the scope/permission helper.

Campaigns are seen down the tree (a city campaign reaches every village) but changed only at their level, so the
expected visibility here adds the user's ancestors to the helper's prefix rule; writes need `inspections.manage`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.divisions.models import Division
from anju.inspections.models import Campaign, CampaignKind
from anju.testing import campaigns as c
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import CITY, LEVEL_DIGITS, APIViewTestCases, ScopeTestCase, ViewTestCases, prefix_of

YEAR = timezone.localdate().year
#: the helper's verbs, as inspections actions
VERBS = {"view": "view", "add": "manage", "change": "manage"}


class CampaignScope(ScopeTestCase):
    """Visibility: the prefix rule, plus the divisions above the user (checked here with the codes, in Python)."""

    __test__ = False
    model = Campaign
    create_action = Action.CAMPAIGN_CREATED
    update_action = Action.CAMPAIGN_CHANGED

    @classmethod
    def build_in_scope(cls, village: Division) -> Campaign:
        return c.campaign(
            village.code,
            CampaignKind.SPECIAL,
            name=f"{village.name}专项排查{Campaign.objects.count()}",
            starts_on=dt.date(YEAR, 5, 1),
            ends_on=dt.date(YEAR, 5, 31),
        )

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.city_campaign = c.campaign(CITY, year=YEAR)

    def may(self, key: str, verb: str) -> bool:
        return has_action(self.users[key], f"inspections.{VERBS.get(verb, verb)}")

    def code_visible(self, key: str, code: str) -> bool:
        user = self.users[key]
        prefix = prefix_of(user)
        if prefix is None or not self.may(key, "view"):
            return False
        level = Division.objects.get(code=code).level
        is_ancestor = code != user.division_id and user.division_id.startswith(code[: LEVEL_DIGITS[level]])
        return code.startswith(prefix) or is_ancestor


class CampaignViewTests(CampaignScope, ViewTestCases.PrimaryObjectViewTestCase):
    page_model = "campaign"

    def create_data(self, near: Campaign) -> dict[str, Any]:
        return {
            "kind": "flood",
            "name": "汛期排查",
            "division_code": near.division_id,
            "starts_on": f"{YEAR}-06-01",
            "ends_on": f"{YEAR}-09-30",
            "target_set": "all",
            "note": "",
        }

    def update_data(self, obj: Campaign) -> dict[str, Any]:
        return {"name": obj.name, "starts_on": obj.starts_on, "ends_on": obj.ends_on, "note": obj.note + "。"}

    def test_edit_other_county_and_sibling_town_are_404(self) -> None:
        """As the helper's, except that town staff do not manage campaigns at all: 403 before any lookup."""
        for key, obj, status in [
            ("county", self.out_of_scope, 404),
            ("other_county", self.in_scope[0], 404),
            ("town", self.in_sibling_town, 403),
        ]:
            with self.subTest(user=key):
                self.as_user(key)
                before, row = self.snapshot(), self.row(obj)
                response = self.client.post(self.page_url("edit", obj), self.update_data(self.fresh(obj)))
                self.assertEqual(response.status_code, status)
                self.assertNothingWritten(before, response)
                self.assertEqual(self.row(obj), row)

    def test_every_level_sees_the_city_campaign(self) -> None:
        for key in ("admin", "supervisor", "county", "other_county", "town", "village", "department", "appraiser"):
            with self.subTest(user=key):
                self.as_user(key)
                listed, _count = self.list_all()
                self.assertIn(self.city_campaign.pk, listed)
                self.assertEqual(self.client.get(self.page_url("detail", self.city_campaign)).status_code, 200)

    def test_county_sees_but_cannot_edit_the_city_campaign(self) -> None:
        self.as_user("county")
        url = self.page_url("edit", self.city_campaign)
        self.assertEqual(self.client.get(url).status_code, 403)
        before, row = self.snapshot(), self.row(self.city_campaign)
        response = self.client.post(url, self.update_data(self.city_campaign))
        self.assertEqual(response.status_code, 403)
        self.assertNothingWritten(before, response)
        self.assertEqual(self.row(self.city_campaign), row)
        detail = self.client.get(self.page_url("detail", self.city_campaign))
        self.assertNotContains(detail, url)
        self.as_user("admin")
        self.assertContains(self.client.get(self.page_url("detail", self.city_campaign)), url)

    def test_a_town_campaign_is_not_seen_by_a_sibling_town(self) -> None:
        campaign = c.campaign(factories.YUYANG_TOWN_2, "special", starts_on=dt.date(YEAR, 5, 1))
        self.as_user("town")
        self.assertEqual(self.client.get(self.page_url("detail", campaign)).status_code, 404)
        self.as_user("county")
        self.assertEqual(self.client.get(self.page_url("detail", campaign)).status_code, 200)

    def test_filters_by_kind_and_year(self) -> None:
        self.as_user("county")
        listed, _ = self.list_all(kind="annual")
        self.assertEqual(listed, {self.city_campaign.pk})
        listed, _ = self.list_all(year=YEAR - 5)
        self.assertEqual(listed, set())


class CampaignAnnualButtonTests(CampaignScope):
    """The one action "创建本年度年度核查": offered on the empty list to managers, a POST that creates it."""

    covers = ("inspections:campaign_annual",)

    @classmethod
    def setUpTestData(cls) -> None:
        ScopeTestCase.setUpTestData.__func__(cls)  # the world without the city's annual campaign

    def test_empty_list_offers_the_annual_check_to_managers_only(self) -> None:
        Campaign.objects.all().delete()
        for key in ("county", "admin"):
            self.as_user(key)
            response = self.client.get(reverse("inspections:campaign_list"))
            self.assertContains(response, "创建本年度年度核查")
            self.assertContains(response, reverse("inspections:campaign_annual"))
        for key in ("town", "village", "supervisor", "department"):
            self.as_user(key)
            self.assertNotContains(self.client.get(reverse("inspections:campaign_list")), "创建本年度年度核查")

    def test_post_creates_this_years_march_april_check(self) -> None:
        self.as_user("county")
        since = self.last_event_id()
        response = self.client.post(reverse("inspections:campaign_annual"))
        campaign = Campaign.objects.get(kind="annual")
        self.assertRedirects(response, reverse("inspections:campaign_detail", kwargs={"pk": campaign.pk}))
        self.assertEqual((campaign.starts_on, campaign.ends_on), (dt.date(YEAR, 3, 1), dt.date(YEAR, 4, 30)))
        self.assertEqual(campaign.division_id, factories.YUYANG)
        self.assertOneEvent(since, response, Action.CAMPAIGN_CREATED, self.users["county"], campaign)
        response = self.client.post(reverse("inspections:campaign_annual"), follow=True)  # twice: refused, explained
        self.assertContains(response, "已有")
        self.assertEqual(Campaign.objects.filter(kind="annual").count(), 1)

    def test_refused_without_manage_and_anonymous(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.post(reverse("inspections:campaign_annual")))
        for key in ("town", "village", "supervisor", "department", "appraiser", "no_role"):
            with self.subTest(user=key):
                self.as_user(key)
                self.assertEqual(self.client.post(reverse("inspections:campaign_annual")).status_code, 403)
        self.as_user("county")
        self.assertEqual(self.client.get(reverse("inspections:campaign_annual")).status_code, 405)
        self.assertFalse(Campaign.objects.filter(kind="annual").exists())


class CampaignUncheckedPageTests(CampaignScope):
    """The unchecked-households list of a campaign: scoped to the user's part of it, 404 elsewhere."""

    covers = ("inspections:campaign_unchecked",)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.households = {key: factories.household(v) for key, v in cls.villages.items()}

    def url(self, campaign: Campaign, **params: Any) -> str:
        return reverse("inspections:campaign_unchecked", kwargs={"pk": campaign.pk})

    def test_each_user_lists_only_their_unchecked_households(self) -> None:
        for key in self.user_keys():
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(self.url(self.city_campaign))
                if not self.may(key, "view"):
                    self.assertEqual(response.status_code, 403)
                    continue
                if prefix_of(self.users[key]) is None:
                    self.assertEqual(response.status_code, 404)
                    continue
                self.assertEqual(response.status_code, 200)
                listed = {h.pk for h in response.context["page"].object_list}
                expected = {
                    h.pk for h in self.households.values() if h.division_id.startswith(prefix_of(self.users[key]))
                }
                self.assertEqual(listed & {h.pk for h in self.households.values()}, expected)

    def test_drilling_outside_is_404_and_anonymous_redirects(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(self.url(self.city_campaign)))
        self.as_user("town")
        url = self.url(self.city_campaign)
        self.assertEqual(self.client.get(url, {"division": factories.YUYANG_TOWN_2}).status_code, 404)
        self.assertEqual(self.client.get(url, {"division": factories.YUYANG}).status_code, 404)
        self.as_user("county")
        self.assertEqual(self.client.get(url, {"division": factories.SHENMU}).status_code, 404)
        response = self.client.get(url, {"division": factories.YUYANG_TOWN_2})
        self.assertEqual({h.pk for h in response.context["page"].object_list}, {self.households["sibling_town"].pk})

    def test_checked_households_leave_the_list_with_a_link_to_record(self) -> None:
        c.check(self.city_campaign, self.households["home"])
        self.as_user("village")
        response = self.client.get(self.url(self.city_campaign))
        self.assertNotIn(self.households["home"].pk, {h.pk for h in response.context["page"].object_list})
        self.as_user("town")
        response = self.client.get(self.url(self.city_campaign))
        other = self.households["home_town"]
        self.assertContains(response, f"campaign={self.city_campaign.pk}&household={other.pk}")


class CampaignAPITests(CampaignScope, APIViewTestCases.PrimaryObjectAPITestCase):
    api_basename = "campaigns"

    def create_payload(self, near: Campaign) -> dict[str, Any]:
        return {
            "kind": "freeze_thaw",
            "division_code": near.division_id,
            "starts_on": f"{YEAR}-01-05",
            "ends_on": f"{YEAR}-03-15",
        }

    def update_payload(self, obj: Campaign) -> dict[str, Any]:
        return {"note": obj.note + "。"}

    def test_county_cannot_patch_the_city_campaign(self) -> None:
        before, row = self.snapshot(), self.row(self.city_campaign)
        response = self.api("PATCH", self.api_url("update", self.city_campaign), "county", {"note": "县里改"})
        body = assert_error_body(response, 403)
        self.assertIn("上级", body["detail"])
        self.assertNothingWritten(before, response)
        self.assertEqual(self.row(self.city_campaign), row)

    def test_create_names_the_campaign_and_reports_errors_in_chinese(self) -> None:
        response = self.api("POST", self.api_url("create"), "county", self.create_payload(self.in_scope[0]))
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["name"], f"{YEAR}年冻融排查")
        bad = self.create_payload(self.in_scope[0]) | {"ends_on": f"{YEAR}-01-01"}
        body = assert_error_body(self.api("POST", self.api_url("create"), "county", bad), 400)
        self.assertEqual(body["errors"][0]["field"], "ends_on")
        body = assert_error_body(
            self.api("POST", self.api_url("create"), "county", {"kind": "weekly", "starts_on": "x"}), 400
        )
        self.assertEqual({e["field"] for e in body["errors"]} >= {"kind", "starts_on", "ends_on"}, True)

    def test_detail_carries_the_progress_of_the_users_part(self) -> None:
        response = self.api("GET", self.api_url("detail", self.city_campaign), "town")
        self.assertEqual(response.status_code, 200)
        progress = response.json()["progress"]
        self.assertEqual(progress["division_code"], factories.YUYANG_TOWN)
        self.assertEqual(progress["child_level"], "village")

    def test_list_filters(self) -> None:
        listed, count = self.api_list_all("county", kind="annual", year=YEAR)
        self.assertEqual((listed, count), ({self.city_campaign.pk}, 1))
        listed, _ = self.api_list_all("admin", division=factories.SHENMU)
        self.assertIn(self.out_of_scope.pk, listed)
        self.assertIn(self.city_campaign.pk, listed)  # the city's campaign covers 神木 too
        self.assertNotIn(self.in_scope[0].pk, listed)
        assert_error_body(self.api_list("county", division="610802999999"), 400)


class CampaignAnnualAPITests(CampaignScope):
    covers = ("api:campaigns_create_annual",)

    @classmethod
    def setUpTestData(cls) -> None:
        ScopeTestCase.setUpTestData.__func__(cls)

    def url(self) -> str:
        return reverse("api:campaigns_create_annual")

    def test_annual_in_one_call(self) -> None:
        assert_error_body(self.api("POST", self.url(), None, {}), 401, errors=False)
        for key in ("town", "village", "supervisor", "department", "no_role"):
            assert_error_body(self.api("POST", self.url(), key, {}), 403, errors=False)
        since = self.last_event_id()
        response = self.api("POST", self.url(), "county", {"year": YEAR})
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["starts_on"], body["ends_on"]), (f"{YEAR}-03-01", f"{YEAR}-04-30"))
        self.assertEqual(body["division_code"], factories.YUYANG)
        self.assertOneEvent(since, response, Action.CAMPAIGN_CREATED, self.users["county"])
        assert_error_body(self.api("POST", self.url(), "county", {"year": YEAR}), 409)
        assert_error_body(self.api("POST", self.url(), "county", {"division_code": factories.SHENMU}), 403)
        assert_error_body(self.api("POST", self.url(), "no_division", {}), 403)


class CampaignProgressAPITests(CampaignScope):
    covers = ("api:campaigns_progress",)

    def url(self, campaign: Campaign) -> str:
        return reverse("api:campaigns_progress", kwargs={"pk": campaign.pk})

    def test_progress_for_every_user(self) -> None:
        for key in self.user_keys():
            with self.subTest(user=key):
                response = self.api("GET", self.url(self.city_campaign), key)
                if not self.may(key, "view"):
                    assert_error_body(response, 403, errors=False)
                elif prefix_of(self.users[key]) is None:
                    assert_error_body(response, 404, errors=False)
                else:
                    self.assertEqual(response.status_code, 200)
                    self.assertEqual(response.json()["division_code"], self.users[key].division_id)
        assert_error_body(self.api("GET", self.url(self.city_campaign), None), 401, errors=False)

    def test_town_user_cannot_widen_the_progress(self) -> None:
        for code in (factories.YUYANG, factories.YUYANG_TOWN_2, CITY, "610802999999"):
            with self.subTest(code=code):
                assert_error_body(
                    self.api("GET", self.url(self.city_campaign), "town", division=code), 404, errors=False
                )
        assert_error_body(self.api("GET", self.url(self.out_of_scope), "county"), 404, errors=False)
        response = self.api("GET", self.url(self.city_campaign), "county", division=factories.YUYANG_TOWN_2)
        self.assertEqual(response.json()["division_code"], factories.YUYANG_TOWN_2)


class CampaignQueryCountTests(CampaignScope):
    """Lists: the same number of queries for 3 rows and for 30 (query_counts.json)."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.qc_village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")

    def grow_campaigns(self, n: int) -> None:
        while Campaign.objects.filter(division=self.qc_village).count() < n:
            self.build_in_scope(self.qc_village)

    def grow_households(self, n: int) -> None:
        while len(self.qc_households) < n:
            self.qc_households.append(factories.household(self.qc_village))

    def test_campaign_list_page(self) -> None:
        self.as_user("county")
        url = reverse("inspections:campaign_list")
        self.assertQueryCountsStable(
            "inspections:campaign_list", grow=self.grow_campaigns, fetch=lambda: self.client.get(url), sizes=(3, 30)
        )

    def test_campaigns_api_list(self) -> None:
        url = reverse("api:campaigns_list")
        self.assertQueryCountsStable(
            "api:campaigns_list",
            grow=self.grow_campaigns,
            fetch=lambda: self.api("GET", url, "county", page_size=100),
            sizes=(3, 30),
        )

    def test_unchecked_page(self) -> None:
        self.qc_households: list = []
        self.as_user("county")
        url = reverse("inspections:campaign_unchecked", kwargs={"pk": self.city_campaign.pk})
        self.assertQueryCountsStable(
            "inspections:campaign_unchecked",
            grow=self.grow_households,
            fetch=lambda: self.client.get(url, {"division": self.qc_village.code}),
            sizes=(3, 30),
        )

    def test_progress_page_and_api(self) -> None:
        """Progress is three grouped queries whatever the number of villages, households or checks."""
        self.qc_households = []

        def grow(n: int) -> None:
            self.grow_households(n)
            for household in self.qc_households[: n // 2]:
                if not household.checks.exists():
                    c.check(self.city_campaign, household)

        self.as_user("county")
        detail = reverse("inspections:campaign_detail", kwargs={"pk": self.city_campaign.pk})
        self.assertQueryCountsStable(
            "inspections:campaign_detail",
            grow=grow,
            fetch=lambda: self.client.get(detail, {"division": factories.YUYANG_TOWN}),
            sizes=(3, 30),
        )
        api = reverse("api:campaigns_progress", kwargs={"pk": self.city_campaign.pk})
        self.assertQueryCountsStable(
            "api:campaigns_progress", grow=grow, fetch=lambda: self.api("GET", api, "county"), sizes=(3, 30)
        )
