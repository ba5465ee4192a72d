"""The responsibility chain (包抓, P18): 市包县、县包镇、镇包村户.

One row is one person answering for one county, town, village or household over a span of time. A row is never
overwritten: changing the person ends the active row and starts a new one, so the history (who assigned whom,
when and why) stays complete as P18's archives require.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped, ScopedQuerySet


class TargetLevel(models.TextChoices):
    COUNTY = "county", _("县（市、区）")
    TOWN = "town", _("乡镇（街道）")
    VILLAGE = "village", _("行政村（社区）")
    HOUSEHOLD = "household", _("农户")


class AssignmentQuerySet(ScopedQuerySet):
    def active(self) -> AssignmentQuerySet:
        return self.filter(ended_at__isnull=True)

    def of_divisions(self) -> AssignmentQuerySet:
        return self.filter(household__isnull=True)


class Assignment(Scoped):
    """P18: `person` answers for a division (`division`, `household` empty) or for a household (`household`; its
    village in `division`) from `started_at` until `ended_at` (empty: still active)."""

    level = models.CharField(_("层级"), max_length=10, choices=TargetLevel.choices)
    household = models.ForeignKey(
        "registry.Household",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="responsibilities",
        verbose_name=_("农户"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="responsibilities", verbose_name=_("责任人")
    )
    person_name = models.CharField(_("责任人姓名"), max_length=64)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    reason = models.CharField(_("指定说明"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("指定人"),
    )
    assigned_by_name = models.CharField(_("指定人姓名"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("解除人"),
    )
    end_reason = models.CharField(_("解除说明"), max_length=200, blank=True)

    # An upper level's person is seen (not changed) down the tree: a village sees who answers for its town.
    scope_includes_ancestors = True
    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("包抓责任人")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["division"],
                condition=Q(ended_at__isnull=True, household__isnull=True),
                name="responsibility_one_active_per_division",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(ended_at__isnull=True, household__isnull=False),
                name="responsibility_one_active_per_household",
            ),
            models.CheckConstraint(
                condition=Q(level="household", household__isnull=False)
                | Q(~Q(level="household"), household__isnull=True),
                name="responsibility_household_level",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="responsibility_ends_after_start",
            ),
        ]
        indexes = [
            # a person's page and the per-person API: what they answer for now
            models.Index(fields=["person", "ended_at"], name="responsibility_person_idx"),
            # the chain page: a division's children and their active rows
            models.Index(fields=["division", "ended_at"], name="responsibility_division_idx"),
        ]

    def __str__(self) -> str:
        return self.person_name

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
