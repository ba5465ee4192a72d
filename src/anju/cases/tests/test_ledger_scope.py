"""The ledger page, the case page and the case files under the scope/permission helper (P19): anonymous → login,
no role → 403, another county's or a sibling town's case → 404 and absent from the list; query budgets."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from anju.cases.models import Case
from anju.cases.services import cases as case_services
from anju.cases.services import renovation as works
from anju.testing import cases, factories
from anju.testing.scope import ScopeTestCase, ViewTestCases

TODAY = dt.date.today()


def png(colour: str = "red", size: tuple[int, int] = (640, 480)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


class LedgerWorld(ScopeTestCase):
    """A case appraised C in every fixture village; files are written to a temporary media root."""

    __test__ = False
    model = Case

    @classmethod
    def setUpClass(cls) -> None:
        cls.media_root = tempfile.mkdtemp(prefix="anju-test-media-")
        cls.media_override = override_settings(MEDIA_ROOT=cls.media_root)
        cls.media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.media_override.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    @classmethod
    def build_in_scope(cls, village):
        return cases.dangerous_case(factories.house(factories.household(village)))


class CasePageTests(LedgerWorld, ViewTestCases.ListView, ViewTestCases.DetailView):
    """cases:case_list and cases:case_detail for every role and level."""

    def test_out_of_scope_case_is_absent_from_a_name_search(self) -> None:
        self.as_user("county")
        name = self.out_of_scope.household.head_name
        response = self.client.get(reverse("cases:case_list"), {"q": name})
        self.assertEqual(response.context["page"].paginator.count, 0)
        self.assertNotContains(response, f'id="case-{self.out_of_scope.pk}"')
        self.assertContains(response, 'id="empty-state"')


class CaseFileTests(LedgerWorld):
    """Photos and uploaded designs are served only through the scope (404 outside it)."""

    covers = ("cases:case_photo_file", "cases:design_file")

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.photos = {}
        for key, case in (("home", cls.in_scope[0]), ("other_county", cls.out_of_scope)):
            actor = cases.manager(case)
            cls.photos[key] = works.case_photo_add(actor=actor, case=case, stage="before", file=png())
            design = SimpleUploadedFile("design.pdf", b"%PDF-1.4 test design", content_type="application/pdf")
            works.renovation_design(actor=actor, case=case, design_kind="custom", design_file=design)

    def test_photo_in_scope_full_and_thumbnail(self) -> None:
        url = reverse("cases:case_photo_file", kwargs={"pk": self.photos["home"].pk})
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("no_role")
        self.assertEqual(self.client.get(url).status_code, 403)
        for key in ("village", "town", "county", "department", "supervisor"):
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Content-Type"], "image/png")
                self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        thumb = self.client.get(url, {"thumb": "1"})
        self.assertEqual(thumb["Content-Type"], "image/jpeg")
        with Image.open(io.BytesIO(thumb.content)) as image:
            self.assertLessEqual(max(image.size), 480)

    def test_photo_out_of_scope_is_404(self) -> None:
        for key, photo in [("county", "other_county"), ("other_county", "home"), ("no_division", "home")]:
            with self.subTest(user=key):
                self.as_user(key)
                url = reverse("cases:case_photo_file", kwargs={"pk": self.photos[photo].pk})
                self.assertEqual(self.client.get(url).status_code, 404)
                self.assertEqual(self.client.get(url, {"thumb": "1"}).status_code, 404)

    def test_design_file_in_and_out_of_scope(self) -> None:
        home = reverse("cases:design_file", kwargs={"pk": self.in_scope[0].pk})
        shenmu = reverse("cases:design_file", kwargs={"pk": self.out_of_scope.pk})
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(home))
        self.as_user("village")
        response = self.client.get(home)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertEqual(b"".join(response.streaming_content), b"%PDF-1.4 test design")
        self.assertEqual(self.client.get(shenmu).status_code, 404)
        self.as_user("other_county")
        self.assertEqual(self.client.get(home).status_code, 404)
        self.assertEqual(self.client.get(shenmu).status_code, 200)
        # a case without an uploaded design has nothing to serve
        self.as_user("county")
        plain = reverse("cases:design_file", kwargs={"pk": self.in_scope[1].pk})
        self.assertEqual(self.client.get(plain).status_code, 404)

    def test_case_page_links_its_design_and_thumbnails(self) -> None:
        self.as_user("town")
        response = self.client.get(reverse("cases:case_detail", kwargs={"pk": self.in_scope[0].pk}))
        self.assertContains(response, reverse("cases:design_file", kwargs={"pk": self.in_scope[0].pk}))
        photo = reverse("cases:case_photo_file", kwargs={"pk": self.photos["home"].pk})
        self.assertContains(response, f'src="{photo}?thumb=1"')


class LedgerQueryCountTests(LedgerWorld):
    """The list and the case page cost the same number of queries for few and many rows (no N+1)."""

    def test_case_list_page(self) -> None:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        actor = factories._system(village)
        rows: list[Case] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                household = factories.household(village)
                house = factories.house(household) if len(rows) % 2 else None
                rows.append(
                    case_services.case_open(
                        actor=actor, household=household, house=house, source="complaint", description="信访反映"
                    )
                )

        self.as_user("county")
        url = reverse("cases:case_list")
        self.assertQueryCountsStable("cases:case_list", grow=grow, fetch=lambda: self.client.get(url), sizes=(3, 30))

    def test_case_page(self) -> None:
        case = cases.advance(self.in_scope[1], "under_construction")
        actor = cases.manager(case)
        visits: list[Any] = []

        def grow(n: int) -> None:
            while len(visits) < n:
                visits.append(
                    works.site_visit_add(actor=actor, case=case, visited_on=TODAY, findings="墙体砌筑", needs_fix=True,
                                         fix_due_on=TODAY + dt.timedelta(days=7))
                )  # fmt: skip
                works.transitional_add(actor=actor, case=case, kind="relatives", place="亲戚家", from_on=TODAY)
                works.case_photo_add(actor=actor, case=case, stage="during", file=png(f"#{len(visits):06x}"))

        self.as_user("county")
        url = reverse("cases:case_detail", kwargs={"pk": case.pk})
        self.assertQueryCountsStable("cases:case_detail", grow=grow, fetch=lambda: self.client.get(url), sizes=(1, 4))
