"""P13 policy cards (明白卡): the two card texts the city keeps, the yearly distribution round with its deadline,
and one distribution record per household or staff member."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped


class Audience(models.TextChoices):
    HOUSEHOLD = "household", _("农户明白卡")
    STAFF = "staff", _("工作人员明白卡")


class CardTemplate(models.Model):
    """One version of a card's text. Editing saves a new version, so a distribution names the text it handed out."""

    audience = models.CharField(_("对象"), max_length=10, choices=Audience.choices)
    version = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("标题"), max_length=60)
    body = models.TextField(_("政策要点"), max_length=1500)
    feedback = models.TextField(_("反映问题渠道 / 接待要求"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("明白卡模板")
        ordering = ["audience", "-version"]
        constraints = [models.UniqueConstraint(fields=["audience", "version"], name="card_template_version_once")]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} v{self.version}"


class CardRound(models.Model):
    """The year's distribution round and its deadline (the city sets it: the 2021 text's dates were one-off)."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    deadline = models.DateField(_("发放截止日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("明白卡发放批次")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CardDistribution(Scoped):
    """A card handed to a household (its village) or to a staff member (their division), signed for or not."""

    audience = models.CharField(_("对象"), max_length=10, choices=Audience.choices)
    household = models.OneToOneField(
        "registry.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="policy_card"
    )
    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="policy_card"
    )
    template = models.ForeignKey(CardTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("模板"))
    distributed_on = models.DateField(_("发放日期"))
    signed = models.BooleanField(_("本人签收"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    distributed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("明白卡发放记录")
        ordering = ["-distributed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience=Audience.HOUSEHOLD, household__isnull=False, person__isnull=True)
                | Q(audience=Audience.STAFF, household__isnull=True, person__isnull=False),
                name="card_one_recipient",
                violation_error_message=_("农户明白卡须对应农户，工作人员明白卡须对应工作人员"),
            )
        ]
        indexes = [models.Index(fields=["audience", "division"], name="card_audience_scope_idx")]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} {self.household_id or self.person_id}"
