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
    TRAINING_RECORDED = "accounts.training.recorded", _("登记培训")
    # inspections
    CAMPAIGN_CREATED = "inspections.campaign.created", _("创建核查批次")
    CAMPAIGN_CHANGED = "inspections.campaign.changed", _("修改核查批次")
    CHECK_RECORDED = "inspections.check.recorded", _("录入核查记录")
    CHECK_CHANGED = "inspections.check.changed", _("修改核查记录")
    PHOTO_ADDED = "inspections.photo.added", _("上传照片")
    REQUEST_OPENED = "inspections.request.opened", _("上报疑似危房")
    REQUEST_ASSIGNED = "inspections.request.assigned", _("指派鉴定人员")
    REQUEST_CANCELLED = "inspections.request.cancelled", _("撤销鉴定申请")
    APPRAISAL_RECORDED = "inspections.appraisal.recorded", _("录入鉴定结果")
    APPRAISAL_REVIEWED = "inspections.appraisal.reviewed", _("复核调整等级")
    COMPONENT_CHANGED = "inspections.component.changed", _("修改鉴定构件")
    # cases (the ledger)
    CASE_OPENED = "cases.case.opened", _("登记台账")
    CASE_CHANGED = "cases.case.changed", _("修改台账")
    CASE_APPRAISAL_REQUESTED = "cases.case.appraisal_requested", _("台账申请鉴定")
    CASE_APPRAISED = "cases.case.appraised", _("台账记录鉴定结果")
    CASE_PLANNED = "cases.case.planned", _("纳入改造计划")
    CASE_STARTED = "cases.case.started", _("改造开工")
    CASE_COMPLETED = "cases.case.completed", _("改造竣工")
    CASE_ACCEPTED = "cases.case.accepted", _("竣工验收")
    CASE_SECURED = "cases.case.secured", _("通过其他方式保障安全")
    CASE_CLOSED = "cases.case.closed", _("销号")
    CASE_CANCELLED = "cases.case.cancelled", _("撤销台账")
    RENOVATION_APPLIED = "cases.renovation.applied", _("登记农户申请及意愿")
    RENOVATION_DESIGNED = "cases.renovation.designed", _("登记结构设计")
    RENOVATION_BUILDER_SET = "cases.renovation.builder_set", _("确定施工工匠")
    SITE_VISIT_RECORDED = "cases.visit.recorded", _("施工巡查")
    SITE_VISIT_FIXED = "cases.visit.fixed", _("巡查问题整改完成")
    SIGNOFF_SIGNED = "cases.signoff.signed", _("四清签字")
    SUBSIDY_PAID = "cases.subsidy.paid", _("登记补助拨付")
    TRANSITIONAL_RECORDED = "cases.transitional.recorded", _("登记过渡安置")
    TRANSITIONAL_CONFIRMED = "cases.transitional.confirmed", _("确认过渡安置安全")
    CASE_PHOTO_ADDED = "cases.photo.added", _("上传台账照片")
    CRAFTSMAN_REGISTERED = "cases.craftsman.registered", _("登记建筑工匠")
    CRAFTSMAN_TRAINED = "cases.craftsman.trained", _("登记工匠培训")
    SUBSIDY_RATE_SET = "cases.subsidy_rate.set", _("设置补助标准")
    LEDGER_EXPORTED = "cases.ledger.exported", _("导出危房台账")
    RECTIFICATION_EXPORTED = "cases.rectification.exported", _("导出整改情况汇总")
    # policy
    ALERTS_REFRESHED = "policy.alerts.refreshed", _("刷新预警")
    MONITORING_EXPORTED = "policy.monitoring.exported", _("导出动态监测对象名单")
    # exchange
    HOUSEHOLDS_EXPORTED = "exchange.households.exported", _("导出农户与房屋")
    STATISTICS_EXPORTED = "exchange.statistics.exported", _("导出分区划统计表")
    # demo
    DEMO_LOADED = "demo.data.loaded", _("生成演示数据")
    # exchange
    COMPARISON_RUN = "exchange.comparison.run", _("部门数据比对")
    COMPARISON_APPLIED = "exchange.comparison.applied", _("处理比对结果")
    TASK_CLOSED = "exchange.task.closed", _("处理待登记农户")
    HOUSEHOLDS_IMPORTED = "exchange.households.imported", _("导入农户与房屋")
    PROBLEMS_IMPORTED = "exchange.problems.imported", _("导入问题清单")
