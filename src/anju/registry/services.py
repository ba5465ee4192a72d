"""Every write on the registry: one function per business action, scoped, validated, audited."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.audit.actions import Action
from anju.audit.services import diff, event_record
from anju.core import idnumber
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.core.scope import in_scope
from anju.divisions.models import Division, Level
from anju.policy.services import alerts_refresh_on_commit

from .models import (
    Grade,
    GradeRecord,
    GradeSource,
    House,
    Household,
    HouseholdCategory,
    Member,
    TargetCategory,
)
from .moves import move_household_rows

PHONE_RE = re.compile(r"^[0-9+\-() ]{7,20}$")
HOUSEHOLD_FIELDS = [
    "head_name", "phone", "size", "group_name", "security_method", "note", "division_id", "to_verify",
]  # fmt: skip
HOUSE_FIELDS = [
    "structure",
    "build_year",
    "storeys",
    "floor_area",
    "longitude",
    "latitude",
    "is_idle",
    "note",
]


def _village(*, actor: Any, code: str) -> Division:
    """The village a registry row belongs to: must exist, be a village and lie in the actor's subtree."""
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise DomainError(_("行政村不存在"), errors={"division_code": _("区划代码{code}不存在").format(code=code)})
    if division.level != Level.VILLAGE:
        raise DomainError(
            _("农户须登记到行政村"), errors={"division_code": _("「{name}」不是行政村").format(name=division.name)}
        )
    if actor is not None and not in_scope(code, actor.scope_prefix):
        raise ScopeError(
            _("不在您的管辖范围内"),
            errors={"division_code": _("「{name}」不在您的管辖范围内").format(name=division.name)},
        )
    return division


def _check(instance: models.Model, exclude: list[str] | None = None) -> None:
    """Row invariants (field rules and constraints) as a DomainError with per-field Chinese messages."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        errors = {("division_code" if k == "division" else k): " ".join(v) for k, v in exc.message_dict.items()}
        raise DomainError(_("输入有误，请检查标出的字段"), errors=errors) from exc


def _snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(instance, f) for f in fields}


def _require_in_scope(actor: Any, obj: Any) -> None:
    if actor is not None and not in_scope(obj.division_id, actor.scope_prefix):
        raise ScopeError(_("不在您的管辖范围内"))


def _clean_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if phone and not PHONE_RE.match(phone):
        raise DomainError(_("联系电话格式不正确"), errors={"phone": _("联系电话只能包含数字，长度7到20位")})
    return phone


def _id_fields(raw_id: str) -> dict[str, str]:
    try:
        value = idnumber.validate(raw_id)
    except ValidationError as exc:
        raise DomainError(_("身份证号码有误"), errors={"id_number": exc.messages[0]}) from exc
    return {
        "id_cipher": idnumber.encrypt(value),
        "id_hash": idnumber.keyed_hash(value),
        "id_masked": idnumber.mask(value),
    }


def _ensure_new_head(id_hash: str, exclude_pk: int | None = None) -> None:
    """P-registry rule: one head ID = one household."""
    clash = Household.objects.filter(id_hash=id_hash).exclude(pk=exclude_pk).select_related("division").first()
    if clash:
        raise ConflictError(
            _("该身份证号码已登记为户主"),
            errors={
                "id_number": _("该身份证号码已登记为户主（{name}，区划代码{code}）").format(
                    name=clash.head_name, code=clash.division_id
                )
            },
        )


@transaction.atomic
def household_create(
    *,
    actor: Any,
    division_code: str,
    head_name: str,
    id_number: str,
    size: int,
    phone: str = "",
    group_name: str = "",
    security_method: str = "own",
    note: str = "",
) -> Household:
    require_action(actor, "registry.add")
    _village(actor=actor, code=division_code)
    ids = _id_fields(id_number)
    household = Household(
        division_id=division_code,
        head_name=(head_name or "").strip(),
        phone=_clean_phone(phone),
        size=size,
        group_name=(group_name or "").strip(),
        security_method=security_method,
        note=note or "",
        **ids,
    )
    _check(household)
    _ensure_new_head(ids["id_hash"])
    try:
        with transaction.atomic():
            household.save()
    except IntegrityError as exc:  # a concurrent insert of the same head ID
        raise ConflictError(_("该身份证号码已登记为户主"), errors={"id_number": _("该身份证号码已登记为户主")}) from exc
    event_record(
        actor=actor,
        action=Action.HOUSEHOLD_CREATED,
        obj=household,
        after=_snapshot(household, HOUSEHOLD_FIELDS) | {"id_masked": household.id_masked},
    )
    return household


@transaction.atomic
def household_register(
    *,
    actor: Any,
    categories: list[tuple[str, dt.date | None]] = (),
    members: list[dict[str, Any]] = (),
    **fields: Any,
) -> Household:
    """Register a household with its target categories (code, certified on) and members, all or nothing:
    the one path the registration form and `POST /api/v1/households` share."""
    household = household_create(actor=actor, **fields)
    for member in members:
        member_add(actor=actor, household=household, **member)
    for code, certified_on in categories:
        category = TargetCategory.objects.filter(code=code, is_active=True).first()
        if category is None:
            raise DomainError(_("重点对象类型无效"), errors={"categories": _("未知类型「{code}」").format(code=code)})
        household_category_add(actor=actor, household=household, category=category, certified_on=certified_on)
    return household


@transaction.atomic
def household_update(*, actor: Any, household: Household, id_number: str | None = None, **changes: Any) -> Household:
    """Change the given fields; moving to another village moves the houses and members with it."""
    require_action(actor, "registry.change")
    household = Household.objects.select_for_update().get(pk=household.pk)
    _require_in_scope(actor, household)
    unknown = set(changes) - set(HOUSEHOLD_FIELDS) - {"division_code"}
    if unknown:
        raise DomainError(_("不能修改这些字段"), errors={k: _("不能修改此字段") for k in unknown})
    before = _snapshot(household, HOUSEHOLD_FIELDS) | {"id_masked": household.id_masked}
    if "division_code" in changes:
        changes["division_id"] = changes.pop("division_code")
    if "division_id" in changes and changes["division_id"] != household.division_id:
        _village(actor=actor, code=changes["division_id"])
    if "phone" in changes:
        changes["phone"] = _clean_phone(changes["phone"])
    for field, value in changes.items():
        setattr(household, field, value.strip() if isinstance(value, str) and field != "note" else value)
    id_changed = id_number is not None and idnumber.keyed_hash(idnumber.normalize(id_number)) != household.id_hash
    if id_changed:
        for field, value in _id_fields(id_number).items():
            setattr(household, field, value)
        _ensure_new_head(household.id_hash, exclude_pk=household.pk)
    _check(household)
    old, new = diff(before, _snapshot(household, HOUSEHOLD_FIELDS) | {"id_masked": household.id_masked})
    if not new and not id_changed:
        return household
    household.save()
    if before["division_id"] != household.division_id:
        move_household_rows(household, household.division_id)
        alerts_refresh_on_commit(household_ids=[household.pk])  # the responsible person follows the village
    event_record(
        actor=actor,
        action=Action.HOUSEHOLD_CHANGED,
        obj=household,
        before=old,
        after=new,
        extra={"id_number_changed": True} if id_changed else None,
    )
    return household


@transaction.atomic
def household_reveal_id(*, actor: Any, household: Household) -> str:
    """The full ID number, for roles allowed to see it; every full view is an audit event (PIPL)."""
    require_action(actor, "registry.view_id")
    _require_in_scope(actor, household)
    event_record(actor=actor, action=Action.HOUSEHOLD_ID_VIEWED, obj=household)
    return idnumber.decrypt(household.id_cipher)


@transaction.atomic
def household_category_add(
    *, actor: Any, household: Household, category: TargetCategory, certified_on: dt.date | None
) -> HouseholdCategory:
    require_action(actor, "registry.change")
    _require_in_scope(actor, household)
    if HouseholdCategory.objects.filter(household=household, category=category, ended_on__isnull=True).exists():
        raise ConflictError(
            _("已有有效认定"), errors={"category": _("该农户已认定为「{name}」").format(name=category.name)}
        )
    membership = HouseholdCategory.objects.create(
        household=household, category=category, certified_on=certified_on, division_id=household.division_id
    )
    event_record(
        actor=actor,
        action=Action.HOUSEHOLD_CATEGORY_ADDED,
        obj=household,
        after={"category": category.code, "certified_on": certified_on},
    )
    alerts_refresh_on_commit(household_ids=[household.pk])  # P7: target categories put households on the list
    return membership


@transaction.atomic
def household_category_end(*, actor: Any, membership: HouseholdCategory, ended_on: dt.date) -> HouseholdCategory:
    require_action(actor, "registry.change")
    membership = (
        HouseholdCategory.objects.select_for_update().select_related("household", "category").get(pk=membership.pk)
    )
    _require_in_scope(actor, membership)
    if membership.ended_on:
        raise ConflictError(_("该认定已终止"))
    membership.ended_on = ended_on
    _check(membership)
    membership.save(update_fields=["ended_on"])
    event_record(
        actor=actor,
        action=Action.HOUSEHOLD_CATEGORY_ENDED,
        obj=membership.household,
        after={"category": membership.category.code, "ended_on": ended_on},
    )
    alerts_refresh_on_commit(household_ids=[membership.household_id])  # P7
    return membership


@transaction.atomic
def member_add(*, actor: Any, household: Household, name: str, relation: str, birth_year: int | None = None) -> Member:
    """Members are optional detail of a household (no ID numbers kept for them)."""
    require_action(actor, "registry.change")
    _require_in_scope(actor, household)
    if birth_year is not None and not (1900 <= birth_year <= dt.date.today().year):
        raise DomainError(
            _("出生年份不合理"),
            errors={"birth_year": _("出生年份应在1900到{year}之间").format(year=dt.date.today().year)},
        )
    member = Member(
        household=household,
        division_id=household.division_id,
        name=(name or "").strip(),
        relation=(relation or "").strip(),
        birth_year=birth_year,
    )
    _check(member, exclude=["household", "division"])
    member.save()
    event_record(
        actor=actor,
        action=Action.MEMBER_ADDED,
        obj=household,
        after={"name": member.name, "relation": member.relation, "birth_year": birth_year},
    )
    return member


def _clean_house_values(values: dict[str, Any]) -> dict[str, Any]:
    this_year = dt.date.today().year
    year = values.get("build_year")
    if year is not None and not (1900 <= int(year) <= this_year):
        raise DomainError(
            _("建造年份不合理"), errors={"build_year": _("建造年份应在1900到{year}之间").format(year=this_year)}
        )
    for field in ("floor_area", "longitude", "latitude"):
        if values.get(field) is not None and not isinstance(values[field], Decimal):
            values[field] = Decimal(str(values[field]))
    return values


@transaction.atomic
def house_create(
    *,
    actor: Any,
    household: Household,
    structure: str,
    grade: str = Grade.UNRATED,
    graded_on: dt.date | None = None,
    appraiser: str = "",
    grade_source: str = GradeSource.MANUAL,
    **values: Any,
) -> House:
    """Register a house of a household; a known grade starts its grade history."""
    require_action(actor, "registry.add")
    _require_in_scope(actor, household)
    unknown = set(values) - set(HOUSE_FIELDS)
    if unknown:
        raise DomainError(_("未知字段"), errors={k: _("未知字段") for k in unknown})
    house = House(
        household=household, division_id=household.division_id, structure=structure, **_clean_house_values(values)
    )
    _check(house, exclude=["household", "division"])
    house.save()
    event_record(
        actor=actor,
        action=Action.HOUSE_CREATED,
        obj=house,
        after=_snapshot(house, HOUSE_FIELDS) | {"household": household.pk},
    )
    if grade != Grade.UNRATED:
        house_grade(
            actor=actor, house=house, grade=grade, graded_on=graded_on, source=grade_source, appraiser=appraiser
        )
        house.refresh_from_db()
    return house


@transaction.atomic
def house_update(*, actor: Any, house: House, **changes: Any) -> House:
    """Change descriptive fields; the grade changes only through `house_grade` (it has a history)."""
    require_action(actor, "registry.change")
    house = House.objects.select_for_update().get(pk=house.pk)
    _require_in_scope(actor, house)
    unknown = set(changes) - set(HOUSE_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段"), errors={k: _("不能在此修改") for k in unknown})
    before = _snapshot(house, HOUSE_FIELDS)
    for field, value in _clean_house_values(changes).items():
        setattr(house, field, value)
    _check(house, exclude=["household", "division"])
    old, new = diff(before, _snapshot(house, HOUSE_FIELDS))
    if new:
        house.save()
        event_record(actor=actor, action=Action.HOUSE_CHANGED, obj=house, before=old, after=new)
    return house


@transaction.atomic
def house_grade(
    *,
    actor: Any,
    house: House,
    grade: str,
    graded_on: dt.date | None,
    source: str,
    appraiser: str = "",
    note: str = "",
) -> GradeRecord:
    """Add a grade to the history; the current grade follows the latest record by date.

    An appraisal's result (source APPRAISAL) may also be written by an appraiser, whose role appraises but does
    not edit the registry: `inspections.appraisal_record` calls this with `inspections.appraise` as the authority.
    """
    if not (source == GradeSource.APPRAISAL and has_action(actor, "inspections.appraise")):
        require_action(actor, "registry.change")
    house = House.objects.select_for_update().get(pk=house.pk)
    _require_in_scope(actor, house)
    if grade == Grade.UNRATED:
        raise DomainError(_("等级不能改回未鉴定"), errors={"grade": _("鉴定结果只能是A、B、C或D级，不能改回未鉴定")})
    if grade not in (Grade.A, Grade.B, Grade.C, Grade.D):
        raise DomainError(_("安全等级无效"), errors={"grade": _("安全等级应为A、B、C或D")})
    if graded_on is None:
        raise DomainError(_("缺少鉴定日期"), errors={"graded_on": _("请填写鉴定日期")})
    if graded_on > dt.date.today():
        raise DomainError(_("鉴定日期不能晚于今天"), errors={"graded_on": _("鉴定日期不能晚于今天")})
    record = GradeRecord(
        house=house,
        division_id=house.division_id,
        grade=grade,
        graded_on=graded_on,
        source=source,
        appraiser=appraiser,
        note=note,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    _check(record, exclude=["house", "division", "recorded_by"])
    record.save()
    before = {"grade": house.grade, "graded_on": house.graded_on}
    if house.graded_on is None or graded_on >= house.graded_on:
        house.grade, house.graded_on = grade, graded_on
        house.save(update_fields=["grade", "graded_on", "updated_at"])
    event_record(
        actor=actor,
        action=Action.HOUSE_GRADED,
        obj=house,
        before=before,
        after={"grade": grade, "graded_on": graded_on, "source": source, "appraiser": appraiser},
    )
    alerts_refresh_on_commit(household_ids=[house.household_id])  # P7: B grades and reinforced houses
    return record
