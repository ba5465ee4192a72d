"""What each role may do: one table, tested cell by cell (DESIGN.md "Jurisdiction").

Actions are `<app_label>.<verb>`. Scope (which rows) is separate: see `anju.core.scope`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    CITY_SUPERVISOR = "city_supervisor", _("市级督导")
    COUNTY_MANAGER = "county_manager", _("县级管理员")
    APPRAISER = "appraiser", _("鉴定人员")
    TOWN_STAFF = "town_staff", _("乡镇人员")
    VILLAGE_STAFF = "village_staff", _("村级信息员")
    DEPARTMENT = "department", _("部门用户")


READ = {
    "divisions.view", "registry.view", "inspections.view", "policy.view", "cases.view", "exchange.view",
    "training.view", "responsibility.view", "disasters.view", "complaints.view", "supervision.view", "idle.view",
    "returns.view", "cards.view",
}  # fmt: skip
REGISTRY_WRITE = {"registry.add", "registry.change"}
FIELD_WORK = {"inspections.check", "inspections.report"}  # P5 checks and P8 direct reports
CASE_FIELD_WORK = {"cases.open", "cases.apply"}  # open ledger cases; the household's application, consent, photos
CASE_COUNTY_WORK = {"cases.manage", "cases.visit"}  # plan, design, builder, works, acceptance, close-out
DISASTER_REPORT = {"disasters.report"}  # P9: damage and resettlement reported at once, from the village up
# P11 idle dangerous houses, P10 returns: kept by village and town; P13 policy cards handed out there
LOCAL_WATCH = {"idle.manage", "returns.track", "cards.distribute"}
COUNTY_SPECIAL_WORK = {
    "training.manage", "disasters.manage", "complaints.handle", "complaints.publicity", "supervision.rectify",
}  # fmt: skip
TOWN_SPECIAL_WORK = {"complaints.handle", "complaints.publicity", "responsibility.assign"}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        READ
        | REGISTRY_WRITE
        | FIELD_WORK
        | {
            "registry.view_id", "divisions.import", "audit.view", "accounts.manage",
            "inspections.manage", "inspections.assign", "inspections.appraise", "inspections.review",
            "policy.refresh", "cases.configure", "exchange.compare", "exchange.apply", "exchange.task",
            "responsibility.assign", "supervision.inspect", "cards.configure",
        }
        | CASE_FIELD_WORK
        | CASE_COUNTY_WORK
        | DISASTER_REPORT
        | COUNTY_SPECIAL_WORK
        | LOCAL_WATCH
    ),
    Role.CITY_SUPERVISOR: frozenset(READ | {"audit.view", "supervision.inspect"}),  # city supervision teams (P3)
    Role.COUNTY_MANAGER: frozenset(
        READ
        | REGISTRY_WRITE
        | FIELD_WORK
        | {
            "registry.view_id", "divisions.import", "audit.view",
            "inspections.manage", "inspections.assign", "inspections.review", "cases.sign",
            "exchange.compare", "exchange.apply", "exchange.task", "responsibility.assign",
        }
        | CASE_FIELD_WORK
        | CASE_COUNTY_WORK
        | DISASTER_REPORT
        | COUNTY_SPECIAL_WORK
        | LOCAL_WATCH
    ),
    Role.APPRAISER: frozenset(READ | {"inspections.appraise"}),
    Role.TOWN_STAFF: frozenset(
        READ
        | REGISTRY_WRITE
        | FIELD_WORK
        | CASE_FIELD_WORK
        | DISASTER_REPORT
        | TOWN_SPECIAL_WORK
        | LOCAL_WATCH
        | {"registry.view_id", "cases.sign", "exchange.task"}
    ),
    Role.VILLAGE_STAFF: frozenset(
        READ
        | REGISTRY_WRITE
        | FIELD_WORK
        | CASE_FIELD_WORK
        | DISASTER_REPORT
        | LOCAL_WATCH
        | {"cases.sign", "exchange.task"}
    ),
    Role.DEPARTMENT: frozenset(READ | {"exchange.compare"}),  # a department compares its own lists (P6)
}  # fmt: skip


def actions_of(user: Any) -> frozenset[str]:
    cached = getattr(user, "_anju_actions", None)
    if cached is None:
        cached = frozenset().union(*(ROLE_ACTIONS.get(r, frozenset()) for r in (user.roles or [])))
        user._anju_actions = cached
    return cached


def has_action(user: Any, action: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return action in actions_of(user)


def require_action(user: Any, action: str) -> None:
    """Raise PermissionDenied (403) with a Chinese message when the roles lack `action`."""
    if not has_action(user, action):
        raise PermissionDenied(gettext("您的角色无权执行此操作"))
