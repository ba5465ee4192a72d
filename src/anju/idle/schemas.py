"""API schemas of the idle dangerous house list (P11). Writes that change a listing take an optional `version`
(the listing's version the client last saw): a stale one is refused with 409."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import DEFAULT_VISIT_INTERVAL_DAYS, MAX_VISIT_INTERVAL_DAYS, EndReason, IdleHouse, IdleVisit, VisitResult

VERSION_HELP = _("记录版本号（详情中的 version）；记录已被他人更新时返回409，请重新读取后再提交")


class IdleOut(ModelSchema):
    """One listing: where, whose house, secured or not, who visits it, when last and when next (P11)."""

    division_code: str = Field(alias="division_id")
    village: str = Field(alias="division.name")
    house_id: int
    household_id: int
    head_name: str = Field(alias="household.head_name")
    house_grade: str = Field(alias="house.grade", description=_("房屋当前等级"))
    is_secured: bool = Field(description=_("已封存且已张贴警示标识"))
    has_sign_photo: bool

    class Meta:
        model = IdleHouse
        fields = [
            "id",
            "grade",
            "listed_on",
            "sealed_on",
            "sealed_by",
            "sign_posted_on",
            "watcher_name",
            "visit_interval_days",
            "last_visited_on",
            "last_result",
            "next_visit_due_on",
            "ended_on",
            "end_reason",
            "end_note",
            "note",
            "version",
        ]

    @staticmethod
    def resolve_has_sign_photo(obj: IdleHouse) -> bool:
        return bool(obj.sign_photo)


class VisitOut(ModelSchema):
    class Meta:
        model = IdleVisit
        fields = ["id", "visited_on", "visitor_name", "result", "note", "action_taken"]


class IdleDetailOut(IdleOut):
    watcher_id: int | None
    watcher_phone: str
    visits: list[VisitOut]

    @staticmethod
    def resolve_visits(obj: IdleHouse) -> list[IdleVisit]:
        return list(obj.visits.order_by("-visited_on", "-id"))


class WatchIn(Schema):
    watcher_id: int | None = Field(None, description=_("巡查责任人（系统用户编号）；不填则须填写姓名和电话"))
    watcher_name: str = Field("", max_length=64)
    watcher_phone: str = Field("", max_length=20)
    visit_interval_days: int = Field(
        DEFAULT_VISIT_INTERVAL_DAYS, ge=1, le=MAX_VISIT_INTERVAL_DAYS, description=_("巡查周期（天），默认30")
    )
    note: str = Field("", max_length=500)


class IdleIn(WatchIn):
    house_id: int = Field(description=_("鉴定为C级或D级的房屋"))
    listed_on: dt.date


class IdlePatch(WatchIn):
    version: int | None = Field(None, description=VERSION_HELP)


class SecureIn(Schema):
    """Multipart form: the sign's photo travels as the file `sign_photo`."""

    sealed_on: dt.date | None = None
    sealed_by: str = Field("", max_length=64)
    sign_posted_on: dt.date | None = None
    version: int | None = Field(None, description=VERSION_HELP)


class VisitIn(Schema):
    visited_on: dt.date
    result: VisitResult
    note: str = Field("", max_length=500)
    action_taken: str = Field("", max_length=500, description=_("发现异常情况时必填"))
    version: int | None = Field(None, description=VERSION_HELP)


class EndIn(Schema):
    ended_on: dt.date
    reason: EndReason
    note: str = Field("", max_length=500)
    version: int | None = Field(None, description=VERSION_HELP)
