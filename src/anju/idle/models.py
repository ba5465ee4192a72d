"""P11 idle dangerous houses (农村闲置危房): a C/D house nobody lives in is listed, sealed (封存), marked with a
warning sign, and visited by a named watcher at a fixed interval until it is demolished, renovated or no longer
dangerous. Visits record "nobody lives here" or an incident and what was done about it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped
from anju.registry.models import House, Household

#: P11 "checks them regularly": monthly unless the village sets another interval.
DEFAULT_VISIT_INTERVAL_DAYS = 30
MAX_VISIT_INTERVAL_DAYS = 180


class VisitResult(models.TextChoices):
    EMPTY = "empty", _("无人居住")
    OCCUPIED = "occupied", _("发现有人居住")
    COLLAPSED = "collapsed", _("房屋倒塌或局部垮塌")
    OTHER = "other", _("其他情况")


#: Results that are incidents: the visitor must say what was done.
INCIDENT_RESULTS = (VisitResult.OCCUPIED, VisitResult.COLLAPSED, VisitResult.OTHER)


class EndReason(models.TextChoices):
    DEMOLISHED = "demolished", _("已拆除")
    RENOVATED = "renovated", _("已修缮改造")
    NOT_DANGEROUS = "not_dangerous", _("经鉴定不再是危房")
    OTHER = "other", _("其他")


class IdleHouse(Scoped):
    """One listing of one idle C/D house, from listing to its end. `next_visit_due_on` is kept by the services
    (listing, each visit, a new interval) so the P11 alert and the list filter are one indexed comparison."""

    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="idle_listings", verbose_name=_("房屋"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("产权户"))
    grade = models.CharField(_("列入时等级"), max_length=1)
    listed_on = models.DateField(_("列入日期"))
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("备注"), max_length=500, blank=True)
    sealed_on = models.DateField(_("封存日期"), null=True, blank=True)
    sealed_by = models.CharField(_("封存人"), max_length=64, blank=True)
    sign_posted_on = models.DateField(_("警示标识张贴日期"), null=True, blank=True)
    sign_photo = models.FileField(_("警示标识照片"), upload_to="idle-photos/", blank=True)
    sign_photo_sha256 = models.CharField(max_length=64, blank=True)
    watcher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="watched_idle_houses",
        verbose_name=_("巡查责任人（系统用户）"),
    )
    watcher_name = models.CharField(_("巡查责任人"), max_length=64)
    watcher_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    visit_interval_days = models.PositiveSmallIntegerField(_("巡查周期（天）"), default=DEFAULT_VISIT_INTERVAL_DAYS)
    last_visited_on = models.DateField(_("最近巡查日期"), null=True, blank=True)
    last_result = models.CharField(_("最近巡查结果"), max_length=12, choices=VisitResult.choices, blank=True)
    next_visit_due_on = models.DateField(_("下次巡查截止日期"))
    ended_on = models.DateField(_("销号日期"), null=True, blank=True)
    end_reason = models.CharField(_("销号原因"), max_length=20, choices=EndReason.choices, blank=True)
    end_note = models.CharField(_("销号说明"), max_length=500, blank=True)
    #: Increased by every write: a form showing version 3 cannot change a listing already at version 4.
    version = models.PositiveIntegerField(default=1)
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("闲置危房")
        ordering = ["division_id", "-listed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["house"],
                condition=Q(ended_on__isnull=True),
                name="idle_one_open_per_house",
                violation_error_message=_("该房屋已在闲置危房名单中"),
            ),
            models.CheckConstraint(
                condition=Q(visit_interval_days__gte=1, visit_interval_days__lte=MAX_VISIT_INTERVAL_DAYS),
                name="idle_interval_1_180",
                violation_error_message=_("巡查周期应在1到180天之间"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | ~Q(end_reason=""),
                name="idle_end_has_reason",
                violation_error_message=_("销号须注明原因"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("listed_on")),
                name="idle_end_after_listing",
                violation_error_message=_("销号日期不能早于列入日期"),
            ),
            models.CheckConstraint(
                condition=Q(last_result__in=["", *VisitResult.values]),
                name="idle_last_result_valid",
                violation_error_message=_("巡查结果无效"),
            ),
        ]
        indexes = [
            models.Index(fields=["division", "ended_on"], name="idle_scope_open_idx"),
            models.Index(fields=["ended_on", "next_visit_due_on"], name="idle_due_idx"),
        ]

    def __str__(self) -> str:
        return gettext("闲置危房#{id} {name}").format(
            id=self.pk, name=self.household.head_name if self.household_id else ""
        )

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    @property
    def is_secured(self) -> bool:
        """P11: sealed and a warning sign posted."""
        return self.sealed_on is not None and self.sign_posted_on is not None


class IdleVisit(Scoped):
    """One visit of the watcher (or anyone of the village or town) to an idle house."""

    idle_house = models.ForeignKey(IdleHouse, on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField(_("巡查日期"))
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visitor_name = models.CharField(_("巡查人"), max_length=64)
    result = models.CharField(_("巡查结果"), max_length=12, choices=VisitResult.choices)
    note = models.CharField(_("现场情况"), max_length=500, blank=True)
    action_taken = models.CharField(_("处置措施"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("闲置危房巡查")
        ordering = ["idle_house_id", "-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=VisitResult.values),
                name="idle_visit_result_valid",
                violation_error_message=_("巡查结果无效"),
            ),
            models.CheckConstraint(
                condition=Q(result="empty") | ~Q(action_taken=""),
                name="idle_visit_incident_has_action",
                violation_error_message=_("发现异常情况须填写处置措施"),
            ),
        ]

    def __str__(self) -> str:
        return gettext("{day}巡查：{result}").format(day=self.visited_on, result=self.get_result_display())
