"""API schemas for check records, their findings and photos; ID numbers leave the server masked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import CheckRecord, HouseFinding, Photo, SiteHazard, Verdict


class CheckOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    village: str = Field(alias="division.name")
    town: str = Field(alias="division.parent.name")
    campaign_id: int
    campaign_name: str = Field(alias="campaign.name")
    household_id: int
    head_name: str = Field(alias="household.head_name")
    id_number: str = Field(alias="household.id_masked", description=_("户主身份证号码（脱敏）"))
    checker_id: int
    checker_name: str = Field(alias="checker.full_name")

    class Meta:
        model = CheckRecord
        fields = ["id", "checked_on", "verdict", "latitude", "longitude", "note", "created_at"]


class FindingOut(ModelSchema):
    house_id: int
    structure: str = Field(alias="house.structure")

    class Meta:
        model = HouseFinding
        fields = [
            "cracks",
            "tilt",
            "settlement",
            "roof_leak",
            "earth_wall_damp",
            "cave_arch_damage",
            "site_hazard",
            "occupied",
            "note",
        ]


class PhotoOut(ModelSchema):
    check_id: int | None = Field(alias="check_record_id")
    house_id: int | None
    url: str = Field(description=_("照片文件（需认证，范围外为404）"))

    class Meta:
        model = Photo
        fields = ["id", "sha256", "taken_at", "latitude", "longitude", "caption", "uploaded_at"]

    @staticmethod
    def resolve_url(obj: Photo) -> str:
        return reverse("api:checks_photo_file", kwargs={"pk": obj.check_record_id, "photo_id": obj.pk})


class RequestRefOut(Schema):
    id: int
    house_id: int
    status: str
    due_on: dt.date


class CheckDetailOut(CheckOut):
    findings: list[FindingOut] = Field(alias="findings.all")
    photos: list[PhotoOut] = Field(alias="photos.all")
    appraisal_requests: list[RequestRefOut] = Field(
        alias="appraisal_requests.all", description=_("疑似危房结论开出的鉴定申请（P8）")
    )


class FindingIn(Schema):
    house_id: int
    cracks: bool = False
    tilt: bool = False
    settlement: bool = False
    roof_leak: bool = False
    earth_wall_damp: bool = False
    cave_arch_damage: bool = False
    site_hazard: SiteHazard = SiteHazard.NONE
    occupied: bool = True
    note: str = Field("", max_length=500)


class CheckIn(Schema):
    campaign_id: int
    household_id: int
    verdict: Verdict
    checked_on: dt.date | None = Field(None, description=_("默认今天；不得早于批次开始日期、不得晚于今天"))
    checker_id: int | None = Field(None, description=_("核查人，默认本人；须已参加当年度培训（P17）"))
    latitude: Decimal | None = Field(None, ge=3, le=54)
    longitude: Decimal | None = Field(None, ge=73, le=136)
    note: str = Field("", max_length=500)
    findings: list[FindingIn] = []


class CheckPatch(Schema):
    verdict: Verdict | None = None
    checked_on: dt.date | None = None
    checker_id: int | None = None
    latitude: Decimal | None = Field(None, ge=3, le=54)
    longitude: Decimal | None = Field(None, ge=73, le=136)
    note: str | None = Field(None, max_length=500)
    findings: list[FindingIn] | None = Field(None, description=_("给出时整体替换原有的逐栋核查情况"))


class CheckFilters(Schema):
    division: str | None = None
    campaign: int | None = None
    verdict: Verdict | None = None
    household: int | None = None
    mine: bool = False
