"""API schemas for suspected dangers and appraisals; ID numbers leave the server masked."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from anju.registry.models import Grade

from .models import Appraisal, AppraisalRequest, DisasterPrevention


class AppraisalRequestOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    village: str = Field(alias="division.name")
    town: str = Field(alias="division.parent.name")
    house_id: int
    household_id: int = Field(alias="house.household_id")
    head_name: str = Field(alias="house.household.head_name")
    structure: str = Field(alias="house.structure")
    check_id: int | None = Field(alias="check_record_id")
    reported_by: str = Field(alias="reported_by.get_full_name")
    appraiser_id: int | None
    appraiser: str | None = Field(None, alias="appraiser.get_full_name")
    overdue: bool = Field(description=_("未鉴定且已过鉴定期限（P8）"))

    class Meta:
        model = AppraisalRequest
        fields = ["id", "source", "reported_on", "description", "due_on", "status", "assigned_on"]

    @staticmethod
    def resolve_overdue(obj: AppraisalRequest) -> bool:
        return obj.status in ("open", "assigned") and obj.due_on < dt.date.today()


class AppraisalRequestIn(Schema):
    """A direct report by town or village staff (P8); requests from checks are opened by the check itself."""

    house_id: int
    description: str = Field(min_length=1, max_length=1000, description=_("疑似危险情况"))
    reported_on: dt.date | None = Field(None, description=_("上报日期，默认今天"))


class AssignIn(Schema):
    appraiser_id: int = Field(description=_("鉴定人员的用户ID：须为本县（市、区）及以上、已参加本年度培训的鉴定人员"))
    assigned_on: dt.date | None = Field(None, description=_("指派日期，默认今天"))


class ComponentOut(Schema):
    code: str = Field(alias="spec.code")
    name: str = Field(alias="spec.name")
    grade: str
    note: str


class AppraisalOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    village: str = Field(alias="division.name")
    house_id: int
    household_id: int = Field(alias="house.household_id")
    head_name: str = Field(alias="house.household.head_name")
    request_id: int | None
    lead_appraiser: str = Field(alias="lead_appraiser.get_full_name")
    is_override: bool

    class Meta:
        model = Appraisal
        fields = [
            "id",
            "appraised_on",
            "structure",
            "site_dangerous",
            "disaster_prevention",
            "computed_grade",
            "final_grade",
            "flagged_for_review",
        ]


class AppraisalDetailOut(AppraisalOut):
    components: list[ComponentOut] = Field(alias="components.all")
    danger_points: list[str]
    site_note: str
    override_reason: str
    co_appraisers: str
    conclusion: str
    reviewed_at: dt.datetime | None
    photo_count: int

    @staticmethod
    def resolve_photo_count(obj: Appraisal) -> int:
        return len(obj.photos.all())


class ComponentIn(Schema):
    code: str = Field(max_length=40)
    grade: str = Field(pattern="^[abcd]$", description=_("a 无危险点，b 有危险点，c 局部危险，d 整体危险"))
    note: str = Field("", max_length=500)


class AppraisalIn(Schema):
    house_id: int
    request_id: int | None = Field(None, description=_("所答复的鉴定申请；不填时自动关联该房屋未完成的申请"))
    appraised_on: dt.date
    site_dangerous: bool = False
    site_note: str = Field("", max_length=500)
    disaster_prevention: DisasterPrevention
    components: list[ComponentIn] = Field(description=_("该结构启用的全部构件，每个构件一项"))
    final_grade: Grade | None = Field(None, description=_("与计算等级不同时须填写 override_reason，并标记待复核"))
    override_reason: str = Field("", max_length=1000)
    co_appraisers: str = Field("", max_length=200)
    conclusion: str = Field("", max_length=1000)
