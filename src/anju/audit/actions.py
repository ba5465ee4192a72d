"""The closed list of audit actions. A value is never renamed or reused (after Zulip's AuditLogEventType)."""

from enum import unique

from django.db import models


@unique
class Action(models.TextChoices):
    # accounts
    USER_CREATED = "accounts.user.created", "创建用户"
    USER_CHANGED = "accounts.user.changed", "修改用户"
    TOKEN_ISSUED = "accounts.token.issued", "签发接口令牌"
    # divisions
    DIVISIONS_IMPORTED = "divisions.division.imported", "导入行政区划"
    # registry
    HOUSEHOLD_CREATED = "registry.household.created", "新增农户"
    HOUSEHOLD_CHANGED = "registry.household.changed", "修改农户"
    HOUSEHOLD_ID_VIEWED = "registry.household.id_viewed", "查看完整身份证号码"
    HOUSEHOLD_CATEGORY_ADDED = "registry.household.category_added", "认定重点对象类型"
    HOUSEHOLD_CATEGORY_ENDED = "registry.household.category_ended", "终止重点对象类型"
    MEMBER_ADDED = "registry.member.added", "登记家庭成员"
    HOUSE_CREATED = "registry.house.created", "新增房屋"
    HOUSE_CHANGED = "registry.house.changed", "修改房屋"
    HOUSE_GRADED = "registry.house.graded", "记录房屋安全等级"
    # demo
    DEMO_LOADED = "demo.data.loaded", "生成演示数据"
