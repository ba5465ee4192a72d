"""API shapes of the responsibility chain (P18)."""

from __future__ import annotations

from ninja import Field, ModelSchema, Schema

from .models import Assignment, TargetLevel


class AssignmentOut(ModelSchema):
    level_label: str
    division_name: str

    class Meta:
        model = Assignment
        fields = ["id", "level", "division", "household", "person", "person_name", "phone", "reason",
                  "assigned_by", "assigned_by_name", "started_at", "ended_at", "ended_by", "end_reason"]  # fmt: skip

    @staticmethod
    def resolve_level_label(obj: Assignment) -> str:
        return str(TargetLevel(obj.level).label)

    @staticmethod
    def resolve_division_name(obj: Assignment) -> str:
        return obj.division.name


class AssignIn(Schema):
    """A division code (county, town or village) or a household id, and the person's user id."""

    division: str | None = Field(None, max_length=12, description="区划代码（县、乡镇、村）")
    household_id: int | None = Field(None, description="农户编号（镇包村户）")
    person_id: int
    phone: str = Field("", max_length=20)
    reason: str = Field("", max_length=200)


class EndIn(Schema):
    reason: str = Field(..., max_length=200)


class PersonOut(Schema):
    id: int
    name: str
    division: str | None
    phone: str
    assignments: list[AssignmentOut]
    open_alerts: int
    alerts_by_rule: dict[str, int]


class AssignmentFiltersIn(Schema):
    division: str | None = Field(None, description="区划代码：只列该区划内的责任人")
    level: TargetLevel | None = None
    person: int | None = None
    household: int | None = None
    history: bool = Field(False, description="含已解除的记录")
