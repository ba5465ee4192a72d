"""The training ledger (培训台账, P17, P22): sessions held by a county or town, and who attended each.

A person is trained for a year when they are signed in (签到) at a session held that year; being on the list of a
session is not enough. Staff users and registered craftsmen are both attendees, so one ledger answers "who is
trained" for checks, appraisals (P17) and renovation jobs (P22).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped


class SessionKind(models.TextChoices):
    CHECK = "check", _("核查")
    APPRAISAL = "appraisal", _("鉴定")
    CRAFTSMAN = "craftsman", _("工匠")
    GENERAL = "general", _("综合")


class Session(Scoped):
    """One training session; `division` is the organising county or town, whose subtree sees it."""

    held_on = models.DateField(_("培训日期"))
    topic = models.CharField(_("培训内容"), max_length=200)
    kind = models.CharField(_("培训类别"), max_length=20, choices=SessionKind.choices, default=SessionKind.GENERAL)
    trainer = models.CharField(_("授课人"), max_length=64, blank=True)
    hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1, default=0)
    place = models.CharField(_("培训地点"), max_length=200, blank=True)
    materials = models.FileField(_("培训材料"), upload_to="training/%Y/", blank=True, max_length=255)
    is_migrated = models.BooleanField(
        _("由原年度培训记录迁移"), default=False, help_text=_("迁移前只记录了年度，没有场次信息")
    )
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("培训场次")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["held_on"], name="training_session_held_on")]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gte=0) & Q(hours__lte=100), name="training_session_hours_range"),
        ]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.topic}"


class Attendance(models.Model):
    """One person on a session's list: a staff user or a registered craftsman, signed in or not."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="attendances"
    )
    craftsman = models.ForeignKey(
        "cases.Craftsman", null=True, blank=True, on_delete=models.CASCADE, related_name="attendances"
    )
    signed_in = models.BooleanField(_("已签到"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("参训人员")
        ordering = ["session_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, craftsman__isnull=True) | Q(user__isnull=True, craftsman__isnull=False),
                name="training_attendance_one_person",
            ),
            models.UniqueConstraint(
                fields=["session", "user"], condition=Q(user__isnull=False), name="training_attendance_user_once"
            ),
            models.UniqueConstraint(
                fields=["session", "craftsman"],
                condition=Q(craftsman__isnull=False),
                name="training_attendance_craftsman_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.user_id or ''}{self.craftsman_id or ''}"

    @property
    def person(self) -> models.Model:
        return self.user if self.user_id else self.craftsman
