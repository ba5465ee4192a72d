"""The training ledger's API shapes (P17): sessions, attendees and the per-person ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import Attendance, Session, SessionKind


class ChoiceOut(Schema):
    code: str
    label: str


class SessionOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    organiser: str = Field(alias="division.name", description=_("组织单位"))
    kind: ChoiceOut
    attendee_count: int = Field(description=_("名单人数"))
    signed_count: int = Field(description=_("签到人数"))
    has_materials: bool

    class Meta:
        model = Session
        fields = ["id", "held_on", "topic", "trainer", "hours", "place", "is_migrated", "is_sample"]

    @staticmethod
    def resolve_kind(obj: Session) -> dict[str, str]:
        return {"code": obj.kind, "label": str(obj.get_kind_display())}

    @staticmethod
    def resolve_has_materials(obj: Session) -> bool:
        return bool(obj.materials)


class AttendeeOut(ModelSchema):
    person_type: str = Field(description=_("user：工作人员；craftsman：建筑工匠"))
    person_id: int
    name: str
    division_code: str

    class Meta:
        model = Attendance
        fields = ["id", "signed_in"]

    @staticmethod
    def resolve_person_type(obj: Attendance) -> str:
        return "user" if obj.user_id else "craftsman"

    @staticmethod
    def resolve_person_id(obj: Attendance) -> int:
        return obj.user_id or obj.craftsman_id

    @staticmethod
    def resolve_name(obj: Attendance) -> str:
        return obj.user.get_full_name() if obj.user_id else obj.craftsman.name

    @staticmethod
    def resolve_division_code(obj: Attendance) -> str:
        return (obj.user.division_id if obj.user_id else obj.craftsman.division_id) or ""


class SessionDetailOut(SessionOut):
    attendees: list[AttendeeOut]

    @staticmethod
    def resolve_attendees(obj: Session) -> list[Attendance]:
        return list(obj.attendances.all())

    @staticmethod
    def resolve_attendee_count(obj: Session) -> int:
        return len(obj.attendances.all())

    @staticmethod
    def resolve_signed_count(obj: Session) -> int:
        return sum(1 for a in obj.attendances.all() if a.signed_in)


class SessionIn(Schema):
    division: str = Field(description=_("组织单位（县或乡镇）的区划代码"), max_length=12)
    held_on: dt.date
    topic: str = Field(max_length=200)
    kind: SessionKind = SessionKind.GENERAL
    trainer: str = Field("", max_length=64)
    hours: Decimal = Field(Decimal(0), ge=0, le=100)
    place: str = Field("", max_length=200)
    user_ids: list[int] = Field(default_factory=list, description=_("参训工作人员的用户编号"))
    craftsman_ids: list[int] = Field(default_factory=list, description=_("参训建筑工匠的编号"))
    signed_in: bool = Field(True, description=_("名单中的人员均已签到（预先登记的培训填 false）"))


class AttendeeIn(Schema):
    user_id: int | None = None
    craftsman_id: int | None = None
    signed_in: bool = True


class LedgerRowOut(Schema):
    person_type: str = Field(alias="kind", description=_("user：工作人员；craftsman：建筑工匠"))
    person_id: int = Field(alias="pk")
    name: str
    roles: list[str]
    division_code: str
    division_name: str
    trained: bool
    sessions: int = Field(description=_("本年度签到的培训场次"))
    hours: Decimal = Field(description=_("本年度培训学时"))
    last_on: dt.date | None = Field(description=_("本年度最近一次培训日期"))
