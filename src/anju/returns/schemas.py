"""API schemas of P10's tracking. Writes that change a record take an optional `version` (the record's version the
client last saw): a stale one is refused with 409."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import Housing, Tracking, TrackingKind

VERSION_HELP = _("记录版本号（详情中的 version）；记录已被他人更新时返回409，请重新读取后再提交")


class TrackingOut(ModelSchema):
    """One followed household: whose, how housed since when, who follows it, how far its re-application got."""

    division_code: str = Field(alias="division_id")
    village: str = Field(alias="division.name")
    household_id: int
    head_name: str = Field(alias="household.head_name")
    followed_by_code: str = Field(alias="followed_by_id")
    followed_by_name: str = Field(alias="followed_by.name")
    origin_case_id: int | None
    case_id: int | None

    class Meta:
        model = Tracking
        fields = [
            "id",
            "kind",
            "housing",
            "housed_since",
            "returned_on",
            "follower_name",
            "notes",
            "last_contact_on",
            "state",
            "explained_on",
            "explained_by",
            "explanation",
            "wish_confirmed_on",
            "wish_signed_by",
            "wish_note",
            "closed_on",
            "close_reason",
            "version",
        ]


class TrackingIn(Schema):
    household_id: int | None = Field(None, description=_("农户编号（与 origin_case_id 二选一）"))
    origin_case_id: int | None = Field(None, description=_("「保障安全」的台账编号：保障方式和日期取自台账"))
    kind: TrackingKind = TrackingKind.SECURED
    housing: Housing | None = None
    housed_since: dt.date | None = None
    returned_on: dt.date | None = Field(None, description=_("返乡户必填"))
    followed_by_code: str = Field("", max_length=12, description=_("跟踪单位：该户所在村或乡镇的区划代码，默认村"))
    follower_name: str = Field("", max_length=64)
    notes: str = Field("", max_length=1000)


class TrackingPatch(Schema):
    housing: Housing | None = None
    housed_since: dt.date | None = None
    returned_on: dt.date | None = None
    followed_by_code: str | None = Field(None, max_length=12)
    follower_name: str | None = Field(None, max_length=64)
    notes: str | None = Field(None, max_length=1000)
    last_contact_on: dt.date | None = None
    version: int | None = Field(None, description=VERSION_HELP)


class ExplainIn(Schema):
    explained_on: dt.date
    explained_by: str = Field(max_length=64)
    explanation: str = Field(max_length=1000)
    version: int | None = Field(None, description=VERSION_HELP)


class WishIn(Schema):
    confirmed_on: dt.date
    signed_by: str = Field(max_length=64, description=_("签字确认的家庭成员"))
    signed: bool = Field(description=_("农户已签字确认改造意愿"))
    note: str = Field("", max_length=1000)
    version: int | None = Field(None, description=VERSION_HELP)


class OpenCaseIn(Schema):
    house_id: int | None = None
    description: str = Field("", max_length=1000)


class CloseIn(Schema):
    closed_on: dt.date
    reason: str = Field(max_length=500)
    version: int | None = Field(None, description=VERSION_HELP)
