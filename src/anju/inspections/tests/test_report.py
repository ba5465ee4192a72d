"""The appraisal report (鉴定报告): an A4 PDF whose Chinese renders, with the photos; scoped download."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageChops

from anju.inspections.reports import appraisal_report_html, appraisal_report_pdf
from anju.inspections.selectors_appraisals import appraisal_get
from anju.testing import appraisals as build
from anju.testing import factories
from anju.testing.scope import ScopeTestCase

pytestmark = pytest.mark.django_db

POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")


def jpeg(color: tuple[int, int, int] = (200, 40, 40), name: str = "site.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def red_pixels(path: Path) -> int:
    with Image.open(path) as image:
        r, g, b = image.convert("RGB").split()
        mask = ImageChops.multiply(
            r.point(lambda v: 255 if v > 150 else 0),
            ImageChops.multiply(g.point(lambda v: 255 if v < 90 else 0), b.point(lambda v: 255 if v < 90 else 0)),
        )
        return mask.histogram()[255]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def appraisal(media):
    village = factories.village(factories.YUYANG_TOWN, 1, name="红旗村")
    owner = factories.household(village, head_name="白建业", group_name="三组")
    house = factories.house(owner, structure="earth_cave", build_year=1978, storeys=1, floor_area="48.5")
    appraiser = factories.trained(factories.user("jd_report", factories.YUYANG, "appraiser"))
    recorded = build.appraisal(
        house,
        appraiser,
        components={"cave_arch": "c", "cave_facade": "b"},
        notes={"cave_arch": "拱顶纵向裂缝约1.2米"},
        final_grade="D",
        override_reason="窑顶覆土雨后持续掉土，险情发展快",
        co_appraisers="李工",
        conclusion="整体危险，建议拆除重建",
        photos=[jpeg()],
    )
    return appraisal_get(actor=appraiser, pk=recorded.pk)


def test_the_html_carries_every_part_of_the_report(appraisal):
    html = appraisal_report_html(appraisal)
    household = appraisal.house.household
    for text in [
        "农村住房安全性鉴定报告",
        household.head_name,
        household.id_masked,
        "榆阳区",
        "红旗村",
        "三组",
        "土窑洞",
        "1978",
        "48.5",
        "拱顶（拱券）",
        "拱券纵向贯通裂缝，砌块松动，土体掉落",  # the description of the chosen grade c
        "拱顶纵向裂缝约1.2米",
        "窑脸（b级）",  # a danger point
        "C级（",  # computed
        "D级",  # final
        "窑顶覆土雨后持续掉土",
        "部分具备",
        "jd_report",
        "李工",
        "整体危险，建议拆除重建",
        "data:image/jpeg;base64,",
    ]:
        assert text in html, text
    assert "*" in household.id_masked


@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")
def test_the_pdf_is_a4_not_blank_and_its_chinese_renders(appraisal, tmp_path):
    pdf = appraisal_report_pdf(appraisal)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(Path(tmp_path).glob("page*.png"))
    assert pages
    with Image.open(pages[0]) as image:
        width, height = image.size
        assert abs(height / width - 297 / 210) < 0.02, "A4 portrait"
        dark = sum(image.convert("L").histogram()[:200])
    assert dark > 2000, f"page looks blank ({dark} non-white pixels)"
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout.decode()
    compact = "".join(text.split())
    assert "农村住房安全性鉴定报告" in compact
    assert appraisal.house.household.head_name in compact
    assert "拱顶（拱券）" in compact
    # the photo is embedded: a red area appears on some page
    reds = sum(red_pixels(page) for page in pages)
    assert reds > 500, "the photo is missing"


class ReportScopeTests(ScopeTestCase):
    """The report downloads only inside the scope (404 outside), for anyone who may view inspections."""

    covers = ("inspections:appraisal_report",)

    def test_report_download(self) -> None:
        home = factories.house(factories.household(self.villages["home"]), structure="brick_wood")
        other = factories.house(factories.household(self.villages["other_county"]), structure="brick_wood")
        mine, theirs = build.appraisal(home), build.appraisal(other)
        url = reverse("inspections:appraisal_report", kwargs={"pk": mine.pk})
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("no_role")
        self.assertEqual(self.client.get(url).status_code, 403)
        self.as_user("other_county")
        self.assertEqual(self.client.get(url).status_code, 404)
        self.as_user("town")
        self.assertEqual(
            self.client.get(reverse("inspections:appraisal_report", kwargs={"pk": theirs.pk})).status_code, 404
        )
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))


def test_the_detail_page_shows_the_photos_through_the_scoped_photo_view(appraisal, client):
    photo = appraisal.photos.get()
    client.force_login(appraisal.lead_appraiser)
    response = client.get(reverse("inspections:appraisal_detail", kwargs={"pk": appraisal.pk}))
    url = reverse("inspections:photo_detail", kwargs={"pk": photo.pk})
    assert f'src="{url}?thumb=1"'.encode() in response.content
    assert client.get(url, {"thumb": "1"})["Content-Type"] == "image/jpeg"
    client.force_login(factories.user("sm_viewer", factories.SHENMU, "county_manager"))
    assert client.get(url).status_code == 404
