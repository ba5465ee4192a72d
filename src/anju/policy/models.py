"""Alerts (预警) raised by the policy rules; one open alert per rule and object."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped


class Severity(models.TextChoices):
    INFO = "info", _("提示")
    WARNING = "warning", _("预警")
    CRITICAL = "critical", _("严重")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("未处理")
    RESOLVED = "resolved", _("已消除")


class Alert(Scoped):
    """What a rule found about one object. Rules decide; a refresh opens, updates and resolves rows."""

    rule_id = models.CharField(_("规则"), max_length=40)
    policy_ids = models.JSONField(_("政策条款"), default=list)
    severity = models.CharField(_("级别"), max_length=10, choices=Severity.choices)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.BigIntegerField(_("对象编号"))
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    due_on = models.DateField(_("期限"), null=True, blank=True)
    message = models.CharField(_("内容"), max_length=500)
    reason = models.CharField(_("原因代码"), max_length=40, blank=True)
    responsible_name = models.CharField(_("责任人"), max_length=64, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    status = models.CharField(_("状态"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    opened_at = models.DateTimeField(_("发现时间"))
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_id", "object_type", "object_id", "reason"],
                condition=Q(status="open"),
                name="alert_one_open_per_rule_object",
            )
        ]
        indexes = [
            models.Index(fields=["status", "rule_id", "division"], name="alert_open_rule_scope_idx"),
            models.Index(fields=["status", "division"], name="alert_open_scope_idx"),
            models.Index(fields=["responsible", "status"], name="alert_responsible_idx"),
            # the alert list's order (earliest due first): a city-wide page reads 30 entries of this index
            models.Index(fields=["status", "due_on", "id"], name="alert_open_due_idx"),
        ]

    def __str__(self) -> str:
        return self.message
