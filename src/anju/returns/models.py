"""P10: households made safe by other means (投亲靠友, 租住借住 …) and migrant workers back home (返乡) are followed by
their town and village; when one applies again, the policy is explained, the household confirms in writing that it
wants its house renovated, and a ledger case (source 重新申请) puts it into the county's plan."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped
from anju.registry.models import Household


class TrackingKind(models.TextChoices):
    SECURED = "secured", _("其他方式保障安全户")
    RETURNED = "returned", _("返乡户")


class Housing(models.TextChoices):
    """How the household is housed now."""

    RELATIVES = "relatives", _("投亲靠友")
    RENTED = "rented", _("租住借住")
    PUBLIC_RENTAL = "public_rental", _("集体公租房")
    OWN_SAFE = "own_safe", _("自有安全住房")
    OWN_DANGEROUS = "own_dangerous", _("居住在原危房")
    OTHER = "other", _("其他")


class TrackingState(models.TextChoices):
    TRACKING = "tracking", _("跟踪中")
    EXPLAINED = "explained", _("已解释政策")
    WISH_CONFIRMED = "wish_confirmed", _("已确认改造意愿")
    CASE_OPENED = "case_opened", _("已纳入台账")
    CLOSED = "closed", _("结束跟踪")


OPEN_STATES = (TrackingState.TRACKING, TrackingState.EXPLAINED, TrackingState.WISH_CONFIRMED)


class Tracking(Scoped):
    """One household followed by its town or village (P10), from the first record to a re-application's case or
    the end of the tracking. `origin_case` is the ledger case that made it safe by other means, if any."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="trackings")
    origin_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("原台账")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=TrackingKind.choices)
    housing = models.CharField(_("现住房情况"), max_length=20, choices=Housing.choices)
    housed_since = models.DateField(_("起始日期"))
    returned_on = models.DateField(_("返乡日期"), null=True, blank=True)
    followed_by = models.ForeignKey(
        "divisions.Division",
        to_field="code",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("跟踪单位"),
    )
    follower_name = models.CharField(_("跟踪人"), max_length=64, blank=True)
    notes = models.CharField(_("情况说明"), max_length=1000, blank=True)
    last_contact_on = models.DateField(_("最近联系日期"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=20, choices=TrackingState.choices, default=TrackingState.TRACKING)
    explained_on = models.DateField(_("政策解释日期"), null=True, blank=True)
    explained_by = models.CharField(_("解释人"), max_length=64, blank=True)
    explanation = models.CharField(_("解释内容"), max_length=1000, blank=True)
    wish_confirmed_on = models.DateField(_("确认改造意愿日期"), null=True, blank=True)
    wish_signed_by = models.CharField(_("签字确认人"), max_length=64, blank=True)
    wish_note = models.CharField(_("改造意愿"), max_length=1000, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("重新申请台账")
    )
    closed_on = models.DateField(_("结束日期"), null=True, blank=True)
    close_reason = models.CharField(_("结束原因"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Increased by every write: a form showing version 3 cannot change a record already at version 4.
    version = models.PositiveIntegerField(default=1)
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("跟踪农户")
        ordering = ["division_id", "-housed_since", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(state__in=["tracking", "explained", "wish_confirmed"]),
                name="tracking_one_open_per_household",
                violation_error_message=_("该农户已在跟踪中"),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TrackingKind.values),
                name="tracking_kind_valid",
                violation_error_message=_("类型无效"),
            ),
            models.CheckConstraint(
                condition=Q(housing__in=Housing.values),
                name="tracking_housing_valid",
                violation_error_message=_("现住房情况无效"),
            ),
            models.CheckConstraint(
                condition=Q(state__in=TrackingState.values),
                name="tracking_state_valid",
                violation_error_message=_("状态无效"),
            ),
            models.CheckConstraint(
                condition=~Q(kind="returned") | Q(returned_on__isnull=False),
                name="tracking_returned_has_date",
                violation_error_message=_("返乡户须填写返乡日期"),
            ),
            models.CheckConstraint(
                condition=~Q(state="case_opened") | Q(case__isnull=False),
                name="tracking_case_opened_has_case",
                violation_error_message=_("已纳入台账的须关联台账"),
            ),
            models.CheckConstraint(
                condition=Q(wish_confirmed_on__isnull=True)
                | (Q(explained_on__isnull=False) & Q(wish_confirmed_on__gte=F("explained_on"))),
                name="tracking_wish_after_explanation",
                violation_error_message=_("确认改造意愿须在政策解释之后"),
            ),
        ]
        indexes = [
            models.Index(fields=["division", "state"], name="tracking_scope_state_idx"),
            models.Index(fields=["state", "wish_confirmed_on"], name="tracking_wish_idx"),
        ]

    def __str__(self) -> str:
        return gettext("跟踪#{id} {name}户").format(
            id=self.pk, name=self.household.head_name if self.household_id else ""
        )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES
