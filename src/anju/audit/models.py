"""The append-only, hash-chained event log (fields after NetBox ObjectChange, actor/subject after Zulip)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import ScopedQuerySet

from .actions import Action


class Event(models.Model):
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=150)
    request_id = models.CharField(_("请求编号"), max_length=32, db_index=True)
    # Values come from the closed list `Action`; no `choices=` so a new action needs no migration.
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    division_code = models.CharField(_("行政区划"), max_length=12, db_index=True, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    extra = models.JSONField(_("附加信息"), null=True, blank=True)
    backfilled = models.BooleanField(_("补录"), default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    scope_field = "division_code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("审计事件")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action_label} {self.object_repr}"

    @property
    def action_label(self) -> str:
        return str(Action(self.action).label) if self.action in Action.values else self.action


class ChainHead(models.Model):
    """A single row locked while appending, so two writers cannot fork the chain; it also
    remembers the last event, so deleting the newest events is detected."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return gettext("链尾 #{id}").format(id=self.last_id)
