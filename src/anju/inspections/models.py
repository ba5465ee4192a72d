"""Campaigns, check records with findings and photos, suspected-danger requests, appraisals (P5, P8, P9, P17).

The component lists of the grading engine are data (`ComponentSpec`), loaded from
`data/appraisal-components.csv` and editable by the city.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped
from anju.registry.models import Grade, House, Household, Structure


class CampaignKind(models.TextChoices):
    ANNUAL = "annual", _("年度核查")
    FLOOD = "flood", _("汛期排查")
    FREEZE_THAW = "freeze_thaw", _("冻融排查")
    LOOK_BACK = "look_back", _("回头看")
    SPECIAL = "special", _("专项排查")


class TargetSet(models.TextChoices):
    ALL = "all", _("辖区内全部农户")
    MONITORING = "monitoring", _("动态监测对象")


class Campaign(Scoped):
    """A round of checks over the subtree of `division` (P5 annual check, P9 special periods).

    Seen by everyone below its division (a city campaign reaches every village), changed only at its level.
    """

    scope_includes_ancestors = True

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=CampaignKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("截止日期"))
    target_set = models.CharField(_("核查对象"), max_length=20, choices=TargetSet.choices, default=TargetSet.ALL)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("核查批次")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="campaign_ends_after_start",
                violation_error_message=_("截止日期不能早于开始日期"),
            ),
            models.UniqueConstraint(
                fields=["division", "kind", "year"],
                condition=Q(kind="annual"),
                name="campaign_one_annual_per_division_year",
                violation_error_message=_("该区划本年度已有年度核查"),
            ),
        ]
        indexes = [models.Index(fields=["kind", "year"], name="campaign_kind_year_idx")]

    def __str__(self) -> str:
        return self.name


class Verdict(models.TextChoices):
    NO_DANGER = "no_danger", _("未发现安全隐患")
    SUSPECTED = "suspected", _("疑似危房")
    NEEDS_REPAIR = "needs_repair", _("需维修")


class SiteHazard(models.TextChoices):
    NONE = "", _("无")
    LANDSLIDE = "landslide", _("滑坡/崩塌")
    FLOOD = "flood", _("洪涝")
    SUBSIDENCE = "subsidence", _("地面塌陷/采空区")
    OTHER = "other", _("其他")


class CheckRecord(Scoped):
    """One household checked in one campaign (P5): who, when, where, and the verdict."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="checks")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="checks")
    checked_on = models.DateField(_("核查日期"))
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checks", verbose_name=_("核查人")
    )
    verdict = models.CharField(_("核查结论"), max_length=20, choices=Verdict.choices)
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=8,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(3), MaxValueValidator(54)],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(73), MaxValueValidator(136)],
    )
    note = models.CharField(_("备注"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("核查记录")
        ordering = ["-checked_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"],
                name="check_one_per_campaign_household",
                violation_error_message=_("该农户在本批次中已有核查记录"),
            )
        ]
        indexes = [
            # Covers campaign progress (grouped by division and verdict) without touching the table.
            models.Index(fields=["campaign", "division", "verdict"], name="check_campaign_scope_idx"),
            models.Index(fields=["household", "-checked_on"], name="check_household_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.checked_on}"


class HouseFinding(Scoped):
    """The short checklist for one house of a checked household."""

    check_record = models.ForeignKey(CheckRecord, on_delete=models.CASCADE, related_name="findings")
    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="findings")
    cracks = models.BooleanField(_("墙体开裂"), default=False)
    tilt = models.BooleanField(_("倾斜"), default=False)
    settlement = models.BooleanField(_("不均匀沉降"), default=False)
    roof_leak = models.BooleanField(_("屋面漏雨"), default=False)
    earth_wall_damp = models.BooleanField(_("土墙受潮、冲刷侵蚀"), default=False)
    cave_arch_damage = models.BooleanField(_("窑洞拱顶开裂或塌落"), default=False)
    site_hazard = models.CharField(_("场地隐患"), max_length=20, choices=SiteHazard.choices, blank=True, default="")
    occupied = models.BooleanField(_("有人居住"), default=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("房屋核查情况")
        constraints = [
            models.UniqueConstraint(
                fields=["check_record", "house"],
                name="finding_one_per_check_house",
                violation_error_message=_("同一次核查中每栋房屋只记录一次"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.house_id}"


class Photo(Scoped):
    """A photo of a check or an appraisal, stored with its SHA-256 and, when the file has them, EXIF time and GPS."""

    check_record = models.ForeignKey(
        CheckRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    appraisal = models.ForeignKey("Appraisal", null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    house = models.ForeignKey(House, null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(_("照片"), upload_to="photos/%Y/%m/")
    sha256 = models.CharField(max_length=64, db_index=True)
    taken_at = models.DateTimeField(_("拍摄时间"), null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=8, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("照片")
        constraints = [
            models.CheckConstraint(
                condition=Q(check_record__isnull=False) | Q(appraisal__isnull=False),
                name="photo_belongs_somewhere",
                violation_error_message=_("照片必须属于一次核查或一次鉴定"),
            )
        ]

    def __str__(self) -> str:
        return self.sha256[:12]


class RequestSource(models.TextChoices):
    CHECK = "check", _("核查发现")
    REPORT = "report", _("乡村直接上报")
    DISASTER = "disaster", _("灾后上报")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("待指派")
    ASSIGNED = "assigned", _("已指派")
    DONE = "done", _("已鉴定")
    CANCELLED = "cancelled", _("已撤销")


class AppraisalRequest(Scoped):
    """P8: a suspected dangerous house reported at once; the county assigns a trained appraiser by `due_on`."""

    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="appraisal_requests")
    source = models.CharField(_("来源"), max_length=20, choices=RequestSource.choices)
    check_record = models.ForeignKey(
        CheckRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="appraisal_requests"
    )
    reported_on = models.DateField(_("上报日期"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上报人")
    )
    description = models.CharField(_("疑似危险情况"), max_length=1000)
    due_on = models.DateField(_("鉴定期限"))
    status = models.CharField(_("状态"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    appraiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_requests",
        verbose_name=_("鉴定人员"),
    )
    assigned_on = models.DateField(_("指派日期"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("鉴定申请")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=F("reported_on")),
                name="request_due_after_report",
                violation_error_message=_("鉴定期限不能早于上报日期"),
            ),
            models.UniqueConstraint(
                fields=["house"],
                condition=Q(status__in=["open", "assigned"]),
                name="request_one_open_per_house",
                violation_error_message=_("该房屋已有未完成的鉴定申请"),
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="request_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.house_id} {self.reported_on}"


class DisasterPrevention(models.TextChoices):
    FULL = "full", _("具备")
    PARTIAL = "partial", _("部分具备")
    NONE = "none", _("完全不具备")


class ComponentGrade(models.TextChoices):
    A = "a", "a"
    B = "b", "b"
    C = "c", "c"
    D = "d", "d"


class ComponentSpec(models.Model):
    """One component of the grading engine's list for some structure types, with its a–d descriptions.

    Data, not code: the city edits it; `is_local_default` marks rows not taken from a published form.
    """

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("构件"), max_length=40)
    structures = models.JSONField(_("适用结构"), default=list)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    desc_a = models.CharField(_("a级描述"), max_length=300)
    desc_b = models.CharField(_("b级描述"), max_length=300)
    desc_c = models.CharField(_("c级描述"), max_length=300)
    desc_d = models.CharField(_("d级描述"), max_length=300)
    d_means_dangerous_site = models.BooleanField(_("d级即场地危险"), default=False)
    is_local_default = models.BooleanField(_("本地默认（待确认）"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("鉴定构件")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def description(self, grade: str) -> str:
        return getattr(self, f"desc_{grade}")


class Appraisal(Scoped):
    """A safety appraisal of one house: site verdict, component grades, computed and final grade."""

    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="appraisals")
    request = models.OneToOneField(
        AppraisalRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="appraisal"
    )
    appraised_on = models.DateField(_("鉴定日期"))
    lead_appraiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appraisals", verbose_name=_("鉴定人")
    )
    co_appraisers = models.CharField(_("其他鉴定人员"), max_length=200, blank=True)
    structure = models.CharField(_("房屋结构"), max_length=20, choices=Structure.choices)
    site_dangerous = models.BooleanField(_("场地危险"), default=False)
    site_note = models.CharField(_("场地情况"), max_length=500, blank=True)
    disaster_prevention = models.CharField(_("防灾措施"), max_length=10, choices=DisasterPrevention.choices)
    computed_grade = models.CharField(_("计算等级"), max_length=1, choices=Grade.choices)
    final_grade = models.CharField(_("鉴定等级"), max_length=1, choices=Grade.choices)
    override_reason = models.CharField(_("调整等级理由"), max_length=1000, blank=True)
    flagged_for_review = models.BooleanField(_("待复核"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    danger_points = models.JSONField(_("危险点"), default=list, blank=True)
    conclusion = models.CharField(_("鉴定结论及处理建议"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("鉴定")
        ordering = ["-appraised_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(final_grade__in=["A", "B", "C", "D"]) & Q(computed_grade__in=["A", "B", "C", "D"]),
                name="appraisal_grades_a_to_d",
                violation_error_message=_("鉴定等级应为A、B、C或D"),
            ),
            models.CheckConstraint(
                condition=Q(final_grade=F("computed_grade")) | ~Q(override_reason=""),
                name="appraisal_override_needs_reason",
                violation_error_message=_("调整鉴定等级必须填写理由"),
            ),
        ]
        indexes = [models.Index(fields=["flagged_for_review", "division"], name="appraisal_review_idx")]

    def __str__(self) -> str:
        return f"{self.house_id} {self.final_grade} {self.appraised_on}"

    @property
    def is_override(self) -> bool:
        return self.final_grade != self.computed_grade


class AppraisalComponent(models.Model):
    """The grade of one component in one appraisal (scoped through its appraisal)."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="components")
    spec = models.ForeignKey(ComponentSpec, on_delete=models.PROTECT, related_name="+")
    grade = models.CharField(_("等级"), max_length=1, choices=ComponentGrade.choices)
    note = models.CharField(_("危险点说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("构件评定")
        ordering = ["spec__sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "spec"], name="appraisal_component_once"),
            models.CheckConstraint(condition=Q(grade__in=["a", "b", "c", "d"]), name="appraisal_component_grade"),
        ]

    def __str__(self) -> str:
        return f"{self.spec_id}:{self.grade}"
