"""API schemas of complaints (P14), publicity and public opinion (P15).

The complainant's phone leaves the server masked; the full number only through the audited `phone` operation.
Every move of a complaint takes an optional `version` (the one the client last saw): a stale one is refused with 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from anju.cases.schemas import ChoiceOut, EventOut

from .models import (
    Category,
    Channel,
    Complaint,
    Hotline,
    OpinionIncident,
    OpinionSource,
    PublicityActivity,
    PublicityKind,
    ReplyMethod,
    ReviewResult,
    Satisfaction,
    Severity,
)
from .selectors import complaint_history, incident_history, is_overdue

VERSION_HELP = _("信访件版本号（详情中的 version）；已被他人更新时返回409，请重新读取后再提交")


def _choice(code: str, label: Any) -> dict[str, str] | None:
    return {"code": code, "label": str(label)} if code else None


def _places(obj: Any) -> dict[str, str | None]:
    """County, town and village names of a row's division, whatever its level."""
    names: dict[str, str | None] = {"county": None, "town": None, "village": None}
    division = obj.division
    while division is not None and division.level in names:
        names[division.level] = division.name
        division = division.parent if division.level != "county" else None  # what the list selected, no further
    return names


class HotlineOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    county: str = Field(alias="division.name")

    class Meta:
        model = Hotline
        fields = ["id", "number", "published_on", "published_where"]


class HotlineIn(Schema):
    division_code: str = Field(..., max_length=12, description=_("县级区划代码"))
    number: str = Field(..., max_length=40)
    published_on: dt.date
    published_where: str = Field(..., max_length=200, description=_("公布渠道，如县政府网站、村务公开栏、明白卡"))


class ComplaintOut(ModelSchema):
    """One complaint row: where, through which channel, about what, how far, and whether the reply is late."""

    division_code: str = Field(alias="division_id")
    county: str | None = None
    town: str | None = None
    village: str | None = None
    channel: ChoiceOut
    category: ChoiceOut
    state: ChoiceOut
    phone: str = Field(alias="phone_masked", description=_("联系电话（脱敏）"))
    household_id: int | None
    case_id: int | None
    handler_id: int | None
    overdue: bool = Field(description=_("已过答复期限仍未答复（P14）"))

    class Meta:
        model = Complaint
        fields = [
            "id",
            "received_on",
            "complainant_name",
            "content",
            "handler_name",
            "reply_due_on",
            "replied_on",
            "closed_on",
            "is_review",
            "version",
        ]

    @staticmethod
    def resolve_county(obj: Complaint) -> str | None:
        return _places(obj)["county"]

    @staticmethod
    def resolve_town(obj: Complaint) -> str | None:
        return _places(obj)["town"]

    @staticmethod
    def resolve_village(obj: Complaint) -> str | None:
        return _places(obj)["village"]

    @staticmethod
    def resolve_channel(obj: Complaint) -> dict[str, str] | None:
        return _choice(obj.channel, obj.get_channel_display())

    @staticmethod
    def resolve_category(obj: Complaint) -> dict[str, str] | None:
        return _choice(obj.category, obj.get_category_display())

    @staticmethod
    def resolve_state(obj: Complaint) -> dict[str, str] | None:
        return _choice(obj.state, obj.get_state_display())

    @staticmethod
    def resolve_overdue(obj: Complaint) -> bool:
        return is_overdue(obj)


class ComplaintDetailOut(ComplaintOut):
    """The complaint page: the row, the handling, the reply, satisfaction, the look-back and the whole history."""

    assigned_on: dt.date | None
    reply_text: str
    reply_method: ChoiceOut | None
    satisfaction: ChoiceOut | None
    close_note: str
    review_note: str
    review_result: ChoiceOut | None
    reviewed_on: dt.date | None
    history: list[EventOut]

    @staticmethod
    def resolve_reply_method(obj: Complaint) -> dict[str, str] | None:
        return _choice(obj.reply_method, obj.get_reply_method_display())

    @staticmethod
    def resolve_satisfaction(obj: Complaint) -> dict[str, str] | None:
        return _choice(obj.satisfaction, obj.get_satisfaction_display())

    @staticmethod
    def resolve_review_result(obj: Complaint) -> dict[str, str] | None:
        return _choice(obj.review_result, obj.get_review_result_display())

    @staticmethod
    def resolve_history(obj: Complaint) -> list[Any]:
        return list(complaint_history(obj))


class ComplaintIn(Schema):
    division_code: str | None = Field(None, max_length=12, description=_("所涉区划代码；关联农户时可省略"))
    channel: Channel
    received_on: dt.date
    complainant_name: str = Field(..., max_length=64)
    phone: str = Field("", max_length=30)
    content: str = Field(..., max_length=2000)
    category: Category
    household_id: int | None = None
    case_id: int | None = None
    is_review: bool = Field(False, description=_("回头看：对历史信访件的复查"))


class ComplaintPatch(Schema):
    complainant_name: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=30)
    content: str | None = Field(None, max_length=2000)
    category: Category | None = None
    household_id: int | None = None
    case_id: int | None = None
    version: int | None = Field(None, description=VERSION_HELP)


class AssignIn(Schema):
    handler_id: int
    assigned_on: dt.date | None = None
    reply_due_on: dt.date | None = Field(None, description=_("答复期限；省略时按来源渠道的规定期限"))
    version: int | None = Field(None, description=VERSION_HELP)


class ReplyIn(Schema):
    reply_text: str = Field(..., max_length=2000)
    reply_method: ReplyMethod
    replied_on: dt.date | None = None
    version: int | None = Field(None, description=VERSION_HELP)


class CloseIn(Schema):
    satisfaction: Satisfaction
    closed_on: dt.date | None = None
    close_note: str = Field("", max_length=1000)
    version: int | None = Field(None, description=VERSION_HELP)


class ReviewIn(Schema):
    review_note: str = Field(..., max_length=1000)
    review_result: ReviewResult
    reviewed_on: dt.date | None = None
    version: int | None = Field(None, description=VERSION_HELP)


class OpenCaseIn(Schema):
    description: str = Field("", max_length=1000, description=_("问题描述；省略时用反映内容"))
    house_id: int | None = None


class OpenCaseOut(Schema):
    complaint_id: int
    case_id: int


class PhoneOut(Schema):
    phone: str


class CountsOut(Schema):
    open_complaints: int
    overdue_complaints: int
    publicity_this_year: int
    open_incidents: int


class PublicityOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    division: str = Field(alias="division.name")
    kind: ChoiceOut
    has_photo: bool

    class Meta:
        model = PublicityActivity
        fields = ["id", "held_on", "title", "audience", "notes"]

    @staticmethod
    def resolve_kind(obj: PublicityActivity) -> dict[str, str] | None:
        return _choice(obj.kind, obj.get_kind_display())

    @staticmethod
    def resolve_has_photo(obj: PublicityActivity) -> bool:
        return bool(obj.photo)


class PublicityIn(Schema):
    division_code: str = Field(..., max_length=12)
    held_on: dt.date
    kind: PublicityKind
    title: str = Field(..., max_length=200)
    audience: int = Field(0, ge=0, le=1_000_000)
    notes: str = Field("", max_length=2000)


class PublicityPatch(Schema):
    held_on: dt.date | None = None
    kind: PublicityKind | None = None
    title: str | None = Field(None, max_length=200)
    audience: int | None = Field(None, ge=0, le=1_000_000)
    notes: str | None = Field(None, max_length=2000)


class IncidentOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    division: str = Field(alias="division.name")
    source: ChoiceOut
    severity: ChoiceOut
    is_open: bool

    class Meta:
        model = OpinionIncident
        fields = ["id", "found_on", "source_detail", "summary", "response", "responded_on", "closed_on"]

    @staticmethod
    def resolve_source(obj: OpinionIncident) -> dict[str, str] | None:
        return _choice(obj.source, obj.get_source_display())

    @staticmethod
    def resolve_severity(obj: OpinionIncident) -> dict[str, str] | None:
        return _choice(obj.severity, obj.get_severity_display())


class IncidentDetailOut(IncidentOut):
    history: list[EventOut]

    @staticmethod
    def resolve_history(obj: OpinionIncident) -> list[Any]:
        return list(incident_history(obj))


class IncidentIn(Schema):
    division_code: str = Field(..., max_length=12)
    found_on: dt.date
    source: OpinionSource
    source_detail: str = Field("", max_length=200)
    summary: str = Field(..., max_length=2000)
    severity: Severity = Severity.LOW


class RespondIn(Schema):
    response: str = Field(..., max_length=2000)
    responded_on: dt.date | None = None


class IncidentCloseIn(Schema):
    closed_on: dt.date | None = None
