"""Complaints and petitions (信访, P14) and publicity and public opinion (宣传、舆情, P15).

A complaint is received (受理), handled by an assigned person (办理中), answered (已答复) and closed with the
complainant's satisfaction (已办结); the moves are services (`services.py`). Historic complaints are looked back on
(回头看) with a note and a result. The complainant's phone is personal data: stored encrypted, shown masked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped


class Hotline(Scoped):
    """P14: the complaint hotline (监督举报电话) a county has published; one per county, changes audited."""

    number = models.CharField(_("举报电话"), max_length=40)
    published_on = models.DateField(_("公布日期"))
    published_where = models.CharField(_("公布渠道"), max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    # Town and village staff see their own county's published number (they give it to households).
    scope_includes_ancestors = True

    class Meta:
        verbose_name = _("监督举报电话")
        ordering = ["division_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["division"], name="hotline_one_per_county", violation_error_message=_("该县已公布举报电话")
            )
        ]

    def __str__(self) -> str:
        return self.number


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("热线")
    LETTER = "letter", _("来信")
    VISIT = "visit", _("来访")
    ONLINE = "online", _("网上")


class Category(models.TextChoices):
    HOUSING_SAFETY = "housing_safety", _("住房安全")
    SUBSIDY = "subsidy", _("补助资金")
    QUALITY = "quality", _("工程质量")
    CONDUCT = "conduct", _("工作作风")
    OTHER = "other", _("其他")


class ComplaintState(models.TextChoices):
    RECEIVED = "received", _("受理")
    HANDLING = "handling", _("办理中")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")


#: States in which a reply is still owed (P14.reply_overdue looks only at these).
AWAITING_REPLY = (ComplaintState.RECEIVED, ComplaintState.HANDLING)


class ReplyMethod(models.TextChoices):
    PHONE = "phone", _("电话答复")
    WRITTEN = "written", _("书面答复")
    IN_PERSON = "in_person", _("当面答复")
    ONLINE = "online", _("网上答复")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    FAIRLY = "fairly", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class ReviewResult(models.TextChoices):
    """回头看: what a look-back at a historic complaint found."""

    RESOLVED = "resolved", _("问题已解决")
    RECTIFYING = "rectifying", _("仍需整改")
    UNVERIFIABLE = "unverifiable", _("无法核实")


class Complaint(Scoped):
    """One complaint or petition (信访件), from receipt to close; it belongs to the division it concerns."""

    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices)
    received_on = models.DateField(_("受理日期"))
    complainant_name = models.CharField(_("信访人"), max_length=64)
    phone_cipher = models.CharField(max_length=200, blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=24, blank=True)
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints")
    content = models.CharField(_("反映内容"), max_length=2000)
    category = models.CharField(_("问题类别"), max_length=20, choices=Category.choices)
    state = models.CharField(_("状态"), max_length=10, choices=ComplaintState.choices, default=ComplaintState.RECEIVED)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints_handled",
        verbose_name=_("承办人"),
    )
    handler_name = models.CharField(_("承办人"), max_length=64, blank=True)
    assigned_on = models.DateField(_("交办日期"), null=True, blank=True)
    reply_due_on = models.DateField(_("答复期限"))
    reply_text = models.CharField(_("答复内容"), max_length=2000, blank=True)
    replied_on = models.DateField(_("答复日期"), null=True, blank=True)
    reply_method = models.CharField(_("答复方式"), max_length=10, choices=ReplyMethod.choices, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    close_note = models.CharField(_("办结说明"), max_length=1000, blank=True)
    is_review = models.BooleanField(_("回头看"), default=False)
    review_note = models.CharField(_("回头看情况"), max_length=1000, blank=True)
    review_result = models.CharField(_("回头看结果"), max_length=12, choices=ReviewResult.choices, blank=True)
    reviewed_on = models.DateField(_("回头看日期"), null=True, blank=True)
    #: Increased by every write: a form showing version 3 cannot change a complaint already at version 4.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("信访件")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ComplaintState.values),
                name="complaint_state_valid",
                violation_error_message=_("状态无效"),
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="complaint_channel_valid",
                violation_error_message=_("来源渠道无效"),
            ),
            models.CheckConstraint(
                condition=Q(reply_due_on__gte=models.F("received_on")),
                name="complaint_due_after_receipt",
                violation_error_message=_("答复期限不能早于受理日期"),
            ),
            models.CheckConstraint(
                condition=Q(state__in=["received", "handling"]) | Q(replied_on__isnull=False),
                name="complaint_replied_has_date",
                violation_error_message=_("已答复的信访件必须有答复日期"),
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | (Q(closed_on__isnull=False) & ~Q(satisfaction="")),
                name="complaint_closed_has_date_and_satisfaction",
                violation_error_message=_("已办结的信访件必须有办结日期和满意度"),
            ),
        ]
        indexes = [
            models.Index(fields=["division", "state"], name="complaint_scope_state_idx"),
            models.Index(fields=["state", "reply_due_on"], name="complaint_state_due_idx"),
        ]

    def __str__(self) -> str:
        return gettext("信访件#{id} {name}").format(id=self.pk, name=self.complainant_name)


class PublicityKind(models.TextChoices):
    DOOR_TO_DOOR = "door_to_door", _("入户宣传")
    MEETING = "meeting", _("会议")
    MEDIA = "media", _("媒体")
    POSTER = "poster", _("张贴")
    TRAINING = "training", _("培训")
    OTHER = "other", _("其他")


class PublicityActivity(Scoped):
    """P15: one publicity activity (宣传) on the housing-safety policy, with its audience."""

    held_on = models.DateField(_("日期"))
    kind = models.CharField(_("形式"), max_length=20, choices=PublicityKind.choices)
    title = models.CharField(_("主题"), max_length=200)
    audience = models.PositiveIntegerField(_("受众人数"), default=0)
    notes = models.CharField(_("情况说明"), max_length=2000, blank=True)
    photo = models.FileField(_("照片"), upload_to="publicity/%Y/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("宣传活动")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["division", "held_on"], name="publicity_scope_day_idx")]

    def __str__(self) -> str:
        return self.title


class OpinionSource(models.TextChoices):
    NEWS = "news", _("新闻媒体")
    SOCIAL = "social", _("网络社交平台")
    VIDEO = "video", _("短视频平台")
    PETITION = "petition", _("信访转来")
    OTHER = "other", _("其他")


class Severity(models.TextChoices):
    LOW = "low", _("一般")
    MEDIUM = "medium", _("较大")
    HIGH = "high", _("重大")


class OpinionIncident(Scoped):
    """P15: a public-opinion incident (舆情) found, answered and closed; unanswered after a day it is an alert."""

    found_on = models.DateField(_("发现日期"))
    source = models.CharField(_("来源"), max_length=10, choices=OpinionSource.choices)
    source_detail = models.CharField(_("来源说明"), max_length=200, blank=True)
    summary = models.CharField(_("舆情摘要"), max_length=2000)
    severity = models.CharField(_("等级"), max_length=10, choices=Severity.choices, default=Severity.LOW)
    response = models.CharField(_("回应处置"), max_length=2000, blank=True)
    responded_on = models.DateField(_("回应日期"), null=True, blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("舆情")
        ordering = ["-found_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(responded_on__isnull=False),
                name="incident_closed_after_response",
                violation_error_message=_("舆情须先回应再办结"),
            ),
        ]
        indexes = [models.Index(fields=["division", "closed_on"], name="incident_scope_open_idx")]

    def __str__(self) -> str:
        return self.summary[:40]

    @property
    def is_open(self) -> bool:
        return self.closed_on is None
