"""Scope of the ledger and rectification downloads: every role and level gets exactly its subtree (DESIGN
"Jurisdiction"); whole ID numbers only for `registry.view_id` and only on request, audited (PIPL); P1, P19."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.utils import timezone
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseState
from anju.core import idnumber
from anju.divisions.models import Division
from anju.testing import cases, factories
from anju.testing.scope import CITY, ScopeTestCase


def workbook(response) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


class ExportScopeTestCase(ScopeTestCase):
    __test__ = False
    model = Case

    @classmethod
    def build_in_scope(cls, village: Division) -> Case:
        return cases.dangerous_case(factories.house(factories.household(village)))

    def get(self, key: str | None, name: str, **params):
        self.as_user(key)
        return self.client.get(f"/cases/export/{name}.xlsx", params)


class LedgerExportScopeTests(ExportScopeTestCase):
    covers = ("cases:ledger_export",)

    def rows(self, key: str, **params) -> list[list]:
        response = self.get(key, "ledger", **params)
        self.assertEqual(response.status_code, 200, getattr(response, "content", b"")[:300])
        self.assertIn("spreadsheetml", response["Content-Type"])
        return next(iter(workbook(response).values()))

    def test_anonymous_redirects_and_no_role_is_refused(self) -> None:
        self.assertLoginRedirect(self.get(None, "ledger"))
        self.assertEqual(self.get("no_role", "ledger").status_code, 403)
        self.assertEqual(self.get("no_division", "ledger").status_code, 404)  # fail closed: no subtree, no file

    def test_each_user_exports_exactly_their_scope(self) -> None:
        names = {c.pk: c.household.head_name for c in self.fixture_objects()}
        keys = [k for k in self.user_keys() if self.may(k, "view") and k != "no_division"]
        self.assertGreaterEqual(len(keys), 6)
        for key in keys:
            with self.subTest(user=key):
                rows = self.rows(key)
                self.assertEqual(rows[1][:6], ["序号", "县", "乡镇", "村", "户主姓名", "身份证号码"])
                expected = {names[o.pk] for o in self.fixture_objects() if self.can_see(key, o)}
                self.assertEqual({r[4] for r in rows[2:]}, expected)
                self.assertEqual(len(rows) - 2, self.expected_count(key))

    def test_other_county_has_no_yuyang_rows_and_a_foreign_division_is_404(self) -> None:
        rows = self.rows("other_county")
        self.assertEqual({r[1] for r in rows[2:]}, {"神木市"})
        self.assertEqual(self.get("other_county", "ledger", division=factories.YUYANG).status_code, 404)
        self.assertEqual(self.get("town", "ledger", division=factories.YUYANG_TOWN_2).status_code, 404)
        self.assertEqual(self.get("county", "ledger", division="not-a-code").status_code, 404)

    def test_page_filters_narrow_the_export(self) -> None:
        """division, state, source, grade, late, q: the ledger page's filters through `case_filter`."""
        sibling = self.in_sibling_town.household.head_name
        self.assertEqual([r[4] for r in self.rows("county", division=factories.YUYANG_TOWN_2)[2:]], [sibling])
        self.assertEqual(len(self.rows("county", state=CaseState.CLOSED)), 2)
        self.assertEqual(len(self.rows("county", state=CaseState.APPRAISED, grade="C", source="suspected")), 6)
        self.assertEqual(len(self.rows("county", late="1")), 2)  # due next May or November: none is late yet
        self.assertEqual([r[4] for r in self.rows("county", q=sibling)[2:]], [sibling])
        self.assertEqual(len(self.rows("county", state="bogus", responsible="x", due_soon="false")), 6)

    def test_full_ids_only_with_the_permission_and_the_flag(self) -> None:
        household = self.in_scope[0].household
        full = idnumber.decrypt(household.id_cipher)
        for key, shown in [("county", full), ("town", full), ("village", household.id_masked),
                           ("department", household.id_masked), ("supervisor", household.id_masked)]:  # fmt: skip
            with self.subTest(user=key):
                row = next(r for r in self.rows(key, full_id="1")[2:] if r[4] == household.head_name)
                self.assertEqual(row[5], shown)
                event = Event.objects.filter(action=Action.LEDGER_EXPORTED).latest("id")
                self.assertEqual(event.actor_id, self.users[key].pk)
                self.assertEqual(event.extra["full_ids"], event.extra["rows"] if shown == full else 0)
        row = next(r for r in self.rows("county")[2:] if r[4] == household.head_name)
        self.assertEqual(row[5], household.id_masked)  # allowed, but not asked for

    def test_download_name_names_the_division_and_day(self) -> None:
        response = self.get("county", "ledger")
        name = f"危房台账_榆阳区_{timezone.localdate():%Y%m%d}.xlsx"
        self.assertIn("attachment", response["Content-Disposition"])
        self.assertIn(f"filename*=utf-8''{quote(name)}", response["Content-Disposition"])


class RectificationExportScopeTests(ExportScopeTestCase):
    covers = ("cases:rectification_export",)

    def summary(self, key: str, **params) -> dict[str, list]:
        response = self.get(key, "rectification", **params)
        self.assertEqual(response.status_code, 200, getattr(response, "content", b"")[:300])
        book = workbook(response)
        self.assertIn("说明", book)
        return {r[1]: r for r in book["整改情况汇总"][3:]}

    def test_anonymous_redirects_and_no_role_is_refused(self) -> None:
        self.assertLoginRedirect(self.get(None, "rectification"))
        self.assertEqual(self.get("no_role", "rectification").status_code, 403)
        self.assertEqual(self.get("no_division", "rectification").status_code, 404)

    def test_default_is_the_users_division_with_one_row_per_child(self) -> None:
        rows = self.summary("county")
        towns = Division.objects.filter(parent_id=factories.YUYANG).order_by("code").values_list("name", flat=True)
        self.assertEqual(list(rows), [*towns, "合计"])
        home = Division.objects.get(code=factories.YUYANG_TOWN).name
        sibling = Division.objects.get(code=factories.YUYANG_TOWN_2).name
        self.assertEqual((rows[home][2], rows[sibling][2], rows["合计"][2]), (3, 1, 4))  # 台账总数
        villages = self.summary("town")
        self.assertEqual(villages["合计"][2], 3)
        self.assertEqual(villages[self.villages["home"].name][2], 2)

    def test_each_user_counts_only_their_subtree(self) -> None:
        keys = [k for k in self.user_keys() if self.may(k, "view") and k != "no_division"]
        for key in keys:
            with self.subTest(user=key):
                rows = self.summary(key, division=self.users[key].division_id)
                self.assertEqual(rows["合计"][2], self.expected_count(key))
        city = self.summary("supervisor", division=CITY)
        self.assertEqual((city["榆阳区"][2], city["神木市"][2]), (4, 1))

    def test_a_foreign_or_unknown_division_is_404(self) -> None:
        self.assertEqual(self.get("other_county", "rectification", division=factories.YUYANG).status_code, 404)
        self.assertEqual(self.get("county", "rectification", division=CITY).status_code, 404)
        self.assertEqual(self.get("county", "rectification", division="999999999999").status_code, 404)

    def test_audited_and_named(self) -> None:
        response = self.get("county", "rectification", division=factories.YUYANG)
        self.assertEqual(response.status_code, 200)
        name = f"整改情况汇总_榆阳区_{timezone.localdate():%Y%m%d}.xlsx"
        self.assertIn(f"filename*=utf-8''{quote(name)}", response["Content-Disposition"])
        event = Event.objects.filter(action=Action.RECTIFICATION_EXPORTED).latest("id")
        self.assertEqual((event.actor_id, event.division_code), (self.users["county"].pk, factories.YUYANG))
