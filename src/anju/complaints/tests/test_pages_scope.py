"""Hotlines (P14), the complaint export, the dashboard counts and publicity photos in every user's scope, and the
query budgets of the lists (3 rows and 30 cost the same)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from PIL import Image
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import ScopeTestCase

from .. import selectors, services
from ..models import Complaint, Hotline, PublicityActivity
from .world import activity, complaint, county_manager, incident

TODAY = dt.date.today()


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(buffer, "PNG")
    return SimpleUploadedFile("meeting.png", buffer.getvalue(), content_type="image/png")


class HotlineScopeTests(ScopeTestCase):
    """P14: each county's published hotline is seen in its county (by town and village staff too) and the city;
    only `complaints.handle` at the county or above sets it."""

    covers = ("complaints:hotline_list", "complaints:hotline_set", "api:hotlines_list", "api:hotlines_set")

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for code, number in ((factories.YUYANG, "0912-3288000"), (factories.SHENMU, "0912-8321000")):
            services.hotline_set(
                actor=county_manager(code),
                division_code=code,
                number=number,
                published_on=TODAY,
                published_where="网站",
            )
        cls.yuyang, cls.shenmu = (
            Hotline.objects.get(division_id=factories.YUYANG),
            Hotline.objects.get(division_id=factories.SHENMU),
        )

    def test_list_page_and_api_for_every_user(self) -> None:
        both, yuyang, shenmu = {self.yuyang.pk, self.shenmu.pk}, {self.yuyang.pk}, {self.shenmu.pk}
        expected = {
            "admin": both,
            "supervisor": both,
            "county": yuyang,
            "town": yuyang,
            "village": yuyang,
            "department": yuyang,
            "appraiser": yuyang,
            "other_county": shenmu,
            "no_division": set(),
        }
        for key, pks in expected.items():
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(reverse("complaints:hotline_list"))
                self.assertEqual({h.pk for h in response.context["hotlines"]}, pks)
                body = self.api("GET", reverse("api:hotlines_list"), key).json()
                self.assertEqual({h["id"] for h in body}, pks)
        self.as_user("no_role")
        self.assertEqual(self.client.get(reverse("complaints:hotline_list")).status_code, 403)
        assert_error_body(self.api("GET", reverse("api:hotlines_list"), "no_role"), 403, errors=False)
        assert_error_body(self.api("GET", reverse("api:hotlines_list"), None), 401, errors=False)
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(reverse("complaints:hotline_list")))

    def payload(self, code: str) -> dict[str, Any]:
        return {
            "division_code": code,
            "number": "12345",
            "published_on": TODAY.isoformat(),
            "published_where": "明白卡",
        }

    def test_set_refused_without_the_action_or_outside_the_county(self) -> None:
        url_page, url_api = reverse("complaints:hotline_set"), reverse("api:hotlines_set")
        for key, code, status in [
            (None, factories.YUYANG, 401),
            ("village", factories.YUYANG, 403),
            ("department", factories.YUYANG, 403),
            ("supervisor", factories.YUYANG, 403),
            ("county", factories.SHENMU, 403),
            ("other_county", factories.YUYANG, 403),
            ("town", factories.YUYANG, 403),
            ("no_division", factories.YUYANG, 403),
        ]:
            with self.subTest(user=key, code=code):
                before = (Event.objects.count(), list(Hotline.objects.values_list("number", flat=True)))
                assert_error_body(self.api("POST", url_api, key, self.payload(code)), status, errors=False)
                self.as_user(key)
                response = self.client.post(url_page, self.payload(code))
                if key is None:
                    self.assertLoginRedirect(response)
                else:
                    self.assertRefusedForm(response)
                after = (Event.objects.count(), list(Hotline.objects.values_list("number", flat=True)))
                self.assertEqual(after, before)

    def test_set_form_offers_only_the_users_counties(self) -> None:
        self.as_user("county")
        choices = dict(
            self.client.get(reverse("complaints:hotline_set")).context["form"].fields["division_code"].choices
        )
        self.assertIn(factories.YUYANG, choices)
        self.assertNotIn(factories.SHENMU, choices)

    def test_set_in_own_county_is_audited(self) -> None:
        since = self.last_event_id()
        response = self.api("POST", reverse("api:hotlines_set"), "county", self.payload(factories.YUYANG))
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["number"], "12345")
        self.assertOneEvent(since, response, Action.HOTLINE_SET, self.users["county"], self.yuyang)
        self.as_user("admin")
        since = self.last_event_id()
        response = self.client.post(reverse("complaints:hotline_set"), self.payload(factories.SHENMU))
        self.assertEqual(response.status_code, 302)
        self.assertOneEvent(since, response, Action.HOTLINE_SET, self.users["admin"], self.shenmu)
        self.assertEqual(selectors.hotline_for(factories.SHENMU_TOWN), "12345")


class ExportScopeTests(ScopeTestCase):
    """The complaint export holds the user's complaints only, with phones masked, and is audited."""

    covers = ("complaints:complaint_export",)
    model = Complaint

    @classmethod
    def build_in_scope(cls, village):
        return complaint(village)

    def rows(self, response) -> list[list[Any]]:
        content = b"".join(response.streaming_content)
        return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()

    def test_export_for_each_user_holds_what_the_user_sees(self) -> None:
        url = reverse("complaints:complaint_export")
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("no_role")
        self.assertEqual(self.client.get(url).status_code, 403)
        for key in ("county", "town", "village", "other_county", "admin"):
            with self.subTest(user=key):
                self.as_user(key)
                since = self.last_event_id()
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                rows = self.rows(response)
                self.assertEqual(rows[1][:3], ["序号", "编号", "县"])
                exported = {int(r[1]) for r in rows[2:]}
                expected = {o.pk for o in self.fixture_objects() if self.can_see(key, o)}
                self.assertEqual(exported, expected)
                self.assertTrue(all(r[8] == "138****1234" for r in rows[2:]))
                self.assertOneEvent(since, response, Action.COMPLAINTS_EXPORTED, self.users[key])

    def test_export_follows_the_filters_and_refuses_a_foreign_division(self) -> None:
        self.as_user("county")
        url = reverse("complaints:complaint_export")
        rows = self.rows(self.client.get(url, {"division": self.villages["home"].code}))
        self.assertEqual({int(r[1]) for r in rows[2:]}, {o.pk for o in self.in_scope})
        self.assertEqual(self.client.get(url, {"division": "999999999999"}).status_code, 404)


class CountsScopeTests(ScopeTestCase):
    """The dashboard counts (P14, P15) through the API and the template include, per user."""

    covers = ("api:complaints_counts",)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for place in ("home", "home_town", "other_county"):
            village = cls.villages[place]
            complaint(village)
            complaint(village, received_on=TODAY - dt.timedelta(days=20))  # hotline: 5 days late
            activity(village)
            incident(village)

    def test_counts_per_user(self) -> None:
        for key, n in [("county", 2), ("town", 2), ("village", 1), ("other_county", 1), ("admin", 3)]:
            with self.subTest(user=key):
                body = self.api("GET", reverse("api:complaints_counts"), key).json()
                self.assertEqual(
                    body,
                    {
                        "open_complaints": 2 * n,
                        "overdue_complaints": n,
                        "publicity_this_year": n,
                        "open_incidents": n,
                    },
                )
        assert_error_body(self.api("GET", reverse("api:complaints_counts"), "no_role"), 403, errors=False)
        assert_error_body(self.api("GET", reverse("api:complaints_counts"), None), 401, errors=False)

    def test_dashboard_include_renders_the_counts_with_links(self) -> None:
        counts = selectors.dashboard_counts(self.users["county"])
        html = render_to_string("complaints/_dashboard_counts.html", {"complaint_counts": counts})
        self.assertIn('data-stat="overdue_complaints">2<', html)
        self.assertIn(reverse("complaints:complaint_list") + "?overdue=on", html)


class PublicityPhotoTests(ScopeTestCase):
    covers = ("complaints:publicity_photo",)

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
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.home = activity(cls.villages["home"], photo=png())
        cls.shenmu = activity(cls.villages["other_county"], photo=png())
        cls.bare = activity(cls.villages["home"])

    def test_photo_through_the_scope_only(self) -> None:
        home = reverse("complaints:publicity_photo", kwargs={"pk": self.home.pk})
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(home))
        self.as_user("no_role")
        self.assertEqual(self.client.get(home).status_code, 403)
        for key in ("village", "county", "department"):
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(home)
                self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/png"))
                shenmu = reverse("complaints:publicity_photo", kwargs={"pk": self.shenmu.pk})
                self.assertEqual(self.client.get(shenmu).status_code, 404)
        bare = reverse("complaints:publicity_photo", kwargs={"pk": self.bare.pk})
        self.assertEqual(self.client.get(bare).status_code, 404)

    def test_page_upload_stores_the_photo(self) -> None:
        self.as_user("town")
        data = {
            "division_code": self.villages["home"].code,
            "held_on": TODAY.isoformat(),
            "kind": "poster",
            "title": "张贴宣传画",
            "audience": "0",
            "notes": "",
            "photo": png(),
        }
        self.assertEqual(self.client.post(reverse("complaints:publicity_add"), data).status_code, 302)
        self.assertTrue(PublicityActivity.objects.get(title="张贴宣传画").photo.name.endswith(".png"))


class QueryCountTests(ScopeTestCase):
    """The lists cost the same number of queries for 3 rows and for 30 (no query per row)."""

    def grow_with(self, build) -> Any:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")
        rows: list[Any] = []

        def grow(n: int) -> None:
            while len(rows) < n:
                household = factories.household(village) if len(rows) % 2 else None
                rows.append(build(village, household))

        return grow

    def check(self, key: str, url: str, build, *, api: bool = False) -> None:
        self.as_user("county")

        def fetch():
            return self.api("GET", url, "county") if api else self.client.get(url)

        self.assertQueryCountsStable(key, grow=self.grow_with(build), fetch=fetch, sizes=(3, 30))

    def test_complaint_list_page(self) -> None:
        self.check("complaints:complaint_list", reverse("complaints:complaint_list"), self._complaint)

    def test_complaint_list_api(self) -> None:
        self.check("api:complaints_list", reverse("api:complaints_list"), self._complaint, api=True)

    def test_publicity_list_page_and_api(self) -> None:
        self.check("complaints:publicity_list", reverse("complaints:publicity_list"), lambda v, h: activity(v))

    def test_publicity_list_api(self) -> None:
        self.check("api:publicity_list", reverse("api:publicity_list"), lambda v, h: activity(v), api=True)

    def test_incident_list_page(self) -> None:
        self.check("complaints:incident_list", reverse("complaints:incident_list"), lambda v, h: incident(v))

    def test_incident_list_api(self) -> None:
        self.check("api:incidents_list", reverse("api:incidents_list"), lambda v, h: incident(v), api=True)

    @staticmethod
    def _complaint(village, household) -> Complaint:
        return complaint(village, household=household)
