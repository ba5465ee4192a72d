"""Check pages, endpoints and photos under the scope/permission helper (P5, P17)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.divisions.models import Division
from anju.inspections.models import Campaign, CheckRecord, Photo
from anju.inspections.services import photos as photo_services
from anju.registry.models import Household
from anju.testing import campaigns as c
from anju.testing import factories
from anju.testing.api import assert_error_body, bearer
from anju.testing.scope import CITY, PERSONAS, APIViewTestCases, ScopeTestCase, ViewTestCases, prefix_of
from anju.training.models import Attendance

TODAY = timezone.localdate()
YEAR = TODAY.year
CHECKED_ON = dt.date(YEAR, 4, 20)
#: the helper's verbs, as inspections actions
VERBS = {"view": "view", "add": "check", "change": "check"}


_photo_seq = iter(range(1, 1_000_000))


def jpeg(color: str = "green") -> bytes:
    """A small real JPEG; each call's bytes differ (a serial in ImageDescription), so SHA-256s never collide."""
    exif = Image.Exif()
    exif[0x010E] = f"test photo {next(_photo_seq)}"
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


class CheckScope(ScopeTestCase):
    """A city annual check of this year; each fixture check is one household (with one house) of a village."""

    __test__ = False
    model = CheckRecord
    create_action = Action.CHECK_RECORDED
    update_action = Action.CHECK_CHANGED
    campaign: Campaign

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
    def the_campaign(cls) -> Campaign:
        found = Campaign.objects.filter(division_id=CITY, kind="annual", year=YEAR).first()
        return found or c.campaign(CITY, year=YEAR)

    @classmethod
    def build_in_scope(cls, village: Division) -> CheckRecord:
        household = factories.household(village)
        house = factories.house(household)
        return c.check(
            cls.the_campaign(), household, checked_on=CHECKED_ON, findings=[{"house": house, "cracks": True}]
        )

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = cls.the_campaign()
        for user in cls.users.values():
            factories.trained(user, YEAR)
        # households not yet checked, for the forms and payloads (built here, so a refused request writes nothing)
        cls.spare = {key: [factories.household(v) for _ in range(6)] for key, v in cls.villages.items()}

    def may(self, key: str, verb: str) -> bool:
        return has_action(self.users[key], f"inspections.{VERBS.get(verb, verb)}")

    def spare_near(self, near: CheckRecord) -> Household:
        for households in self.spare.values():
            for household in households:
                if (
                    household.division_id == near.division_id
                    and not CheckRecord.objects.filter(campaign=self.campaign, household=household).exists()
                ):
                    return household
        raise AssertionError("no spare household left")


class CheckViewTests(CheckScope, ViewTestCases.PrimaryObjectViewTestCase):
    page_model = "check"

    def create_data(self, near: CheckRecord) -> dict[str, Any]:
        household = self.spare_near(near)
        return {
            "campaign": self.campaign.pk,
            "household": household.pk,
            "checked_on": CHECKED_ON.isoformat(),
            "verdict": "no_danger",
            "latitude": "38.285",
            "longitude": "109.734",
            "note": "",
        }

    def update_data(self, obj: CheckRecord) -> dict[str, Any]:
        data = {
            "checked_on": obj.checked_on.isoformat(),
            "verdict": obj.verdict,
            "latitude": obj.latitude or "",
            "longitude": obj.longitude or "",
            "note": obj.note + "。",
        }
        for finding in obj.findings.all():
            prefix = f"house-{finding.house_id}-"
            data[prefix + "site_hazard"] = finding.site_hazard
            data[prefix + "note"] = finding.note
            for flag in (
                "cracks",
                "tilt",
                "settlement",
                "roof_leak",
                "earth_wall_damp",
                "cave_arch_damage",
                "occupied",
            ):
                if getattr(finding, flag):
                    data[prefix + flag] = "on"
        return data

    def test_edit_keeps_the_findings_it_was_shown(self) -> None:
        obj = self.in_scope[0]
        self.as_user("village")
        response = self.client.post(self.page_url("edit", obj), self.update_data(self.fresh(obj)))
        self.assertEqual(response.status_code, 302)
        finding = obj.findings.get()
        self.assertTrue(finding.cracks and finding.occupied)

    def test_untrained_user_is_refused_with_the_p17_message(self) -> None:
        """policy: P17 — the entry form refuses someone without this year's training, and says why."""
        Attendance.objects.filter(user=self.users["village"]).delete()
        self.as_user("village")
        before = self.snapshot()
        response = self.client.post(self.page_url("add"), self.create_data(self.in_scope[0]))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "未参加")
        self.assertContains(response, "P17")
        self.assertNothingWritten(before, response)

    def test_entry_page_is_phone_friendly(self) -> None:
        self.as_user("village")
        household = self.spare_near(self.in_scope[0])
        factories.house(household)
        response = self.client.get(self.page_url("add"), {"campaign": self.campaign.pk, "household": household.pk})
        self.assertContains(response, 'accept="image/*"')
        self.assertContains(response, 'capture="environment"')
        self.assertContains(response, 'id="use-location"')
        self.assertContains(response, "疑似危房")
        self.assertContains(response, 'class="card mb-3 house-card"', count=1)
        self.assertContains(response, 'name="viewport"')

    def test_entry_page_points_to_an_existing_check_instead_of_a_second(self) -> None:
        obj = self.in_scope[0]
        self.as_user("village")
        response = self.client.get(self.page_url("add"), {"campaign": self.campaign.pk, "household": obj.household_id})
        self.assertContains(response, reverse("inspections:check_edit", kwargs={"pk": obj.pk}))
        self.assertNotContains(response, 'id="check-form"')

    def test_entry_with_photos_and_a_suspected_verdict(self) -> None:
        household = self.spare_near(self.in_scope[0])
        house = factories.house(household)
        self.as_user("village")
        data = self.create_data(self.in_scope[0]) | {
            "household": household.pk,
            "verdict": "suspected",
            f"house-{house.pk}-tilt": "on",
            f"house-{house.pk}-occupied": "on",
            "photos": [
                SimpleUploadedFile("a.jpg", jpeg("red"), "image/jpeg"),
                SimpleUploadedFile("b.jpg", jpeg("blue"), "image/jpeg"),
            ],
        }
        response = self.client.post(self.page_url("add"), data)
        self.assertEqual(
            response.status_code, 302, getattr(response, "context", {}) and response.context["form"].errors
        )
        check = CheckRecord.objects.get(household=household)
        self.assertEqual(check.photos.count(), 2)
        self.assertTrue(check.findings.get().tilt)
        self.assertEqual(check.appraisal_requests.get().house, house)
        detail = self.client.get(self.page_url("detail", check))
        for photo in check.photos.all():
            self.assertContains(detail, reverse("inspections:photo_detail", kwargs={"pk": photo.pk}) + "?thumb=1")

    def test_a_non_image_is_refused_on_the_form(self) -> None:
        self.as_user("village")
        before = self.snapshot()
        data = self.create_data(self.in_scope[0]) | {"photos": SimpleUploadedFile("x.jpg", b"%PDF-1.4", "image/jpeg")}
        response = self.client.post(self.page_url("add"), data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "不是有效的图片文件")
        self.assertNothingWritten(before, response)

    def test_mine_lists_only_my_checks(self) -> None:
        self.as_user("village")
        self.client.post(self.page_url("add"), self.create_data(self.in_scope[0]))
        mine = CheckRecord.objects.get(checker=self.users["village"])
        response = self.client.get(self.page_url("list"), {"mine": "1"})
        self.assertEqual(self.list_result(response), ({mine.pk}, 1))

    def test_list_filters_and_htmx_rows(self) -> None:
        self.as_user("county")
        response = self.client.get(self.page_url("list"), {"verdict": "suspected"})
        self.assertEqual(self.list_result(response), (set(), 0))
        response = self.client.get(
            self.page_url("list"), {"division": factories.YUYANG_TOWN_2}, headers={"HX-Request": "true"}
        )
        self.assertTemplateUsed(response, "inspections/_check_rows.html")
        self.assertEqual(self.list_result(response), ({self.in_sibling_town.pk}, 1))
        response = self.client.get(self.page_url("list"), {"division": factories.SHENMU})
        self.assertEqual(self.list_result(response), (set(), 0))


class CheckHouseholdSearchTests(CheckScope):
    """The htmx household picker of the entry page: only unchecked targets in the user's scope."""

    covers = ("inspections:check_households",)

    def search(self, key: str | None, **params: Any):
        self.as_user(key)
        return self.client.get(reverse("inspections:check_households"), {"campaign": self.campaign.pk, **params})

    def test_anonymous_and_roles_without_check(self) -> None:
        self.assertLoginRedirect(self.search(None))
        for key in PERSONAS:
            if not self.may(key, "add"):
                self.assertEqual(self.search(key).status_code, 403, key)

    def test_lists_unchecked_households_of_the_users_scope_only(self) -> None:
        checked = {o.household_id for o in self.fixture_objects()}
        for key in ("county", "town", "village"):
            with self.subTest(user=key):
                response = self.search(key)
                listed = {h.pk for h in response.context["households"]}
                prefix = prefix_of(self.users[key])
                expected = {h.pk for hs in self.spare.values() for h in hs if h.division_id.startswith(prefix)}
                self.assertTrue(listed, key)
                self.assertLessEqual(listed, expected)
                self.assertFalse(listed & checked)

    def test_search_by_name_and_id_does_not_leave_the_scope(self) -> None:
        target = self.spare["other_county"][0]
        self.assertEqual(self.search("county", q=target.head_name).context["households"], [])
        self.assertEqual(
            [h.pk for h in self.search("other_county", q=target.head_name).context["households"]], [target.pk]
        )


class CheckAPITests(CheckScope, APIViewTestCases.PrimaryObjectAPITestCase):
    api_basename = "checks"

    def create_payload(self, near: CheckRecord) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign.pk,
            "household_id": self.spare_near(near).pk,
            "verdict": "needs_repair",
            "checked_on": CHECKED_ON.isoformat(),
            "note": "屋面漏雨",
        }

    def update_payload(self, obj: CheckRecord) -> dict[str, Any]:
        return {"note": obj.note + "。"}

    def test_create_with_findings_and_refusals_in_chinese(self) -> None:
        household = self.spare_near(self.in_scope[0])
        house = factories.house(household)
        payload = self.create_payload(self.in_scope[0]) | {
            "household_id": household.pk,
            "verdict": "suspected",
            "latitude": "38.285",
            "longitude": "109.734",
            "findings": [{"house_id": house.pk, "cave_arch_damage": True, "site_hazard": "landslide"}],
        }
        response = self.api("POST", self.api_url("create"), "village", payload)
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["findings"][0]["site_hazard"], "landslide")
        self.assertEqual(len(body["appraisal_requests"]), 1)
        self.assertNotIn(household.id_cipher, response.content.decode())
        body = assert_error_body(self.api("POST", self.api_url("create"), "village", payload), 409)
        self.assertEqual(body["errors"][0]["field"], "household")
        other = self.spare_near(self.in_scope[0])
        stranger = factories.house(factories.household(self.villages["home"]))
        bad = payload | {"household_id": other.pk, "findings": [{"house_id": stranger.pk}]}
        assert_error_body(self.api("POST", self.api_url("create"), "village", bad), 400)
        future = payload | {
            "household_id": other.pk,
            "findings": [],
            "checked_on": (TODAY + dt.timedelta(days=1)).isoformat(),
        }
        body = assert_error_body(self.api("POST", self.api_url("create"), "village", future), 400)
        self.assertEqual(body["errors"][0]["field"], "checked_on")

    def test_untrained_checker_is_refused_with_the_p17_message(self) -> None:
        """policy: P17"""
        Attendance.objects.filter(user=self.users["town"]).delete()
        before = self.snapshot()
        response = self.api("POST", self.api_url("create"), "town", self.create_payload(self.in_scope[0]))
        body = assert_error_body(response, 400)
        self.assertIn("P17", body["detail"])
        self.assertEqual(body["errors"][0]["field"], "checker")
        self.assertNothingWritten(before, response)

    def test_list_filters(self) -> None:
        listed, _ = self.api_list_all("county", campaign=self.campaign.pk, verdict="no_danger")
        self.assertEqual(listed & {o.pk for o in self.fixture_objects()}, {o.pk for o in self.fixture_objects()[:4]})
        listed, count = self.api_list_all("county", household=self.in_town.household_id)
        self.assertEqual((listed, count), ({self.in_town.pk}, 1))
        listed, count = self.api_list_all("county", division=factories.YUYANG_TOWN_2)
        self.assertEqual((listed, count), ({self.in_sibling_town.pk}, 1))
        listed, count = self.api_list_all("county", mine=True)
        self.assertEqual(count, 0)
        assert_error_body(self.api_list("county", verdict="fine"), 400)
        assert_error_body(self.api_list("county", division="999"), 400)


class PhotoScope(CheckScope):
    __test__ = False
    model = Photo

    @classmethod
    def build_in_scope(cls, village: Division) -> Photo:
        check = CheckScope.build_in_scope.__func__(cls, village)
        upload = SimpleUploadedFile("p.jpg", jpeg())
        return photo_services.photo_add(actor=check.checker, check=check, file=upload)

    def spare_near(self, near: Any) -> Household:
        raise NotImplementedError


class PhotoViewTests(PhotoScope, ViewTestCases.DetailView):
    """Photos are served only through the scoped view: 404 outside the subtree, never a public /media/ URL."""

    page_model = "photo"

    def test_file_and_thumbnail(self) -> None:
        photo = self.in_scope[0]
        self.as_user("village")
        response = self.client.get(self.page_url("detail", photo))
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertEqual(b"".join(response.streaming_content), photo.file.open("rb").read())
        self.assertIn("private", response["Cache-Control"])
        thumb = self.client.get(self.page_url("detail", photo), {"thumb": "1"})
        self.assertEqual(Image.open(io.BytesIO(thumb.content)).format, "JPEG")

    def test_no_public_media_url(self) -> None:
        self.as_user("admin")
        self.assertEqual(self.client.get("/media/" + self.in_scope[0].file.name).status_code, 404)


class PhotoAPITests(PhotoScope):
    """`POST /checks/{id}/photos` (multipart) and `GET /checks/{id}/photos/{photo_id}`."""

    covers = ("api:checks_photos", "api:checks_photo_file")

    def upload(self, key: str | None, check: CheckRecord, *files: bytes):
        data = {"files": [SimpleUploadedFile(f"{i}.jpg", f, "image/jpeg") for i, f in enumerate(files)]}
        url = reverse("api:checks_photos", kwargs={"pk": check.pk})
        return Client().post(url, data, **bearer(self.tokens[key] if key else None))

    def test_upload_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            for photo in self.fixture_objects():
                check = photo.check_record
                with self.subTest(user=key, obj=check.division_id):
                    before = self.snapshot()
                    since = self.last_event_id()
                    response = self.upload(key, check, jpeg())
                    if not self.may(key, "add"):
                        assert_error_body(response, 403, errors=False)
                    elif not self.can_see(key, photo):
                        assert_error_body(response, 404, errors=False)
                    else:
                        self.assertEqual(response.status_code, 201, response.content[:300])
                        new = Photo.objects.get(pk=response.json()[0]["id"])
                        self.assertOneEvent(since, response, Action.PHOTO_ADDED, self.users[key], new)
                        continue
                    self.assertNothingWritten(before, response)
        before = self.snapshot()
        assert_error_body(self.upload(None, self.in_scope[0].check_record, jpeg("pink")), 401, errors=False)
        self.assertEqual(self.snapshot(), before)

    def test_one_bad_file_refuses_the_whole_upload(self) -> None:
        check = self.in_scope[0].check_record
        before = self.snapshot()
        response = self.upload("village", check, jpeg("navy"), b"not a picture")
        body = assert_error_body(response, 400)
        self.assertIn("不是有效的图片文件", body["errors"][0]["message"])
        self.assertNothingWritten(before, response)

    def test_house_must_be_of_the_checked_household(self) -> None:
        check = self.in_scope[0].check_record
        stranger = factories.house(factories.household(self.villages["home"]))
        url = reverse("api:checks_photos", kwargs={"pk": check.pk})
        data = {"files": [SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg")], "house_id": stranger.pk}
        before = self.snapshot()
        response = Client().post(url, data, **bearer(self.tokens["village"]))
        body = assert_error_body(response, 400)
        self.assertEqual(body["errors"][0]["field"], "house_id")
        self.assertNothingWritten(before, response)
        own = check.household.houses.get()
        data = {"files": [SimpleUploadedFile("b.jpg", jpeg(), "image/jpeg")], "house_id": own.pk, "caption": "东墙"}
        response = Client().post(url, data, **bearer(self.tokens["village"]))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual((response.json()[0]["house_id"], response.json()[0]["caption"]), (own.pk, "东墙"))

    def test_file_download_is_scoped(self) -> None:
        photo = self.in_scope[0]
        url = reverse("api:checks_photo_file", kwargs={"pk": photo.check_record_id, "photo_id": photo.pk})
        response = self.api("GET", url, "village")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), photo.file.open("rb").read())
        assert_error_body(self.api("GET", url, "other_county"), 404, errors=False)
        self.assertEqual(self.api("GET", url, "town").status_code, 200)
        assert_error_body(self.api("GET", url, None), 401, errors=False)
        wrong = reverse("api:checks_photo_file", kwargs={"pk": self.in_town.check_record_id, "photo_id": photo.pk})
        assert_error_body(self.api("GET", wrong, "county"), 404, errors=False)
        detail = self.api("GET", reverse("api:checks_detail", kwargs={"pk": photo.check_record_id}), "village").json()
        self.assertEqual(detail["photos"][0]["url"], url)
        self.assertEqual(detail["photos"][0]["sha256"], photo.sha256)


class CheckQueryCountTests(CheckScope):
    """The check list page and `GET /api/v1/checks`: the same number of queries for 3 rows and for 30."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.qc_village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")

    def grow(self, n: int) -> None:
        while CheckRecord.objects.filter(division=self.qc_village).count() < n:
            self.build_in_scope(self.qc_village)

    def test_check_list_page(self) -> None:
        self.as_user("county")
        url = reverse("inspections:check_list")
        self.assertQueryCountsStable(
            "inspections:check_list",
            grow=self.grow,
            fetch=lambda: self.client.get(url, {"division": self.qc_village.code}),
            sizes=(3, 30),
        )

    def test_checks_api_list(self) -> None:
        url = reverse("api:checks_list")
        self.assertQueryCountsStable(
            "api:checks_list",
            grow=self.grow,
            fetch=lambda: self.api("GET", url, "county", division=self.qc_village.code, page_size=100),
            sizes=(3, 30),
        )

    def test_check_detail_with_photos(self) -> None:
        check = self.build_in_scope(self.qc_village)

        def grow(n: int) -> None:
            while check.photos.count() < n:
                photo_services.photo_add(actor=check.checker, check=check, file=SimpleUploadedFile("x.jpg", jpeg()))

        self.as_user("county")
        page = reverse("inspections:check_detail", kwargs={"pk": check.pk})
        self.assertQueryCountsStable(
            "inspections:check_detail", grow=grow, fetch=lambda: self.client.get(page), sizes=(1, 5)
        )
        api = reverse("api:checks_detail", kwargs={"pk": check.pk})
        self.assertQueryCountsStable(
            "api:checks_detail", grow=grow, fetch=lambda: self.api("GET", api, "county"), sizes=(1, 5)
        )
