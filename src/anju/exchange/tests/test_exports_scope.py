"""Scope of the households and statistics downloads: every role and level gets exactly its subtree (DESIGN
"Jurisdiction"); a foreign or unknown division is 404; whole ID numbers only for `registry.view_id` and only on
request, audited (PIPL); the buttons on the household list and the summary page carry the filters and division."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.utils import timezone
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core import idnumber
from anju.divisions.models import Division
from anju.registry.models import Household
from anju.testing import factories
from anju.testing.scope import CITY, ScopeTestCase


def workbook(response) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


class ExportScopeTestCase(ScopeTestCase):
    __test__ = False
    model = Household

    @classmethod
    def build_in_scope(cls, village: Division) -> Household:
        household = factories.household(village)
        factories.house(household, structure="earth_cave")
        return household

    def get(self, key: str | None, name: str, **params):
        self.as_user(key)
        return self.client.get(f"/exports/{name}.xlsx", params)


class HouseholdsExportScopeTests(ExportScopeTestCase):
    covers = ("exchange:households_export",)

    def rows(self, key: str, **params) -> list[list]:
        response = self.get(key, "households", **params)
        self.assertEqual(response.status_code, 200, getattr(response, "content", b"")[:300])
        self.assertIn("spreadsheetml", response["Content-Type"])
        return workbook(response)["农户与房屋"]

    def test_anonymous_redirects_and_no_role_is_refused(self) -> None:
        self.assertLoginRedirect(self.get(None, "households"))
        self.assertEqual(self.get("no_role", "households").status_code, 403)
        self.assertEqual(self.get("no_division", "households").status_code, 404)  # fail closed

    def test_each_user_exports_exactly_their_scope(self) -> None:
        names = {o.pk: o.head_name for o in self.fixture_objects()}
        keys = [k for k in self.user_keys() if self.may(k, "view") and k != "no_division"]
        self.assertGreaterEqual(len(keys), 6)
        for key in keys:
            with self.subTest(user=key):
                rows = self.rows(key)
                self.assertEqual(rows[0][:7], ["区划代码", "县（市、区）", "乡镇（街道）", "行政村", "村民小组",
                                               "户主姓名", "身份证号码"])  # fmt: skip
                expected = {names[o.pk] for o in self.fixture_objects() if self.can_see(key, o)}
                self.assertEqual({r[5] for r in rows[1:]}, expected)
                self.assertEqual(len(rows) - 1, self.expected_count(key))

    def test_foreign_or_unknown_division_is_404(self) -> None:
        self.assertEqual(self.get("other_county", "households", division=factories.YUYANG).status_code, 404)
        self.assertEqual(self.get("town", "households", division=factories.YUYANG_TOWN_2).status_code, 404)
        self.assertEqual(self.get("county", "households", division="not-a-code").status_code, 404)
        self.assertEqual(self.get("county", "households", division="999999999999").status_code, 404)

    def test_the_list_pages_filters_narrow_the_export(self) -> None:
        sibling = self.in_sibling_town.head_name
        self.assertEqual([r[5] for r in self.rows("county", division=factories.YUYANG_TOWN_2)[1:]], [sibling])
        self.assertEqual([r[5] for r in self.rows("county", q=sibling)[1:]], [sibling])
        self.assertEqual(len(self.rows("county", structure="frame")), 1)  # header only
        self.assertEqual(len(self.rows("county", structure="earth_cave", grade="U", idle="0", target="0")), 5)
        self.assertEqual(len(self.rows("county", grade="bogus")), 5)  # as on the page: a bad filter narrows nothing

    def test_full_ids_only_with_the_permission_and_the_flag(self) -> None:
        household = self.in_scope[0]
        full = idnumber.decrypt(household.id_cipher)
        for key, shown in [("county", full), ("town", full), ("village", household.id_masked),
                           ("department", household.id_masked), ("supervisor", household.id_masked)]:  # fmt: skip
            with self.subTest(user=key):
                row = next(r for r in self.rows(key, full_id="1")[1:] if r[5] == household.head_name)
                self.assertEqual(row[6], shown)
                event = Event.objects.filter(action=Action.HOUSEHOLDS_EXPORTED).latest("id")
                self.assertEqual(event.actor_id, self.users[key].pk)
                self.assertEqual(event.extra["full_ids"], event.extra["households"] if shown == full else 0)
        row = next(r for r in self.rows("county")[1:] if r[5] == household.head_name)
        self.assertEqual(row[6], household.id_masked)  # allowed, but not asked for

    def test_download_name_and_the_list_pages_buttons(self) -> None:
        response = self.get("county", "households")
        name = f"农户与房屋_榆阳区_{timezone.localdate():%Y%m%d}.xlsx"
        self.assertIn(f"filename*=utf-8''{quote(name)}", response["Content-Disposition"])
        self.as_user("county")
        page = self.client.get("/households/", {"division": factories.YUYANG_TOWN, "grade": "C"}).content.decode()
        self.assertIn(f'href="/exports/households.xlsx?division={factories.YUYANG_TOWN}&amp;grade=C"', page)
        self.assertIn('id="households-export-full"', page)
        self.as_user("village")
        self.assertNotIn('id="households-export-full"', self.client.get("/households/").content.decode())


class StatisticsExportScopeTests(ExportScopeTestCase):
    covers = ("exchange:statistics_export",)

    def table(self, key: str, **params) -> dict[str, list]:
        response = self.get(key, "statistics", **params)
        self.assertEqual(response.status_code, 200, getattr(response, "content", b"")[:300])
        book = workbook(response)
        self.assertEqual(list(book), ["分区划统计", "全部下辖区划", "说明"])
        return {r[1]: r for r in book["分区划统计"][3:]}

    def test_anonymous_redirects_and_no_role_is_refused(self) -> None:
        self.assertLoginRedirect(self.get(None, "statistics"))
        self.assertEqual(self.get("no_role", "statistics").status_code, 403)
        self.assertEqual(self.get("no_division", "statistics").status_code, 404)

    def test_each_user_counts_only_their_subtree(self) -> None:
        keys = [k for k in self.user_keys() if self.may(k, "view") and k != "no_division"]
        for key in keys:
            with self.subTest(user=key):
                rows = self.table(key)
                self.assertEqual(rows["合计"][2], self.expected_count(key))  # 农户数
        city = self.table("supervisor", division=CITY)
        self.assertEqual((city["榆阳区"][2], city["神木市"][2]), (4, 1))
        towns = self.table("county")
        home = Division.objects.get(code=factories.YUYANG_TOWN).name
        self.assertEqual(towns[home][2], 3)

    def test_a_foreign_or_unknown_division_is_404(self) -> None:
        self.assertEqual(self.get("other_county", "statistics", division=factories.YUYANG).status_code, 404)
        self.assertEqual(self.get("county", "statistics", division=CITY).status_code, 404)
        self.assertEqual(self.get("county", "statistics", division="999999999999").status_code, 404)

    def test_audited_named_and_the_summary_pages_button(self) -> None:
        response = self.get("county", "statistics", division=factories.YUYANG)
        name = f"分区划统计表_榆阳区_{timezone.localdate():%Y%m%d}.xlsx"
        self.assertIn(f"filename*=utf-8''{quote(name)}", response["Content-Disposition"])
        event = Event.objects.filter(action=Action.STATISTICS_EXPORTED).latest("id")
        self.assertEqual((event.actor_id, event.division_code), (self.users["county"].pk, factories.YUYANG))
        self.as_user("county")
        page = self.client.get(f"/divisions/{factories.YUYANG_TOWN}/").content.decode()
        self.assertIn(f'href="/exports/statistics.xlsx?division={factories.YUYANG_TOWN}"', page)
