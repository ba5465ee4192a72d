"""Writes of the idle dangerous house list (P11): list a house, secure it (seal and warning sign), record visits,
change the watcher or interval, end the listing. Each checks `idle.manage` and the scope, locks the row, writes
one audit event, and re-evaluates the owner's alerts after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.checks import check_date, invalid, require, text
from anju.core.errors import ConflictError
from anju.core.scope import in_scope
from anju.policy.services import alerts_refresh_on_commit
from anju.registry.models import DANGEROUS_GRADES, House

from .models import (
    DEFAULT_VISIT_INTERVAL_DAYS,
    INCIDENT_RESULTS,
    MAX_VISIT_INTERVAL_DAYS,
    EndReason,
    IdleHouse,
    IdleVisit,
    VisitResult,
)

ACTION = "idle.manage"


def _require(actor: Any, code: str, field: str | None = None) -> None:
    require(actor, ACTION, code, field)


def _lock(idle: IdleHouse, expected_version: int | None) -> IdleHouse:
    """The listing, locked: two people recording on one house take turns; a stale form is refused."""
    locked = IdleHouse.objects.select_for_update(of=("self",)).select_related("household").get(pk=idle.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("该闲置危房记录已被他人更新，请刷新页面后重试"), errors={"version": _("记录已更新")})
    if locked.ended_on is not None:
        raise ConflictError(
            _("该闲置危房已于{day}销号，不能再修改").format(day=locked.ended_on.isoformat()),
            errors={"ended_on": _("已销号")},
        )
    return locked


def _watcher(actor: Any, code: str, watcher: Any, name: str, phone: str) -> tuple[dict[str, str], str, str]:
    """P11 "a named person": a user of the village or town, or a name with a phone number."""
    errors: dict[str, str] = {}
    if watcher is not None:
        if not watcher.is_active or not watcher.division_id or not in_scope(code, watcher.scope_prefix):
            errors["watcher"] = _("巡查责任人须是负责该村的在岗用户")
        name = name or watcher.full_name or watcher.username
        phone = phone or getattr(watcher, "phone", "") or ""
    if not name:
        errors["watcher_name"] = _("请填写巡查责任人")
    elif watcher is None and sum(c.isdigit() for c in phone) < 5:
        errors["watcher_phone"] = _("未选择系统用户的，请填写巡查责任人的联系电话")
    return errors, name[:64], phone[:20]


def _interval(value: Any) -> tuple[dict[str, str], int]:
    try:
        days = int(value if value not in (None, "") else DEFAULT_VISIT_INTERVAL_DAYS)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_VISIT_INTERVAL_DAYS:
        return {"visit_interval_days": _("巡查周期应在1到{n}天之间").format(n=MAX_VISIT_INTERVAL_DAYS)}, 0
    return {}, days


def next_due(idle: IdleHouse) -> dt.date:
    """P11: the next visit is due `visit_interval_days` after the last visit, or after listing if none yet."""
    return (idle.last_visited_on or idle.listed_on) + dt.timedelta(days=idle.visit_interval_days)


def _save(
    *,
    actor: Any,
    idle: IdleHouse,
    action: Action,
    fields: list[str],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> IdleHouse:
    idle.version += 1
    idle.save(update_fields=[*fields, "version", "updated_at"])
    event_record(actor=actor, action=action, obj=idle, before=before, after=after)
    alerts_refresh_on_commit(household_ids=[idle.household_id])
    return idle


@transaction.atomic(durable=True)
def idle_list(
    *,
    actor: Any,
    house: House,
    listed_on: dt.date | None,
    watcher: Any = None,
    watcher_name: str = "",
    watcher_phone: str = "",
    visit_interval_days: Any = DEFAULT_VISIT_INTERVAL_DAYS,
    note: str = "",
) -> IdleHouse:
    """P11: a C/D house that nobody lives in goes on the idle list with a named watcher and a visit interval."""
    _require(actor, house.division_id, "house")
    house = House.objects.select_for_update().select_related("household").get(pk=house.pk)
    errors = check_date(listed_on, "listed_on", _("列入日期"))
    if house.grade not in DANGEROUS_GRADES:
        errors["house"] = _("只有鉴定为C级或D级的危房才列入闲置危房名单（该房屋：{grade}）").format(
            grade=house.get_grade_display()
        )
    interval_errors, interval = _interval(visit_interval_days)
    watcher_errors, watcher_name, watcher_phone = _watcher(
        actor, house.division_id, watcher, text(watcher_name, 64), text(watcher_phone, 20)
    )
    errors |= interval_errors | watcher_errors
    if errors:
        raise invalid(errors)
    existing = IdleHouse.objects.filter(house=house, ended_on__isnull=True).first()
    if existing is not None:
        message = _("该房屋已在闲置危房名单中（#{id}）").format(id=existing.pk)
        raise ConflictError(message, errors={"house": message})
    idle = IdleHouse(
        division_id=house.division_id,
        house=house,
        household=house.household,
        grade=house.grade,
        listed_on=listed_on,
        listed_by=actor if getattr(actor, "pk", None) else None,
        note=text(note, 500),
        watcher=watcher,
        watcher_name=watcher_name,
        watcher_phone=watcher_phone,
        visit_interval_days=interval,
    )
    idle.next_visit_due_on = next_due(idle)
    idle.save()
    event_record(
        actor=actor,
        action=Action.IDLE_LISTED,
        obj=idle,
        after={
            "house": house.pk,
            "grade": house.grade,
            "listed_on": listed_on,
            "watcher": watcher.pk if watcher else None,
            "watcher_name": watcher_name,
            "visit_interval_days": interval,
            "next_visit_due_on": idle.next_visit_due_on,
        },
    )
    alerts_refresh_on_commit(household_ids=[house.household_id])
    return idle


@transaction.atomic(durable=True)
def idle_update(
    *,
    actor: Any,
    idle: IdleHouse,
    watcher: Any = None,
    watcher_name: str = "",
    watcher_phone: str = "",
    visit_interval_days: Any = DEFAULT_VISIT_INTERVAL_DAYS,
    note: str = "",
    expected_version: int | None = None,
) -> IdleHouse:
    """A new watcher or interval; the next visit is due again from the last visit (or listing)."""
    _require(actor, idle.division_id)
    idle = _lock(idle, expected_version)
    interval_errors, interval = _interval(visit_interval_days)
    watcher_errors, watcher_name, watcher_phone = _watcher(
        actor, idle.division_id, watcher, text(watcher_name, 64), text(watcher_phone, 20)
    )
    if interval_errors or watcher_errors:
        raise invalid(interval_errors | watcher_errors)
    fields = ("watcher_id", "watcher_name", "watcher_phone", "visit_interval_days", "note", "next_visit_due_on")
    before = {f: getattr(idle, f) for f in fields}
    idle.watcher, idle.watcher_name, idle.watcher_phone = watcher, watcher_name, watcher_phone
    idle.visit_interval_days, idle.note = interval, text(note, 500)
    idle.next_visit_due_on = next_due(idle)
    after = {f: getattr(idle, f) for f in fields}
    changed = [f for f in fields if before[f] != after[f]]
    return _save(
        actor=actor,
        idle=idle,
        action=Action.IDLE_CHANGED,
        fields=[f.removesuffix("_id") if f == "watcher_id" else f for f in changed],
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
    )


@transaction.atomic(durable=True)
def idle_secure(
    *,
    actor: Any,
    idle: IdleHouse,
    sealed_on: dt.date | None = None,
    sealed_by: str = "",
    sign_posted_on: dt.date | None = None,
    sign_photo: Any = None,
    expected_version: int | None = None,
) -> IdleHouse:
    """P11: the house is sealed (封存: when, by whom) and a warning sign posted (with a photo of it). Either may be
    recorded first; a later record replaces the earlier one, and the event keeps both."""
    from anju.inspections.services.photos import photo_facts, stored_name

    _require(actor, idle.division_id)
    idle = _lock(idle, expected_version)
    sealed_by = text(sealed_by, 64)
    errors: dict[str, str] = {}
    if sealed_on is None and sign_posted_on is None:
        errors["sealed_on"] = _("请填写封存情况或警示标识张贴情况")
    if sealed_on is not None:
        errors |= check_date(sealed_on, "sealed_on", _("封存日期"))
        if sealed_on < idle.listed_on - dt.timedelta(days=365):
            errors["sealed_on"] = _("封存日期过早，请核对")
        if not sealed_by:
            errors["sealed_by"] = _("请填写封存人")
    if sign_posted_on is not None:
        errors |= check_date(sign_posted_on, "sign_posted_on", _("警示标识张贴日期"))
        if sign_photo is None and not idle.sign_photo:
            errors["sign_photo"] = _("请上传警示标识照片")
    elif sign_photo is not None:
        errors["sign_posted_on"] = _("请填写警示标识张贴日期")
    if errors:
        raise invalid(errors)
    fields = ["sealed_on", "sealed_by", "sign_posted_on", "sign_photo_sha256"]
    before = {f: getattr(idle, f) for f in fields}
    if sealed_on is not None:
        idle.sealed_on, idle.sealed_by = sealed_on, sealed_by
    if sign_posted_on is not None:
        idle.sign_posted_on = sign_posted_on
    if sign_photo is not None:
        facts = photo_facts(sign_photo, field="sign_photo")
        idle.sign_photo, idle.sign_photo_sha256 = stored_name(facts, sign_photo), facts.sha256
    after = {f: getattr(idle, f) for f in fields}
    return _save(
        actor=actor,
        idle=idle,
        action=Action.IDLE_SECURED,
        fields=[*fields, "sign_photo"],
        before=before,
        after=after,
    )


@transaction.atomic(durable=True)
def idle_visit(
    *,
    actor: Any,
    idle: IdleHouse,
    visited_on: dt.date | None,
    result: str,
    note: str = "",
    action_taken: str = "",
    visitor_name: str = "",
    expected_version: int | None = None,
) -> IdleVisit:
    """P11 "checks them regularly, nobody lives there; incidents handled": a visit finds the house empty, or an
    incident (someone living there, a collapse, other) and says what was done. The next visit is due one interval
    after the latest visit."""
    _require(actor, idle.division_id)
    idle = _lock(idle, expected_version)
    note, action_taken = text(note, 500), text(action_taken, 500)
    visitor_name = text(visitor_name, 64) or getattr(actor, "full_name", "") or actor.username
    errors = check_date(visited_on, "visited_on", _("巡查日期"))
    if visited_on is not None and visited_on < idle.listed_on:
        errors["visited_on"] = _("巡查日期不能早于列入日期（{day}）").format(day=idle.listed_on.isoformat())
    if result not in VisitResult.values:
        errors["result"] = _("请选择巡查结果")
    elif result in INCIDENT_RESULTS and len(action_taken) < 2:
        errors["action_taken"] = _("发现异常情况，请填写处置措施（如劝离、设置围挡、报告乡镇）")
    if errors:
        raise invalid(errors)
    visit = IdleVisit.objects.create(
        division_id=idle.division_id,
        idle_house=idle,
        visited_on=visited_on,
        visitor=actor if getattr(actor, "pk", None) else None,
        visitor_name=visitor_name,
        result=result,
        note=note,
        action_taken=action_taken,
    )
    before = {"last_visited_on": idle.last_visited_on, "last_result": idle.last_result}
    if idle.last_visited_on is None or visited_on >= idle.last_visited_on:
        idle.last_visited_on, idle.last_result = visited_on, result
    idle.next_visit_due_on = next_due(idle)
    _save(
        actor=actor,
        idle=idle,
        action=Action.IDLE_VISITED,
        fields=["last_visited_on", "last_result", "next_visit_due_on"],
        before=before,
        after={
            "visit": visit.pk,
            "visited_on": visited_on,
            "result": result,
            "note": note,
            "action_taken": action_taken,
            "next_visit_due_on": idle.next_visit_due_on,
        },
    )
    return visit


@transaction.atomic(durable=True)
def idle_end(
    *,
    actor: Any,
    idle: IdleHouse,
    ended_on: dt.date | None,
    reason: str,
    note: str = "",
    expected_version: int | None = None,
) -> IdleHouse:
    """P11: the listing ends when the house is demolished, renovated or no longer dangerous; its alerts stop."""
    _require(actor, idle.division_id)
    idle = _lock(idle, expected_version)
    note = text(note, 500)
    errors = check_date(ended_on, "ended_on", _("销号日期"))
    if ended_on is not None and ended_on < idle.listed_on:
        errors["ended_on"] = _("销号日期不能早于列入日期（{day}）").format(day=idle.listed_on.isoformat())
    if reason not in EndReason.values:
        errors["end_reason"] = _("请选择销号原因")
    elif reason == EndReason.OTHER and len(note) < 2:
        errors["end_note"] = _("请说明销号原因")
    if errors:
        raise invalid(errors)
    idle.ended_on, idle.end_reason, idle.end_note = ended_on, reason, note
    return _save(
        actor=actor,
        idle=idle,
        action=Action.IDLE_ENDED,
        fields=["ended_on", "end_reason", "end_note"],
        after={"ended_on": ended_on, "end_reason": reason, "end_note": note},
    )


def may_manage(user: Any, idle: IdleHouse) -> bool:
    return has_action(user, ACTION) and idle.is_open and in_scope(idle.division_id, user.scope_prefix)
