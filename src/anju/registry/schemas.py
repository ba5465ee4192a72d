"""API schemas for the registry; ID numbers leave the server masked unless revealed (and audited)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import Grade, House, Household, SecurityMethod, Structure


class CategoryOut(Schema):
    code: str = Field(alias="category.code")
    name: str = Field(alias="category.name")
    certified_on: dt.date | None


class HouseholdOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    village: str = Field(alias="division.name")
    town: str = Field(alias="division.parent.name")
    county: str = Field(alias="division.parent.parent.name")
    id_number: str = Field(alias="id_masked", description=_("脱敏显示；有权限者加 reveal_id=true 查看完整号码（留痕）"))
    categories: list[CategoryOut] = Field(alias="active_categories")

    class Meta:
        model = Household
        fields = ["id", "head_name", "phone", "size", "group_name", "security_method", "note", "is_sample"]


class GradeRecordOut(Schema):
    grade: str
    graded_on: dt.date
    source: str
    appraiser: str
    note: str


class HouseOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    household_id: int
    head_name: str = Field(alias="household.head_name")

    class Meta:
        model = House
        fields = [
            "id",
            "structure",
            "build_year",
            "storeys",
            "floor_area",
            "longitude",
            "latitude",
            "is_idle",
            "grade",
            "graded_on",
            "note",
            "is_sample",
        ]


class HouseDetailOut(HouseOut):
    grade_history: list[GradeRecordOut] = Field(alias="grade_history.all")


class MemberOut(Schema):
    name: str
    relation: str
    birth_year: int | None


class HouseholdDetailOut(HouseholdOut):
    houses: list[HouseDetailOut] = Field(alias="houses.all")
    members: list[MemberOut] = Field(alias="members.all")


class CategoryIn(Schema):
    code: str
    certified_on: dt.date | None = None


class MemberIn(Schema):
    name: str = Field(min_length=1, max_length=64)
    relation: str = Field(min_length=1, max_length=16, description=_("与户主关系，如 配偶、子女、父母"))
    birth_year: int | None = Field(None, ge=1900, le=2100)


class HouseholdIn(Schema):
    division_code: str = Field(description=_("行政村12位区划代码"))
    head_name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(max_length=40)
    size: int = Field(ge=1, le=30)
    phone: str = Field("", max_length=20)
    group_name: str = Field("", max_length=32)
    security_method: SecurityMethod = SecurityMethod.OWN
    note: str = Field("", max_length=500)
    categories: list[CategoryIn] = []
    members: list[MemberIn] = []


class HouseholdPatch(Schema):
    division_code: str | None = None
    head_name: str | None = Field(None, min_length=1, max_length=64)
    id_number: str | None = Field(None, max_length=40)
    size: int | None = Field(None, ge=1, le=30)
    phone: str | None = Field(None, max_length=20)
    group_name: str | None = Field(None, max_length=32)
    security_method: SecurityMethod | None = None
    note: str | None = Field(None, max_length=500)


class HouseIn(Schema):
    household_id: int
    structure: Structure
    build_year: int | None = Field(None, ge=1900, le=2100)
    storeys: int = Field(1, ge=1, le=10)
    floor_area: Decimal | None = Field(None, gt=0, max_digits=8, decimal_places=2)
    longitude: Decimal | None = Field(None, ge=73, le=136)
    latitude: Decimal | None = Field(None, ge=3, le=54)
    is_idle: bool = False
    grade: Grade = Grade.UNRATED
    graded_on: dt.date | None = None
    note: str = Field("", max_length=500)


class HousePatch(Schema):
    structure: Structure | None = None
    build_year: int | None = Field(None, ge=1900, le=2100)
    storeys: int | None = Field(None, ge=1, le=10)
    floor_area: Decimal | None = Field(None, gt=0, max_digits=8, decimal_places=2)
    longitude: Decimal | None = Field(None, ge=73, le=136)
    latitude: Decimal | None = Field(None, ge=3, le=54)
    is_idle: bool | None = None
    grade: Grade | None = Field(None, description=_("新的安全等级（记入等级历史），须同时给出 graded_on"))
    graded_on: dt.date | None = None
    appraiser: str = Field("", max_length=64)
    note: str | None = Field(None, max_length=500)
