"""The closed list of audit actions. A value is never renamed or reused (after Zulip's AuditLogEventType)."""

from enum import unique

from django.db import models
from django.utils.translation import gettext_lazy as _


@unique
class Action(models.TextChoices):
    # accounts
    USER_CREATED = "accounts.user.created", _("创建用户")
    USER_CHANGED = "accounts.user.changed", _("修改用户")
    TOKEN_ISSUED = "accounts.token.issued", _("签发接口令牌")
    # divisions
    DIVISIONS_IMPORTED = "divisions.division.imported", _("导入行政区划")
    # registry
    HOUSEHOLD_CREATED = "registry.household.created", _("新增农户")
    HOUSEHOLD_CHANGED = "registry.household.changed", _("修改农户")
    HOUSEHOLD_ID_VIEWED = "registry.household.id_viewed", _("查看完整身份证号码")
    HOUSEHOLD_CATEGORY_ADDED = "registry.household.category_added", _("认定重点对象类型")
    HOUSEHOLD_CATEGORY_ENDED = "registry.household.category_ended", _("终止重点对象类型")
    MEMBER_ADDED = "registry.member.added", _("登记家庭成员")
    HOUSE_CREATED = "registry.house.created", _("新增房屋")
    HOUSE_CHANGED = "registry.house.changed", _("修改房屋")
    HOUSE_GRADED = "registry.house.graded", _("记录房屋安全等级")
    # demo
    DEMO_LOADED = "demo.data.loaded", _("生成演示数据")
