"""Photos: real JPEGs with EXIF written by Pillow; SHA-256, time and GPS read back; non-images and big files refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, TiffImagePlugin

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.inspections.models import CheckRecord, Photo
from anju.inspections.services import photos as services
from anju.testing import campaigns as c
from anju.testing import factories

pytestmark = pytest.mark.django_db
YEAR = 2026


def jpeg(
    *,
    taken: str | None = "2026:03:20 10:11:12",
    offset: str | None = None,
    gps: tuple | None = ((38, 17, "6.17"), "N", (109, 44, 24), "E"),
    color: str = "red",
    fmt: str = "JPEG",
) -> bytes:
    """A small real picture carrying EXIF DateTimeOriginal (IFD 0x8769) and GPS (IFD 0x8825) when asked."""
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    if taken:
        exif[0x8769] = {0x9003: taken} | ({0x9011: offset} if offset else {})
    if gps:
        (lat, lat_ref, lon, lon_ref) = gps
        exif[0x8825] = {
            1: lat_ref,
            2: tuple(
                rational(Decimal(str(v)).as_integer_ratio()[0], Decimal(str(v)).as_integer_ratio()[1]) for v in lat
            ),
            3: lon_ref,
            4: tuple(rational(v) for v in lon),
        }
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, fmt, exif=exif)
    return buffer.getvalue()


def upload(content: bytes, name: str = "IMG_0001.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def check() -> CheckRecord:
    village = factories.village(factories.YUYANG_TOWN, 1)
    household = factories.household(village)
    factories.house(household)
    staff = factories.user("village_staff", village.code, "village_staff")
    campaign = c.campaign(factories.YUYANG, year=YEAR)
    return c.check(campaign, household, staff, checked_on=dt.date(YEAR, 3, 20))


def test_exif_time_gps_and_sha256_are_read_back(check, media):
    content = jpeg()
    photo = services.photo_add(actor=check.checker, check=check, file=upload(content), caption="东墙裂缝")
    assert photo.sha256 == hashlib.sha256(content).hexdigest()
    assert photo.taken_at == dt.datetime(2026, 3, 20, 2, 11, 12, tzinfo=dt.UTC)  # 10:11:12 in Asia/Shanghai
    assert photo.latitude == Decimal("38.285047")  # 38° 17′ 6.17″
    assert photo.longitude == Decimal("109.740000")
    assert photo.division_id == check.division_id and photo.uploaded_by == check.checker
    assert photo.file.name == f"photos/{photo.sha256[:2]}/{photo.sha256}.jpg"
    assert (media / photo.file.name).read_bytes() == content
    event = Event.objects.get(action=Action.PHOTO_ADDED)
    assert event.after["sha256"] == photo.sha256 and event.extra["check_id"] == check.pk
    assert event.division_code == check.division_id


def test_offset_time_and_southern_western_refs():
    facts = services.photo_facts(upload(jpeg(offset="+05:00", gps=((33, 0, 0), "S", (70, 30, 0), "W"))))
    assert facts.taken_at == dt.datetime(2026, 3, 20, 5, 11, 12, tzinfo=dt.UTC)
    assert (facts.latitude, facts.longitude) == (Decimal("-33.000000"), Decimal("-70.500000"))


def test_a_photo_without_exif_is_kept_without_time_and_gps():
    facts = services.photo_facts(upload(jpeg(taken=None, gps=None)))
    assert facts.taken_at is None and facts.latitude is None and facts.longitude is None
    assert facts.extension == "jpg"


def test_png_and_webp_are_pictures_too():
    assert services.photo_facts(upload(jpeg(fmt="PNG", gps=None), "a.png", "image/png")).extension == "png"
    assert services.photo_facts(upload(jpeg(fmt="WEBP", gps=None), "a.webp", "image/webp")).extension == "webp"


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.4 not a picture", b"\xff\xd8\xff\xe0 truncated jpeg", "核查表".encode()],
)
def test_a_non_image_is_refused_in_chinese(check, content):
    with pytest.raises(DomainError) as exc:
        services.photo_add(actor=check.checker, check=check, file=upload(content, "scan.jpg"))
    assert "不是有效的图片文件" in exc.value.errors["photos"] and "scan.jpg" in exc.value.message
    assert not Photo.objects.exists()


def test_a_file_over_15_mb_is_refused(check, media):
    big = jpeg() + b"\0" * (15 * 1024 * 1024)
    with pytest.raises(DomainError) as exc:
        services.photo_add(actor=check.checker, check=check, file=upload(big))
    assert "15 MB" in exc.value.errors["photos"]
    assert not Photo.objects.exists() and not media.exists()


def test_the_same_picture_twice_on_one_check_is_refused(check):
    content = jpeg()
    services.photo_add(actor=check.checker, check=check, file=upload(content))
    with pytest.raises(ConflictError):
        services.photo_add(actor=check.checker, check=check, file=upload(content, "copy.jpg"))
    assert Photo.objects.count() == 1


def test_photos_with_the_check_are_stored_in_its_one_event(media):
    village = factories.village(factories.YUYANG_TOWN, 1)
    household = factories.household(village)
    campaign = c.campaign(factories.YUYANG, year=YEAR)
    first, second = jpeg(color="red"), jpeg(color="blue", gps=None)
    record = c.check(campaign, household, photos=[upload(first), upload(second, "b.jpg"), upload(first, "again.jpg")])
    assert sorted(record.photos.values_list("sha256", flat=True)) == sorted(
        hashlib.sha256(x).hexdigest() for x in (first, second)
    )
    event = Event.objects.get(action=Action.CHECK_RECORDED, object_id=str(record.pk))
    assert len(event.extra["photos"]) == 2
    assert not Event.objects.filter(action=Action.PHOTO_ADDED).exists()


def test_a_bad_photo_refuses_the_whole_check(media):
    village = factories.village(factories.YUYANG_TOWN, 1)
    household = factories.household(village)
    campaign = c.campaign(factories.YUYANG, year=YEAR)
    with pytest.raises(DomainError):
        c.check(campaign, household, photos=[upload(jpeg()), upload(b"not a picture", "x.jpg")])
    assert not CheckRecord.objects.exists() and not Photo.objects.exists()


def test_out_of_scope_and_wrong_house_are_refused(check):
    other = factories.user("other_village", factories.village(factories.YUYANG_TOWN, 2).code, "village_staff")
    with pytest.raises(ScopeError):
        services.photo_add(actor=other, check=check, file=upload(jpeg()))
    stranger = factories.house(factories.household(check.household.division))
    with pytest.raises(DomainError) as exc:
        services.photo_add(actor=check.checker, check=check, house=stranger, file=upload(jpeg()))
    assert "house" in exc.value.errors
    assert not Photo.objects.exists()


def test_the_same_file_is_stored_once_on_disk(check, media):
    content = jpeg()
    village = check.household.division
    second_check = c.check(check.campaign, factories.household(village), check.checker)
    a = services.photo_add(actor=check.checker, check=check, file=upload(content))
    b = services.photo_add(actor=check.checker, check=second_check, file=upload(content))
    assert a.file.name == b.file.name
    assert len(list((media / "photos").rglob("*.jpg"))) == 1
