"""Supervision of the counties by the city: implementation plans filed with the city (P16), supervision visits
and their findings with the one-week rectification (P3, P24), interviews and accountability (P24), and the weights
of the annual county assessment (P24).

A filing, a visit and an interview belong to a county (`division` is the county); a finding belongs to the
division it concerns (a village, a town or the county), so a town sees the findings about its subtree only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped

#: P3: findings are rectified within one week after the visit ends (督导结束后一周内整改) — a rule of the policy
#: itself, not a setting.
RECTIFY_DAYS = 7


def rectify_due(ends_on: dt.date) -> dt.date:
    """P3: the last day to rectify a finding of a visit that ended on `ends_on` (day 7 on time, day 8 late)."""
    return ends_on + dt.timedelta(days=RECTIFY_DAYS)


# -- P16 implementation plans --------------------------------------------------------------------------------------


class PlanRound(Scoped):
    """P16: a filing round the city sets (year, title, deadline). `division` is the city; every county below
    sees it (`scope_includes_ancestors`). The deadline is data: the 2021 dates were one-off."""

    scope_includes_ancestors = True

    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=200)
    deadline = models.DateField(_("备案截止日期"))
    note = models.CharField(_("要求"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("实施方案备案批次")
        ordering = ["-year", "-deadline", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "year", "title"],
                name="planround_once_per_title_year",
                violation_error_message=_("本年度已有同名的备案批次"),
            )
        ]

    def __str__(self) -> str:
        return self.title


class FilingStatus(models.TextChoices):
    FILED = "filed", _("已报送")
    RECEIVED = "received", _("已备案")
    RETURNED = "returned", _("已退回")


class PlanFiling(Scoped):
    """P16: one county's implementation plan (实施方案) for one round. Returned by the city, the county files
    again on the same row (the document and date are replaced; the history keeps the earlier ones)."""

    round = models.ForeignKey(PlanRound, on_delete=models.PROTECT, related_name="filings")
    title = models.CharField(_("方案名称"), max_length=200)
    document = models.FileField(_("方案文件"), upload_to="implementation-plans/%Y/", max_length=255)
    filed_on = models.DateField(_("报送日期"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_by_name = models.CharField(_("报送人"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=FilingStatus.choices, default=FilingStatus.FILED)
    review_note = models.CharField(_("备案意见"), max_length=1000, blank=True)
    reviewed_on = models.DateField(_("处理日期"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("实施方案备案")
        ordering = ["round_id", "division_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "division"],
                name="planfiling_once_per_round_county",
                violation_error_message=_("该县本批次已报送实施方案"),
            ),
            models.CheckConstraint(
                condition=Q(status__in=FilingStatus.values),
                name="planfiling_status_valid",
                violation_error_message=_("状态无效"),
            ),
        ]

    def __str__(self) -> str:
        return self.title


# -- P3 / P24 supervision visits -----------------------------------------------------------------------------------


class VisitLevel(models.TextChoices):
    CITY = "city", _("市级督导")
    PROVINCE = "province", _("省级抽查")


class VisitMode(models.TextChoices):
    ANNOUNCED = "announced", _("常规督导")
    UNANNOUNCED = "unannounced", _("暗访")


class Visit(Scoped):
    """P3, P24: one supervision visit (督导检查) to a county by a team, regular or unannounced (暗访), by the city
    or a provincial spot check. `places` lists the towns or villages visited (codes within the county)."""

    level = models.CharField(_("层级"), max_length=10, choices=VisitLevel.choices, default=VisitLevel.CITY)
    mode = models.CharField(_("方式"), max_length=12, choices=VisitMode.choices, default=VisitMode.ANNOUNCED)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    places = models.JSONField(_("督导乡镇、村"), default=list, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="supervision_visits")
    member_names = models.CharField(_("其他组员"), max_length=500, blank=True)
    scope_note = models.CharField(_("督导内容"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("督导检查")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="visit_ends_after_start",
                violation_error_message=_("结束日期不能早于开始日期"),
            ),
            models.CheckConstraint(
                condition=Q(level__in=VisitLevel.values) & Q(mode__in=VisitMode.values),
                name="visit_level_mode_valid",
                violation_error_message=_("层级或方式无效"),
            ),
        ]

    def __str__(self) -> str:
        return gettext("督导#{id} {start}").format(id=self.pk, start=self.starts_on)

    @property
    def rectify_due(self) -> dt.date:
        return rectify_due(self.ends_on)


class Severity(models.TextChoices):
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("较重")
    CRITICAL = "critical", _("严重")


class FindingState(models.TextChoices):
    OPEN = "open", _("待整改")
    SUBMITTED = "submitted", _("整改待验收")
    RETURNED = "returned", _("整改被退回")
    ACCEPTED = "accepted", _("已整改")


class Finding(Scoped):
    """P3: a problem a visit found and fed back at once, about one division (optionally one household or case).
    Due one week after the visit ends (`due_on`, stored so lists and the alert filter on it)."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="findings")
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="supervision_findings"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="supervision_findings"
    )
    description = models.CharField(_("问题描述"), max_length=2000)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices, default=Severity.GENERAL)
    fed_back_on = models.DateField(_("反馈日期"))
    due_on = models.DateField(_("整改期限"))
    state = models.CharField(_("状态"), max_length=10, choices=FindingState.choices, default=FindingState.OPEN)
    rectified_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    accepted_on = models.DateField(_("验收日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("督导问题")
        ordering = ["-fed_back_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=FindingState.values) & Q(severity__in=Severity.values),
                name="finding_state_severity_valid",
                violation_error_message=_("状态或严重程度无效"),
            ),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(rectified_on__isnull=False, accepted_on__isnull=False),
                name="finding_accepted_has_dates",
                violation_error_message=_("已整改的问题须有整改完成和验收日期"),
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"], name="finding_state_due_idx")]

    def __str__(self) -> str:
        return gettext("督导问题#{id}").format(id=self.pk)

    @property
    def is_closed(self) -> bool:
        return self.state == FindingState.ACCEPTED

    def is_late(self, today: dt.date) -> bool:
        return not self.is_closed and self.due_on < today

    @property
    def on_time(self) -> bool:
        return self.is_closed and self.rectified_on is not None and self.rectified_on <= self.due_on


class Verdict(models.TextChoices):
    PENDING = "", _("待验收")
    ACCEPTED = "accepted", _("通过")
    RETURNED = "returned", _("退回")


class Rectification(Scoped):
    """P3: what the county did about a finding, with its evidence; the team accepts it or returns it. Each
    attempt is a row, so a returned rectification stays on the record."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="rectifications")
    done_on = models.DateField(_("整改完成日期"))
    description = models.CharField(_("整改情况"), max_length=2000)
    evidence = models.FileField(_("佐证材料"), upload_to="rectifications/%Y/%m/", blank=True, max_length=255)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    verdict = models.CharField(_("验收结论"), max_length=10, choices=Verdict.choices, blank=True, default="")
    review_note = models.CharField(_("验收意见"), max_length=1000, blank=True)
    reviewed_on = models.DateField(_("验收日期"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("整改情况")
        ordering = ["finding_id", "id"]

    def __str__(self) -> str:
        return gettext("整改#{id}").format(id=self.pk)


# -- P24 interviews and accountability -----------------------------------------------------------------------------


class MeasureKind(models.TextChoices):
    INTERVIEW = "interview", _("约谈")
    ACCOUNTABILITY = "accountability", _("问责")


class Measure(Scoped):
    """P24: an interview (约谈) or an accountability decision (问责) about a county that failed, with the findings
    that gave the reason. `division` is the county."""

    kind = models.CharField(_("类型"), max_length=16, choices=MeasureKind.choices)
    person = models.CharField(_("对象（单位或人员）"), max_length=200)
    held_on = models.DateField(_("日期"))
    reason = models.CharField(_("事由"), max_length=2000)
    findings = models.ManyToManyField(Finding, blank=True, related_name="measures")
    conducted_by = models.CharField(_("实施单位或人员"), max_length=200)
    outcome = models.CharField(_("结果"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("约谈问责")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=MeasureKind.values),
                name="measure_kind_valid",
                violation_error_message=_("类型无效"),
            )
        ]

    def __str__(self) -> str:
        return gettext("{kind}#{id}").format(kind=self.get_kind_display(), id=self.pk)


# -- P24 the annual assessment's weights ---------------------------------------------------------------------------


class AssessmentWeights(models.Model):
    """P24: the weight of each measure of one year's county assessment, set by the city. Read by everyone; a year
    without its own row uses the latest earlier one, else the defaults in `selectors.DEFAULT_WEIGHTS`."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    check_coverage = models.PositiveSmallIntegerField(_("年度核查覆盖率"))
    cases_on_time = models.PositiveSmallIntegerField(_("台账按期完成率"))
    complaints_on_time = models.PositiveSmallIntegerField(_("信访按期答复率"))
    findings_on_time = models.PositiveSmallIntegerField(_("督导问题按期整改率"))
    training_coverage = models.PositiveSmallIntegerField(_("培训覆盖率"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("考核权重")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(check_coverage__gt=0)
                | Q(cases_on_time__gt=0)
                | Q(complaints_on_time__gt=0)
                | Q(findings_on_time__gt=0)
                | Q(training_coverage__gt=0),
                name="weights_not_all_zero",
                violation_error_message=_("权重不能全为0"),
            )
        ]

    def __str__(self) -> str:
        return gettext("{year}年度考核权重").format(year=self.year)
