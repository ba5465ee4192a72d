"""Special periods and disasters (P9, P23): the counties' emergency plans for the flood and freeze-thaw seasons,
disaster events, the damage reported house by house from the village, transitional resettlement first, and the
coordination with other departments. A damaged house is graded only through an appraisal (inspections), never here.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped
from anju.registry.models import House, Household


class Season(models.TextChoices):
    FLOOD = "flood", _("汛期")
    FREEZE = "freeze", _("冻融期")


#: P9: Yulin's seasons as (start month, start day, end month, end day); a window whose end comes before its start
#: runs into the next year. A county records its own dates as a `SeasonWindow`, which takes precedence.
DEFAULT_WINDOWS: dict[str, tuple[int, int, int, int]] = {
    Season.FLOOD: (6, 1, 9, 30),
    Season.FREEZE: (11, 15, 3, 15),
}


class SeasonWindow(Scoped):
    """A county's own dates of one season (the county changes them when its climate differs from Yulin's
    default in `DEFAULT_WINDOWS`). `division` is the county."""

    season = models.CharField(_("时段"), max_length=10, choices=Season.choices)
    start_month = models.PositiveSmallIntegerField(_("开始月"))
    start_day = models.PositiveSmallIntegerField(_("开始日"))
    end_month = models.PositiveSmallIntegerField(_("结束月"))
    end_day = models.PositiveSmallIntegerField(_("结束日"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("特殊时段")
        constraints = [
            models.UniqueConstraint(fields=["division", "season"], name="season_window_once_per_county"),
            models.CheckConstraint(
                condition=Q(start_month__gte=1, start_month__lte=12, end_month__gte=1, end_month__lte=12)
                & Q(start_day__gte=1, start_day__lte=31, end_day__gte=1, end_day__lte=31),
                name="season_window_valid_dates",
                violation_error_message=_("月份或日期无效"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.division_id} {self.season}"


class EmergencyPlan(Scoped):
    """P9: a county's emergency plan (应急预案) for one season of one year, filed before the season starts.
    `division` is the county; its towns and villages see it too."""

    season = models.CharField(_("时段"), max_length=10, choices=Season.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("预案名称"), max_length=200)
    filed_on = models.DateField(_("印发日期"))
    document = models.FileField(_("预案文件"), upload_to="disaster-plans/%Y/")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_includes_ancestors = True  # the county's plan is known in every town and village of it

    class Meta:
        verbose_name = _("应急预案")
        ordering = ["-year", "division_id", "season"]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "season", "year"],
                name="plan_once_per_county_season_year",
                violation_error_message=_("该县本年度该时段的应急预案已备案"),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DisasterKind(models.TextChoices):
    FLOOD = "flood", _("暴雨洪涝")
    EARTHQUAKE = "earthquake", _("地震")
    FREEZE_THAW = "freeze_thaw", _("冻融")
    WIND_HAIL = "wind_hail", _("风雹")
    GEOLOGICAL = "geological", _("地质灾害")
    OTHER = "other", _("其他")


class DisasterEvent(Scoped):
    """A disaster the county (or the city) declares, so villages can report damage against it. `division` is the
    declaring county or city; everyone below sees it (`scope_includes_ancestors`), only its level changes it."""

    kind = models.CharField(_("灾害类型"), max_length=20, choices=DisasterKind.choices)
    name = models.CharField(_("名称"), max_length=200)
    started_on = models.DateField(_("发生日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    affected_codes = models.JSONField(_("受灾区划"), default=list, blank=True)
    description = models.CharField(_("灾情描述"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_includes_ancestors = True

    class Meta:
        verbose_name = _("灾害事件")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="disaster_ends_after_start",
                violation_error_message=_("结束日期不能早于发生日期"),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=DisasterKind.values),
                name="disaster_kind_valid",
                violation_error_message=_("灾害类型无效"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open_on(self, day: dt.date) -> bool:
        return self.ended_on is None or self.ended_on >= day


class DamageLevel(models.TextChoices):
    MINOR = "minor", _("轻微")
    MODERATE = "moderate", _("一般")
    SEVERE = "severe", _("严重")
    COLLAPSED = "collapsed", _("倒塌")


#: P23: damage that makes the house dangerous again until an appraisal says otherwise.
SERIOUS_LEVELS = (DamageLevel.SEVERE, DamageLevel.COLLAPSED)


class DamageReport(Scoped):
    """P9: the damage to one house in one event, reported at once from the village. `division` is the house's."""

    event = models.ForeignKey(DisasterEvent, on_delete=models.PROTECT, related_name="reports")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="damage_reports")
    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="damage_reports")
    level = models.CharField(_("受损程度"), max_length=10, choices=DamageLevel.choices)
    people_affected = models.PositiveSmallIntegerField(_("受灾人数"), default=0)
    casualties = models.PositiveSmallIntegerField(_("伤亡人数"), default=0)
    needs_resettlement = models.BooleanField(_("需过渡安置"), default=False)
    description = models.CharField(_("受损情况"), max_length=1000, blank=True)
    reported_on = models.DateField(_("上报日期"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appraisal_request = models.ForeignKey(
        "inspections.AppraisalRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("灾损报告")
        ordering = ["-reported_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "house"], name="damage_once_per_event_house", violation_error_message=_("该房屋已上报")
            ),
            models.CheckConstraint(
                condition=Q(level__in=DamageLevel.values),
                name="damage_level_valid",
                violation_error_message=_("受损程度无效"),
            ),
        ]
        indexes = [models.Index(fields=["event", "division"], name="damage_event_scope_idx")]

    def __str__(self) -> str:
        return gettext("{name}的灾损报告").format(name=self.household.head_name if self.household_id else "")

    @property
    def is_serious(self) -> bool:
        return self.level in SERIOUS_LEVELS


class DamagePhoto(Scoped):
    """A photo of the damage, checked and stored by SHA-256 like check and case photos."""

    report = models.ForeignKey(DamageReport, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("照片"), upload_to="damage-photos/%Y/%m/")
    sha256 = models.CharField(max_length=64, db_index=True)
    taken_at = models.DateTimeField(_("拍摄时间"), null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=8, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("灾损照片")
        ordering = ["report_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "sha256"], name="damage_photo_once", violation_error_message=_("该照片已上传")
            )
        ]

    def __str__(self) -> str:
        return self.sha256[:12]


class ResettlementMethod(models.TextChoices):
    RELATIVES = "relatives", _("投亲靠友")
    RENTED = "rented", _("租住借住")
    CENTRAL = "central", _("集中安置")
    TRANSITIONAL_HOUSE = "transitional_house", _("过渡房")
    TENT = "tent", _("帐篷")


class Resettlement(Scoped):
    """P9: where a damaged household lives meanwhile (过渡安置), since when, and whether someone confirmed the
    place is safe. A household may move on (tent → transitional house): each move is one row."""

    report = models.ForeignKey(DamageReport, on_delete=models.PROTECT, related_name="resettlements")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="resettlements")
    method = models.CharField(_("安置方式"), max_length=20, choices=ResettlementMethod.choices)
    place = models.CharField(_("安置地点"), max_length=200)
    since = models.DateField(_("安置日期"))
    is_safe = models.BooleanField(_("安置点安全"), default=False)
    confirmed_by = models.CharField(_("安全确认人"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("过渡安置")
        ordering = ["report_id", "-since", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_safe=False) | ~Q(confirmed_by=""),
                name="resettlement_safe_has_confirmer",
                violation_error_message=_("确认安全须注明确认人"),
            ),
        ]

    def __str__(self) -> str:
        return self.place


class Department(models.TextChoices):
    EMERGENCY = "emergency", _("应急管理")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    FINANCE = "finance", _("财政")
    OTHER = "other", _("其他")


class CoordinationNote(Scoped):
    """P9: what was agreed with 应急管理, 民政, 财政 or another department about one event. `division` is the
    writer's county (or the city); its towns and villages read it on the event page."""

    event = models.ForeignKey(DisasterEvent, on_delete=models.PROTECT, related_name="notes")
    department = models.CharField(_("部门"), max_length=20, choices=Department.choices)
    noted_on = models.DateField(_("日期"))
    content = models.CharField(_("内容"), max_length=2000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_includes_ancestors = True

    class Meta:
        verbose_name = _("部门协调记录")
        ordering = ["-noted_on", "-id"]

    def __str__(self) -> str:
        return f"{self.department} {self.noted_on}"
