"""Check-record endpoints: thin — parse, call a selector or service, return. Photos are multipart uploads."""

from typing import Any

from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.registry.models import House, Household

from .. import selectors
from ..forms_checks import CheckFilterForm
from ..models import Campaign, CheckRecord
from ..schemas_checks import CheckDetailOut, CheckFilters, CheckIn, CheckOut, CheckPatch, PhotoOut
from ..services import checks as services
from ..services import photos as photo_services

router = Router(tags=[_("核查记录")])


def _filters(filters: CheckFilters) -> dict[str, Any]:
    data = {k: v for k, v in filters.dict().items() if v not in (None, False)}
    form = CheckFilterForm(data=data)
    if not form.is_valid():
        raise DomainError(gettext("筛选条件有误"), errors={k: " ".join(v) for k, v in form.errors.items()})
    return form.cleaned_data


def _checker(pk: int | None) -> User | None:
    if pk is None:
        return None
    checker = User.objects.select_related("division").filter(pk=pk, is_active=True).first()
    if checker is None:
        raise DomainError(gettext("核查人不存在"), errors={"checker_id": gettext("核查人不存在或已停用")})
    return checker


def _findings(items: list[Any]) -> list[dict[str, Any]]:
    return [item.dict() for item in items]


@router.get("", response=list[CheckOut], url_name="checks_list")
@paginate(PageNumberPagination)
def checks_list(request: HttpRequest, filters: Query[CheckFilters]):
    require_action(request.user, "inspections.view")
    return selectors.check_list(actor=request.user, filters=_filters(filters))


@router.get("/{int:pk}", response=CheckDetailOut, url_name="checks_detail")
def checks_detail(request: HttpRequest, pk: int):
    require_action(request.user, "inspections.view")
    return selectors.check_get(actor=request.user, pk=pk)


@router.post("", response={201: CheckDetailOut}, url_name="checks_create")
def checks_create(request: HttpRequest, payload: CheckIn):
    """P5: record one household's check (P17: the checker trained this year); a suspected verdict opens a P8
    request. Photos go to `POST /checks/{id}/photos` afterwards."""
    require_action(request.user, "inspections.check")
    campaign = get_object_or_404(
        Campaign.objects.visible_to(request.user).select_related("division"), pk=payload.campaign_id
    )
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=payload.household_id)
    check = services.check_record(
        actor=request.user,
        campaign=campaign,
        household=household,
        checker=_checker(payload.checker_id),
        **payload.dict(exclude={"campaign_id", "household_id", "checker_id", "findings"}),
        findings=_findings(payload.findings),
    )
    return Status(201, selectors.check_get(actor=request.user, pk=check.pk))


@router.patch("/{int:pk}", response=CheckDetailOut, url_name="checks_update")
def checks_update(request: HttpRequest, pk: int, payload: CheckPatch):
    require_action(request.user, "inspections.check")
    check = get_object_or_404(CheckRecord.objects.visible_to(request.user), pk=pk)
    changes = payload.dict(exclude_unset=True)
    if "checker_id" in changes:
        changes["checker"] = _checker(changes.pop("checker_id"))
    findings = changes.pop("findings", None)
    services.check_update(
        actor=request.user, check=check, findings=None if findings is None else _findings(payload.findings), **changes
    )
    return selectors.check_get(actor=request.user, pk=pk)


@router.post("/{int:pk}/photos", response={201: list[PhotoOut]}, url_name="checks_photos")
@transaction.atomic
def checks_photos(
    request: HttpRequest,
    pk: int,
    files: File[list[UploadedFile]],
    house_id: Form[int | None] = None,
    caption: Form[str] = "",
):
    """Multipart upload of one or more photos (field `files`), each ≤ 15 MB; SHA-256, EXIF time and GPS are kept.
    All or nothing: one bad file refuses the whole upload."""
    require_action(request.user, "inspections.check")
    check = get_object_or_404(CheckRecord.objects.visible_to(request.user), pk=pk)
    house = None
    if house_id is not None:
        house = House.objects.filter(pk=house_id, household_id=check.household_id).first()
        if house is None:
            message = gettext("该房屋不属于本次核查的农户")
            raise DomainError(message, errors={"house_id": message})
    photos = [
        photo_services.photo_add(actor=request.user, check=check, file=file, house=house, caption=caption)
        for file in files
    ]
    return Status(201, photos)


@router.get("/{int:pk}/photos/{int:photo_id}", url_name="checks_photo_file", response={200: None})
def checks_photo_file(request: HttpRequest, pk: int, photo_id: int):
    """The photo file itself, only within the user's scope (404 outside it)."""
    require_action(request.user, "inspections.view")
    photo = selectors.photo_get(actor=request.user, pk=photo_id)
    if photo.check_record_id != pk:
        raise Http404
    try:
        handle = photo.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
