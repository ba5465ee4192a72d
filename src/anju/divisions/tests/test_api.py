"""Division API under the scope/permission helper: the tree is scoped like every other model."""

from __future__ import annotations

import itertools
from typing import Any

from django.urls import reverse

from anju.divisions.models import Division
from anju.testing import factories
from anju.testing.scope import APIViewTestCases, ScopeTestCase

_numbers = itertools.count(50)


class DivisionAPITests(APIViewTestCases.ListView, APIViewTestCases.DetailView):
    model = Division
    api_basename = "divisions"
    api_id_field = "code"

    @classmethod
    def build_in_scope(cls, village: Division) -> Division:
        """A new village beside `village` (same town): the tree's own rows are the scoped objects."""
        return factories.village(village.parent_id, next(_numbers))

    def url_kwargs(self, obj: Division) -> dict[str, Any]:
        return {"code": obj.code}

    def test_children_filter_stays_in_scope(self) -> None:
        url = self.api_url("list")
        self.assertEqual(self.api("GET", url, "county", division=factories.SHENMU).json(), {"items": [], "count": 0})
        body = self.api("GET", url, "other_county", division=factories.SHENMU).json()
        self.assertGreater(body["count"], 0)
        self.assertTrue(all(item["parent_code"] == factories.SHENMU for item in body["items"]))
        body = self.api("GET", url, "town", division=factories.YUYANG).json()
        self.assertEqual([item["code"] for item in body["items"]], [factories.YUYANG_TOWN])

    def test_level_filter_stays_in_scope(self) -> None:
        url = self.api_url("list")
        counties = self.api("GET", url, "county", level="county").json()
        self.assertEqual([item["code"] for item in counties["items"]], [factories.YUYANG])
        self.assertEqual(self.api("GET", url, "admin", level="county").json()["count"], 12)
        self.assertEqual(self.api("GET", url, "town", level="county").json()["count"], 0)

    def test_ancestors_are_out_of_scope(self) -> None:
        for key, code in [("county", "610800000000"), ("town", factories.YUYANG), ("village", factories.YUYANG_TOWN)]:
            with self.subTest(user=key):
                response = self.api("GET", reverse("api:divisions_detail", kwargs={"code": code}), key)
                self.assertEqual(response.status_code, 404)

    def test_unknown_code_is_404(self) -> None:
        for code in ("610802999999", "abc"):
            with self.subTest(code=code):
                response = self.api("GET", reverse("api:divisions_detail", kwargs={"code": code}), "admin")
                self.assertEqual(response.status_code, 404)


class DivisionAPIQueryCountTests(ScopeTestCase):
    def test_divisions_list(self) -> None:
        town = "610802003000"
        villages: list[Division] = []

        def grow(n: int) -> None:
            while len(villages) < n:
                villages.append(factories.village(town, len(villages) + 1))

        url = reverse("api:divisions_list")
        self.assertQueryCountsStable(
            "api:divisions_list",
            grow=grow,
            fetch=lambda: self.api("GET", url, "county", division=town),
            sizes=(3, 30),
        )
        self.assertEqual(self.api("GET", url, "county", division=town).json()["count"], 30)
