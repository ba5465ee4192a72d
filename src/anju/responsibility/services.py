"""Writes of the responsibility chain (P18 市包县、县包镇、镇包村户): assign a person, end an assignment.

Each level is assigned by the level above: the city (admin) names the person of each county, the county manager
the person of each town of the county, the town staff the person of each village and household of the town.
A change never overwrites: the active row ends and a new one starts. Every write is audited, and once it commits
the open alerts under the target name the chain's person again (`anju.policy.services.alerts_reassign`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import Role, require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import ActionNotAllowed, ConflictError, DomainError, ScopeError
from anju.core.scope import in_scope
from anju.divisions.models import Division
from anju.policy.services import alerts_reassign
from anju.registry.models import Household

from .models import Assignment, TargetLevel

#: P18: who names the person of each level (市包县、县包镇、镇包村户).
ASSIGNER_ROLE = {
    TargetLevel.COUNTY: Role.ADMIN,
    TargetLevel.TOWN: Role.COUNTY_MANAGER,
    TargetLevel.VILLAGE: Role.TOWN_STAFF,
    TargetLevel.HOUSEHOLD: Role.TOWN_STAFF,
}
DIVISION_LEVELS = {"county": TargetLevel.COUNTY, "town": TargetLevel.TOWN, "village": TargetLevel.VILLAGE}


def target_of(*, division: Division | None = None, household: Household | None = None) -> tuple[str, str]:
    """(level, division code) of an assignment target: a county, town or village, or a household (its village)."""
    if household is not None:
        return TargetLevel.HOUSEHOLD, household.division_id
    if division is None or division.level not in DIVISION_LEVELS:
        message = _("只能为县（市、区）、乡镇（街道）、行政村或农户指定包抓责任人")
        raise DomainError(message, errors={"division": message})
    return DIVISION_LEVELS[division.level], division.code


def may_assign(actor: Any, level: str, code: str) -> bool:
    """The level rule of P18, without raising: for pages deciding whether to show the form."""
    try:
        _check_assigner(actor, level, code)
    except (DomainError, PermissionDenied):
        return False
    return True


def _check_assigner(actor: Any, level: str, code: str) -> None:
    """P18: `responsibility.assign`, the target in the actor's subtree, and the actor's role one level up."""
    require_action(actor, "responsibility.assign")
    if not in_scope(code, actor.scope_prefix):
        message = _("不在您的管辖范围内")
        raise ScopeError(message, errors={"division": message})
    role = ASSIGNER_ROLE[level]
    if role not in (actor.roles or []):
        message = _("{level}的包抓责任人由{role}指定（市包县、县包镇、镇包村户）").format(
            level=TargetLevel(level).label, role=Role(role).label
        )
        raise ActionNotAllowed(message, errors={"person": message})


def _check_person(person: User | None, code: str) -> None:
    """P18: the person is an active user working in the target division or in the division just above it."""
    if person is None:
        message = _("请选择责任人")
        raise DomainError(message, errors={"person": message})
    parent = Division.objects.filter(code=code).values_list("parent_id", flat=True).first()
    if not person.is_active or person.division_id not in {code, parent}:
        message = _("责任人须为本级或上一级区划的在岗人员")
        raise DomainError(
            _("{name}不能担任该区划的包抓责任人：{why}").format(name=person.get_full_name(), why=message),
            errors={"person": message},
        )


def _active(level: str, code: str, household: Household | None) -> Assignment | None:
    qs = Assignment.objects.active().select_for_update()
    if household is not None:
        return qs.filter(household=household).first()
    return qs.of_divisions().filter(division_id=code).first()


def _reassign_on_commit(code: str, household: Household | None) -> None:
    transaction.on_commit(
        partial(alerts_reassign, code=code, household_id=household.pk if household else None), robust=True
    )


@transaction.atomic(durable=True)
def assignment_assign(
    *,
    actor: Any,
    person: User | None,
    division: Division | None = None,
    household: Household | None = None,
    phone: str = "",
    reason: str = "",
) -> Assignment:
    """P18: name `person` for a county, town, village or household; an active assignment of someone else ends."""
    level, code = target_of(division=division, household=household)
    _check_assigner(actor, level, code)
    _check_person(person, code)
    reason = (reason or "").strip()[:200]
    phone = (phone or "").strip()[:20] or person.phone
    old = _active(level, code, household)
    if old is not None and old.person_id == person.pk:
        message = _("{name}已是该对象的包抓责任人").format(name=person.get_full_name())
        raise ConflictError(message, errors={"person": message})
    now = timezone.now()
    if old is not None:
        old.ended_at, old.ended_by, old.end_reason = now, actor, reason or _("更换责任人")
        old.save(update_fields=["ended_at", "ended_by", "end_reason"])
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                division_id=code,
                level=level,
                household=household,
                person=person,
                person_name=person.get_full_name(),
                phone=phone,
                reason=reason,
                assigned_by=actor,
                assigned_by_name=actor.get_full_name(),
                started_at=now,
            )
    except IntegrityError as exc:  # someone assigned the same target at the same moment
        raise ConflictError(_("该对象的责任人刚被他人更新，请刷新后重试"), errors={"person": _("已被更新")}) from exc
    event_record(
        actor=actor,
        action=Action.RESPONSIBLE_ASSIGNED,
        obj=assignment,
        before={"person": old.person_id, "person_name": old.person_name} if old else None,
        after={
            "level": level,
            "person": person.pk,
            "person_name": assignment.person_name,
            "phone": phone,
            "reason": reason,
            "household": household.pk if household else None,
        },
        extra={"ended": old.pk} if old else None,
    )
    _reassign_on_commit(code, household)
    return assignment


@transaction.atomic(durable=True)
def assignment_end(*, actor: Any, assignment: Assignment, reason: str = "") -> Assignment:
    """P18: the person no longer answers for the target (left the post); the history keeps the row."""
    _check_assigner(actor, assignment.level, assignment.division_id)
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.ended_at is not None:
        message = _("该责任人已于{when}解除").format(when=timezone.localtime(assignment.ended_at).strftime("%Y-%m-%d"))
        raise ConflictError(message, errors={"assignment": message})
    reason = (reason or "").strip()[:200]
    if not reason:
        message = _("请填写解除原因")
        raise DomainError(message, errors={"reason": message})
    assignment.ended_at, assignment.ended_by, assignment.end_reason = timezone.now(), actor, reason
    assignment.save(update_fields=["ended_at", "ended_by", "end_reason"])
    event_record(
        actor=actor,
        action=Action.RESPONSIBLE_ENDED,
        obj=assignment,
        before={"person": assignment.person_id, "person_name": assignment.person_name},
        after={"ended_at": assignment.ended_at, "reason": reason},
    )
    _reassign_on_commit(assignment.division_id, assignment.household)
    return assignment
