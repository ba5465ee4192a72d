"""API schemas for campaigns and their progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import Campaign, CampaignKind, TargetSet


class CampaignOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    division_name: str = Field(alias="division.name")

    class Meta:
        model = Campaign
        fields = ["id", "name", "kind", "year", "starts_on", "ends_on", "target_set", "note", "created_at"]


class ProgressRowOut(Schema):
    targets: int = Field(description=_("应核查户数"))
    checked: int = Field(description=_("已核查户数"))
    unchecked: int
    no_danger: int
    suspected: int = Field(description=_("结论为疑似危房的户数"))
    needs_repair: int
    coverage: float | None = Field(description=_("覆盖率（%），无应核查户时为空"))
    late: int = Field(description=_("截止后仍未核查的户数（P5）"))


class ChildProgressOut(ProgressRowOut):
    division_code: str
    division_name: str


class ProgressOut(Schema):
    division_code: str
    division_name: str
    child_level: str | None
    ended: bool
    total: ProgressRowOut
    children: list[ChildProgressOut]


class CampaignDetailOut(CampaignOut):
    progress: ProgressOut


def progress_out(progress: dict[str, Any]) -> dict[str, Any]:
    return {
        "division_code": progress["division"].code,
        "division_name": progress["division"].name,
        "child_level": progress["child_level"],
        "ended": progress["ended"],
        "total": progress["total"].as_dict(),
        "children": [
            {"division_code": child.code, "division_name": child.name, **row.as_dict()}
            for child, row in progress["children"]
        ],
    }


class CampaignIn(Schema):
    kind: CampaignKind
    starts_on: dt.date
    ends_on: dt.date = Field(description=_("截止日期；之后仍未核查的农户产生预警"))
    name: str = Field("", max_length=100, description=_("留空则按年度和类型自动命名"))
    year: int | None = Field(None, ge=2000, le=2100)
    target_set: TargetSet = TargetSet.ALL
    division_code: str | None = Field(None, description=_("核查范围的区划代码，默认本人所属区划"))
    note: str = Field("", max_length=500)


class CampaignAnnualIn(Schema):
    year: int | None = Field(None, ge=2000, le=2100, description=_("默认今年"))
    division_code: str | None = Field(None, description=_("默认本人所属区划"))


class CampaignPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    note: str | None = Field(None, max_length=500)


class CampaignFilters(Schema):
    kind: CampaignKind | None = None
    year: int | None = None
    division: str | None = None
