"""Photos of checks and appraisals: checked to be images, stored by SHA-256, EXIF time and GPS read when present.

Files go to the default storage under MEDIA_ROOT, named by their SHA-256 (the same picture is stored once), and are
served only through the scoped photo view, never from a public /media/ URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.core.scope import in_scope

from ..models import Appraisal, CheckRecord, Photo

MAX_PHOTO_BYTES = 15 * 1024 * 1024
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CHUNK = 64 * 1024

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class PhotoFacts:
    sha256: str
    extension: str
    taken_at: dt.datetime | None
    latitude: Decimal | None
    longitude: Decimal | None


def _name(file: Any) -> str:
    return getattr(file, "name", "") or _("照片")


def _refuse(file: Any, message: str, field: str) -> DomainError:
    text = _("「{name}」{problem}").format(name=_name(file).rsplit("/", 1)[-1], problem=message)
    return DomainError(text, errors={field: text})


def _digest(file: Any, field: str) -> str:
    """SHA-256 while streaming; refuses files over 15 MB even if the client lied about the size."""
    if (getattr(file, "size", None) or 0) > MAX_PHOTO_BYTES:
        raise _refuse(file, _("超过15 MB，请压缩后再上传"), field)
    digest, total = hashlib.sha256(), 0
    file.seek(0)
    chunks = file.chunks(CHUNK) if hasattr(file, "chunks") else iter(lambda: file.read(CHUNK), b"")
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_PHOTO_BYTES:
            raise _refuse(file, _("超过15 MB，请压缩后再上传"), field)
        digest.update(chunk)
    if total == 0:
        raise _refuse(file, _("是空文件"), field)
    file.seek(0)
    return digest.hexdigest()


def _taken_at(exif_ifd: dict) -> dt.datetime | None:
    """EXIF DateTimeOriginal, in its OffsetTimeOriginal when given, else in the project's time zone."""
    raw = exif_ifd.get(DATETIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        naive = dt.datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if naive.year < 1990:
        return None
    offset = exif_ifd.get(OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str) and len(offset.strip()) >= 6:
        try:
            return dt.datetime.strptime(raw.strip("\x00 ")[:19] + offset.strip()[:6], "%Y:%m:%d %H:%M:%S%z")
        except ValueError:
            pass
    return timezone.make_aware(naive, zoneinfo.ZoneInfo(timezone.get_default_timezone_name()))


def _degrees(value: Any, ref: Any, limit: int) -> Decimal | None:
    try:
        d, m, s = (float(part) for part in value)
        degrees = Decimal(repr(d + m / 60 + s / 3600))
    except (TypeError, ValueError, ZeroDivisionError, InvalidOperation):
        return None
    if not degrees.is_finite():
        return None
    if isinstance(ref, bytes):
        ref = ref.decode(errors="ignore")
    if str(ref).strip().upper() in ("S", "W"):
        degrees = -degrees
    if not (-limit <= degrees <= limit):
        return None
    return degrees.quantize(SIX_PLACES, rounding=ROUND_HALF_UP)


def _gps(gps_ifd: dict) -> tuple[Decimal | None, Decimal | None]:
    lat = _degrees(gps_ifd.get(2), gps_ifd.get(1, "N"), 90) if gps_ifd.get(2) else None
    lon = _degrees(gps_ifd.get(4), gps_ifd.get(3, "E"), 180) if gps_ifd.get(4) else None
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None
    return lat, lon


def photo_facts(file: Any, *, field: str = "photos") -> PhotoFacts:
    """Refuse what is not a JPEG/PNG/WebP picture or is over 15 MB; read SHA-256, EXIF time and GPS."""
    sha256 = _digest(file, field)
    try:
        with Image.open(file) as image:
            kind = image.format
            image.verify()
        file.seek(0)
        with Image.open(file) as image:
            exif = image.getexif()
            exif_ifd = dict(exif.get_ifd(EXIF_IFD))
            gps_ifd = dict(exif.get_ifd(GPS_IFD))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(file, _("不是有效的图片文件（支持 JPG、PNG、WebP）"), field) from exc
    finally:
        file.seek(0)
    if kind not in FORMATS:
        raise _refuse(file, _("不是支持的图片格式（支持 JPG、PNG、WebP）"), field)
    latitude, longitude = _gps(gps_ifd)
    return PhotoFacts(sha256, FORMATS[kind], _taken_at(exif_ifd), latitude, longitude)


def stored_name(facts: PhotoFacts, file: Any) -> str:
    name = f"photos/{facts.sha256[:2]}/{facts.sha256}.{facts.extension}"
    if not default_storage.exists(name):
        file.seek(0)
        name = default_storage.save(name, file)
    return name


def store_photo(
    *,
    actor: Any,
    file: Any,
    check: CheckRecord | None = None,
    appraisal: Appraisal | None = None,
    house: Any = None,
    caption: str = "",
    field: str = "photos",
) -> Photo:
    """Validate, store and save one photo, without authority checks or audit: the calling service does both."""
    facts = photo_facts(file, field=field)
    owner = check or appraisal
    if Photo.objects.filter(sha256=facts.sha256, check_record=check, appraisal=appraisal).exists():
        raise ConflictError(_("该照片已上传"), errors={field: _("「{name}」已上传过").format(name=_name(file))})
    photo = Photo(
        division_id=owner.division_id,
        check_record=check,
        appraisal=appraisal,
        house=house,
        file=stored_name(facts, file),
        sha256=facts.sha256,
        taken_at=facts.taken_at,
        latitude=facts.latitude,
        longitude=facts.longitude,
        caption=(caption or "").strip()[:200],
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    photo.save()
    return photo


def photo_audit_facts(photo: Photo) -> dict[str, Any]:
    return {
        "sha256": photo.sha256,
        "taken_at": photo.taken_at,
        "latitude": photo.latitude,
        "longitude": photo.longitude,
        "house_id": photo.house_id,
    }


@transaction.atomic
def photo_add(
    *,
    actor: Any,
    file: Any,
    check: CheckRecord | None = None,
    appraisal: Appraisal | None = None,
    house: Any = None,
    caption: str = "",
) -> Photo:
    """Add a photo to a check (`inspections.check`) or an appraisal (`inspections.appraise`), in the actor's scope.

    Not durable: an appraisal service may call it inside its own transaction.
    """
    if (check is None) == (appraisal is None):
        raise DomainError(_("照片必须属于一次核查或一次鉴定"), errors={"photos": _("照片必须属于一次核查或一次鉴定")})
    owner = check or appraisal
    require_action(actor, "inspections.check" if check is not None else "inspections.appraise")
    if not in_scope(owner.division_id, actor.scope_prefix):
        raise ScopeError(_("不在您的管辖范围内"))
    if house is not None:
        belongs = house.household_id == check.household_id if check is not None else house.pk == appraisal.house_id
        if not belongs:
            raise DomainError(_("房屋不属于该农户"), errors={"house": _("该房屋不属于本次核查或鉴定的农户")})
    elif appraisal is not None:
        house = appraisal.house
    photo = store_photo(actor=actor, file=file, check=check, appraisal=appraisal, house=house, caption=caption)
    event_record(
        actor=actor,
        action=Action.PHOTO_ADDED,
        obj=photo,
        extra={"check_id": photo.check_record_id, "appraisal_id": photo.appraisal_id},
        after=photo_audit_facts(photo),
    )
    return photo
