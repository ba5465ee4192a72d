"""API schemas of special periods and disasters (P9, P23): explicit fields, choices as {code, label}."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import (
    CoordinationNote,
    DamageLevel,
    DamageReport,
    Department,
    DisasterEvent,
    DisasterKind,
    EmergencyPlan,
    Resettlement,
    ResettlementMethod,
    Season,
)


class ChoiceOut(Schema):
    code: str
    label: str


def _choice(obj: Any, name: str) -> dict[str, str]:
    return {"code": getattr(obj, name), "label": str(getattr(obj, f"get_{name}_display")())}


class SeasonOut(Schema):
    county: str
    county_name: str
    season: ChoiceOut
    start_month: int
    start_day: int
    end_month: int
    end_day: int
    custom: bool = Field(description=_("本县自行设置（否则为榆阳默认时段）"))
    current_start: dt.date = Field(description=_("当前或下一期开始日期"))
    current_end: dt.date
    plan_id: int | None = Field(description=_("本期已备案的预案"))
    plan_due: bool = Field(description=_("已到备案时限（开始前15天起）且未备案（P9）"))


class SeasonIn(Schema):
    county: str = Field(description=_("县（市、区）区划代码"))
    season: Season
    start_month: int
    start_day: int
    end_month: int
    end_day: int


class PlanOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    county_name: str = Field(alias="division.name")
    season: ChoiceOut
    document_url: str

    class Meta:
        model = EmergencyPlan
        fields = ["id", "year", "title", "filed_on", "created_at"]

    @staticmethod
    def resolve_season(obj: EmergencyPlan) -> dict[str, str]:
        return _choice(obj, "season")

    @staticmethod
    def resolve_document_url(obj: EmergencyPlan) -> str:
        return reverse("api:plans_document", kwargs={"pk": obj.pk})


class PlanIn(Schema):
    county: str = Field(description=_("县（市、区）区划代码"))
    season: Season
    year: int
    title: str = Field(max_length=200)
    filed_on: dt.date


class DashboardOut(Schema):
    code: str
    name: str
    reported: int
    resettled: int
    appraised: int
    dangerous: int = Field(description=_("鉴定为C/D级"))
    rebuilt: int = Field(description=_("台账已验收或改造销号"))


class EventOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    kind: ChoiceOut

    class Meta:
        model = DisasterEvent
        fields = ["id", "name", "started_on", "ended_on", "affected_codes", "description", "is_sample"]

    @staticmethod
    def resolve_kind(obj: DisasterEvent) -> dict[str, str]:
        return _choice(obj, "kind")


class EventDetailOut(EventOut):
    dashboard: list[DashboardOut] = Field(description=_("各区划：上报、已安置、已鉴定、C/D级、已改造"))
    total: DashboardOut


class EventIn(Schema):
    kind: DisasterKind
    name: str = Field(max_length=200)
    started_on: dt.date
    ended_on: dt.date | None = None
    affected_codes: list[str] = Field(description=_("受灾的县（市、区）或乡镇（街道）区划代码"))
    description: str = Field("", max_length=2000)
    division: str | None = Field(None, description=_("登记单位的区划代码（默认本人所在县或市）"))


class EventPatch(Schema):
    name: str | None = Field(None, max_length=200)
    ended_on: dt.date | None = None
    affected_codes: list[str] | None = None
    description: str | None = Field(None, max_length=2000)


class ResettlementOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    report_id: int
    household_id: int
    method: ChoiceOut

    class Meta:
        model = Resettlement
        fields = ["id", "place", "since", "is_safe", "confirmed_by", "created_at"]

    @staticmethod
    def resolve_method(obj: Resettlement) -> dict[str, str]:
        return _choice(obj, "method")


class ResettlementIn(Schema):
    method: ResettlementMethod
    place: str = Field(max_length=200)
    since: dt.date
    is_safe: bool = False
    confirmed_by: str = Field("", max_length=64)


class ReportOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    event_id: int
    household_id: int
    head_name: str = Field(alias="household.head_name")
    house_id: int
    level: ChoiceOut
    appraisal_request_id: int | None

    class Meta:
        model = DamageReport
        fields = [
            "id",
            "people_affected",
            "casualties",
            "needs_resettlement",
            "description",
            "reported_on",
            "created_at",
        ]

    @staticmethod
    def resolve_level(obj: DamageReport) -> dict[str, str]:
        return _choice(obj, "level")


class ReportDetailOut(ReportOut):
    resettlements: list[ResettlementOut]
    photo_ids: list[int]

    @staticmethod
    def resolve_resettlements(obj: DamageReport) -> list[Resettlement]:
        return list(obj.resettlements.all())

    @staticmethod
    def resolve_photo_ids(obj: DamageReport) -> list[int]:
        return [p.pk for p in obj.photos.all()]


class ReportIn(Schema):
    event_id: int
    house_id: int
    level: DamageLevel
    people_affected: int = Field(0, ge=0, le=100)
    casualties: int = Field(0, ge=0, le=100)
    needs_resettlement: bool = False
    description: str = Field("", max_length=1000)
    reported_on: dt.date | None = None


class NoteOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    event_id: int
    department: ChoiceOut

    class Meta:
        model = CoordinationNote
        fields = ["id", "noted_on", "content", "created_at"]

    @staticmethod
    def resolve_department(obj: CoordinationNote) -> dict[str, str]:
        return _choice(obj, "department")


class NoteIn(Schema):
    department: Department
    noted_on: dt.date
    content: str = Field(max_length=2000)
