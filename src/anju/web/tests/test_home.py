"""Home page and division drill-down: counts only from the user's subtree; other divisions are 404."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from anju.divisions.models import Division
from anju.registry.models import Household
from anju.testing import factories
from anju.testing.scope import CITY, HOME_VILLAGE, ScopeTestCase


class HomeTests(ScopeTestCase):
    model = Household
    covers = ("web:home", "web:division_summary")

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        household = factories.household(village)
        factories.house(household, grade="D", graded_on=dt.date(2021, 5, 14))
        return household

    def summary(self, code: str | None = None):
        url = reverse("web:division_summary", kwargs={"code": code}) if code else reverse("web:home")
        return self.client.get(url)

    def test_anonymous_redirects_to_login(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.summary())
        self.assertLoginRedirect(self.summary(factories.YUYANG))

    def test_home_counts_only_the_users_subtree(self) -> None:
        for key in self.user_keys():
            with self.subTest(user=key):
                self.as_user(key)
                response = self.summary()
                if not self.may(key, "view") or self.users[key].division_id is None:
                    self.assertEqual(response.status_code, 403)
                    continue
                self.assertEqual(response.status_code, 200)
                total = response.context["summary"]["total"]
                self.assertEqual(response.context["division"].code, self.users[key].division_id)
                self.assertEqual(total["households"], self.expected_count(key))
                self.assertEqual(total["dangerous"], self.expected_count(key))  # one D-grade house each
                for child, _ in response.context["summary"]["children"]:
                    self.assertTrue(self.code_visible(key, child.code), child.code)

    def test_other_county_sees_none_of_yuyang(self) -> None:
        self.as_user("other_county")
        self.assertEqual(self.summary().context["summary"]["total"]["households"], 1)
        self.as_user("county")
        self.assertEqual(self.summary().context["summary"]["total"]["households"], 4)

    def test_drill_down_for_every_user_and_division(self) -> None:
        codes = [CITY, factories.YUYANG, factories.SHENMU, factories.YUYANG_TOWN, factories.YUYANG_TOWN_2, HOME_VILLAGE]
        for key in self.user_keys():
            self.as_user(key)
            for code in codes:
                with self.subTest(user=key, code=code):
                    response = self.summary(code)
                    if not self.may(key, "view") or self.users[key].division_id is None:
                        self.assertEqual(response.status_code, 403)
                    elif self.code_visible(key, code):
                        self.assertEqual(response.status_code, 200)
                        self.assertEqual(response.context["division"].code, code)
                    else:
                        self.assertEqual(response.status_code, 404)

    def test_other_county_and_sibling_town_are_404(self) -> None:
        for key, code in [
            ("county", factories.SHENMU),
            ("other_county", factories.YUYANG),
            ("town", factories.YUYANG_TOWN_2),
            ("county", CITY),
            ("village", factories.YUYANG_TOWN),
        ]:
            with self.subTest(user=key, code=code):
                self.as_user(key)
                self.assertEqual(self.summary(code).status_code, 404)

    def test_unknown_code_is_404(self) -> None:
        self.as_user("admin")
        for code in ("610802999999", "abc"):
            with self.subTest(code=code):
                self.assertEqual(self.summary(code).status_code, 404)

    def test_breadcrumbs_stop_at_the_users_division(self) -> None:
        self.as_user("town")
        path = self.summary(HOME_VILLAGE).context["path"]
        self.assertEqual([d.code for d in path], [factories.YUYANG_TOWN, HOME_VILLAGE])


class HomeQueryCountTests(ScopeTestCase):
    """The summary groups by code prefix, so its query count does not grow with the rows."""

    def test_home(self) -> None:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        rows: list[Household] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                household = factories.household(village)
                factories.house(household, grade="C", graded_on=dt.date(2021, 5, 14))
                rows.append(household)

        self.as_user("county")
        url = reverse("web:home")
        self.assertQueryCountsStable("web:home", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30))
        self.assertEqual(self.client.get(url).context["summary"]["total"]["households"], 30)
