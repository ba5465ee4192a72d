"""API schemas for alerts and the monitoring list; ID numbers leave the server masked."""

from __future__ import annotations

import datetime as dt

from ninja import Field, ModelSchema, Schema

from .models import Alert


class AlertOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    village: str = Field(alias="division.name")
    town: str | None = Field(None, alias="division.parent.name")
    county: str | None = Field(None, alias="division.parent.parent.name")
    household_id: int | None
    head_name: str | None = Field(None, alias="household.head_name")
    responsible_id: int | None

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule_id",
            "policy_ids",
            "severity",
            "object_type",
            "object_id",
            "due_on",
            "message",
            "reason",
            "responsible_name",
            "status",
            "opened_at",
            "resolved_at",
        ]


class ReasonOut(Schema):
    reason: str
    label: str
    message: str


class HouseBriefOut(Schema):
    id: int
    structure: str
    grade: str
    graded_on: dt.date | None


class MonitoringOut(Schema):
    id: int
    head_name: str
    id_number: str = Field(description="脱敏显示")
    division_code: str
    village: str
    town: str | None
    county: str | None
    categories: list[str]
    houses: list[HouseBriefOut]
    reasons: list[ReasonOut]
    responsible_name: str
