"""The ledger (台账, P19): one case per housing-safety problem of one household, followed from its source through
appraisal, renovation (P20–P22), acceptance and the four sign-offs (P2) to close-out (销号).

The state moves are services (`services/moves.py`); the model holds the state and what each move recorded.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped, ScopedQuerySet
from anju.registry.models import Grade, House, Household


class CaseSource(models.TextChoices):
    ANNUAL_CHECK = "annual_check", _("年度核查")
    SUSPECTED = "suspected", _("疑似上报")
    PROBLEM_LIST = "problem_list", _("问题清单")
    DISASTER = "disaster", _("灾害")
    COMPLAINT = "complaint", _("信访")
    SUPERVISION = "supervision", _("督导")
    REAPPLICATION = "reapplication", _("重新申请")


class HouseholdType(models.TextChoices):
    """P1's household types of a problem list, plus the two kinds of households other sources bring."""

    UNSTABLE = "unstable", _("脱贫不稳定户")
    EDGE = "edge", _("边缘易致贫户")
    SUDDEN_HARDSHIP = "sudden_hardship", _("突发严重困难户")
    OTHER_REGISTERED = "other_registered", _("其他建档立卡户")
    KEY_TARGET = "key_target", _("其他重点对象")
    GENERAL = "general", _("一般农户")


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("登记")
    AWAITING_APPRAISAL = "awaiting_appraisal", _("待鉴定")
    APPRAISED = "appraised", _("已鉴定")
    PLANNED = "planned", _("已纳入计划")
    UNDER_CONSTRUCTION = "under_construction", _("施工中")
    COMPLETED = "completed", _("已竣工")
    ACCEPTED = "accepted", _("已验收")
    SECURED = "secured", _("保障安全")
    CLOSED = "closed", _("已销号")
    CANCELLED = "cancelled", _("已撤销")


#: States in which the case is still someone's work.
OPEN_STATES = (
    CaseState.REGISTERED,
    CaseState.AWAITING_APPRAISAL,
    CaseState.APPRAISED,
    CaseState.PLANNED,
    CaseState.UNDER_CONSTRUCTION,
    CaseState.COMPLETED,
    CaseState.ACCEPTED,
    CaseState.SECURED,
)
#: P19: the household is safe once the works are completed (or it is safe by other means); the deadline is met.
RENOVATION_DONE_STATES = (
    CaseState.COMPLETED,
    CaseState.ACCEPTED,
    CaseState.SECURED,
    CaseState.CLOSED,
    CaseState.CANCELLED,
)


class CaseOutcome(models.TextChoices):
    NONE = "", _("—")
    SAFE = "safe", _("鉴定为安全（A/B级）")
    RENOVATED = "renovated", _("改造完成")
    SECURED = "secured", _("通过其他方式保障安全")


class RenovationMethod(models.TextChoices):
    """P21's methods, and 抗震改造 for eligible households' houses that fail seismic requirements."""

    REINFORCE = "reinforce", _("加固改造")
    REBUILD = "rebuild", _("拆除重建")
    RELOCATE = "relocate", _("选址新建")
    PUBLIC_RENTAL = "public_rental", _("统建农村集体公租房")
    IDLE_REPAIR = "idle_repair", _("修缮加固现有闲置房")
    SEISMIC = "seismic", _("抗震改造")


#: Methods that keep the existing house (P7: a house once graded C and made safe by reinforcement).
REINFORCING_METHODS = (RenovationMethod.REINFORCE, RenovationMethod.IDLE_REPAIR, RenovationMethod.SEISMIC)


class SecureMeans(models.TextChoices):
    PUBLIC_RENTAL = "public_rental", _("入住农村集体公租房")
    IDLE_HOUSE = "idle_house", _("借住修缮加固的闲置房")
    RELATIVES = "relatives", _("投亲靠友")
    RENTED = "rented", _("租住借住")
    OTHER = "other", _("其他方式")


class Case(Scoped):
    """One housing-safety problem of one household, from its source to close-out (解决一户，销号一户)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cases")
    house = models.ForeignKey(House, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    source = models.CharField(_("问题来源"), max_length=20, choices=CaseSource.choices)
    source_ref = models.CharField(_("来源编号"), max_length=100, blank=True)
    household_type = models.CharField(_("户类型"), max_length=20, choices=HouseholdType.choices)
    categories = models.JSONField(_("开立时的重点对象类型"), default=list, blank=True)
    description = models.CharField(_("问题描述"), max_length=1000)
    measures = models.CharField(_("整改措施"), max_length=1000, blank=True)
    opened_on = models.DateField(_("登记日期"))
    transferred_on = models.DateField(_("移交日期"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("状态"), max_length=20, choices=CaseState.choices, default=CaseState.REGISTERED)
    outcome = models.CharField(
        _("销号结果"), max_length=20, choices=CaseOutcome.choices, blank=True, default=CaseOutcome.NONE
    )
    #: Increased by every move: a form that shows version 3 cannot move a case that is already at version 4.
    version = models.PositiveIntegerField(default=1)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsible_cases",
        verbose_name=_("责任人"),
    )
    responsible_name = models.CharField(_("责任人"), max_length=64, blank=True)
    appraisal_request = models.ForeignKey(
        "inspections.AppraisalRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    appraisal = models.ForeignKey(
        "inspections.Appraisal", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    grade = models.CharField(_("鉴定等级"), max_length=1, choices=Grade.choices, blank=True)
    appraised_on = models.DateField(_("鉴定日期"), null=True, blank=True)
    due_on = models.DateField(_("完成时限"), null=True, blank=True)
    secured_means = models.CharField(_("保障方式"), max_length=20, choices=SecureMeans.choices, blank=True)
    secured_on = models.DateField(_("保障日期"), null=True, blank=True)
    secured_evidence = models.CharField(_("保障证明"), max_length=1000, blank=True)
    closed_on = models.DateField(_("销号日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField(_("撤销理由"), max_length=500, blank=True)
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("台账")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CaseState.values), name="case_state_valid", violation_error_message=_("状态无效")
            ),
            models.CheckConstraint(
                condition=Q(source__in=CaseSource.values),
                name="case_source_valid",
                violation_error_message=_("问题来源无效"),
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(closed_on__isnull=False),
                name="case_closed_has_date",
                violation_error_message=_("已销号的台账必须有销号日期"),
            ),
            models.UniqueConstraint(
                fields=["house"],
                condition=Q(house__isnull=False) & ~Q(state__in=["closed", "cancelled"]),
                name="case_one_open_per_house",
                violation_error_message=_("该房屋已有未销号的台账"),
            ),
        ]
        indexes = [
            models.Index(fields=["division", "state"], name="case_scope_state_idx"),
            models.Index(fields=["state", "due_on"], name="case_state_due_idx"),
            models.Index(fields=["source", "division"], name="case_source_scope_idx"),
            models.Index(fields=["responsible", "state"], name="case_responsible_idx"),
        ]

    def __str__(self) -> str:
        return gettext("台账#{id} {name}").format(
            id=self.pk, name=self.household.head_name if self.household_id else ""
        )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_dangerous(self) -> bool:
        return self.grade in (Grade.C, Grade.D)


class SignOffKind(models.TextChoices):
    """四清 (P2), in the order a case earns them."""

    PROBLEM = "problem", _("问题清")
    APPRAISAL = "appraisal", _("鉴定清")
    RENOVATION = "renovation", _("改造清")
    ACCEPTANCE = "acceptance", _("验收清")


class SignOffLevel(models.TextChoices):
    """The levels whose responsible person signs each of the four, bottom up."""

    VILLAGE = "village", _("村级")
    TOWN = "town", _("乡镇级")
    COUNTY = "county", _("县级")


class SignOffQuerySet(ScopedQuerySet):
    def delete(self) -> tuple[int, dict[str, int]]:
        """P2: no bulk path around the row's own refusal either."""
        raise ValidationError(gettext("签字记录不能删除"))

    delete.queryset_only = True


class SignOff(Scoped):
    """One signature (签字背书) of one of the four clears at one level. Written once, never changed (P2)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="signoffs")
    kind = models.CharField(_("事项"), max_length=20, choices=SignOffKind.choices)
    level = models.CharField(_("层级"), max_length=10, choices=SignOffLevel.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("签字人")
    )
    signer_name = models.CharField(_("签字人"), max_length=64)
    signed_at = models.DateTimeField(_("签字时间"))
    comment = models.CharField(_("意见"), max_length=500, blank=True)

    objects = SignOffQuerySet.as_manager()

    class Meta:
        verbose_name = _("四清签字")
        ordering = ["case_id", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "level"],
                name="signoff_once_per_case_kind_level",
                violation_error_message=_("该事项本级已签字"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_level_display()} {self.signer_name}"

    def save(self, *args, **kwargs) -> None:
        """A signature is not edited: a correction is a new case event, never a changed row."""
        if self.pk is not None:
            raise ValidationError(gettext("签字记录不能修改"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(gettext("签字记录不能删除"))


class CraftsmanKind(models.TextChoices):
    CRAFTSMAN = "craftsman", _("建筑工匠")
    BUILDER = "builder", _("施工单位")


class Craftsman(Scoped):
    """P22: a craftsman or builder registered with a county; only the trained may take renovation jobs.

    Registered by the county, read by its towns and villages too (they help the household choose)."""

    scope_includes_ancestors = True

    name = models.CharField(_("姓名/名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=20, choices=CraftsmanKind.choices, default=CraftsmanKind.CRAFTSMAN)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    certificate = models.CharField(_("证书/资质编号"), max_length=64, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("建筑工匠")
        ordering = ["division_id", "name", "id"]

    def __str__(self) -> str:
        return self.name


class DesignKind(models.TextChoices):
    ATLAS = "atlas", _("采用《陕西省农房设计图集》")
    CUSTOM = "custom", _("上传设计图")


class Renovation(Scoped):
    """P20–P22: the household's application and consent, the plan and its money, design, builder, works and
    acceptance of one case."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="renovation")
    applied_on = models.DateField(_("申请日期"), null=True, blank=True)
    application_note = models.CharField(_("申请内容"), max_length=1000, blank=True)
    consent_on = models.DateField(_("户意愿确认日期"), null=True, blank=True)
    consent_by = models.CharField(_("确认人"), max_length=64, blank=True)
    consent_note = models.CharField(_("户意愿及选择"), max_length=1000, blank=True)
    household_chose_plan = models.BooleanField(_("农户参与选择改造方案"), default=False)
    own_labour = models.BooleanField(_("农户投工投劳"), default=False)
    self_funding = models.DecimalField(_("自筹资金（元）"), max_digits=12, decimal_places=2, default=0)
    method = models.CharField(_("改造方式"), max_length=20, choices=RenovationMethod.choices, blank=True)
    subsidy_amount = models.DecimalField(_("补助资金（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    subsidy_rate = models.ForeignKey(
        "SubsidyRate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("补助标准")
    )
    planned_on = models.DateField(_("纳入计划日期"), null=True, blank=True)
    design_kind = models.CharField(_("结构设计"), max_length=10, choices=DesignKind.choices, blank=True)
    design_reference = models.CharField(_("图集编号/设计说明"), max_length=200, blank=True)
    design_file = models.FileField(_("设计图"), upload_to="designs/%Y/", blank=True)
    builder = models.ForeignKey(
        Craftsman, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("施工工匠")
    )
    energy_saving = models.BooleanField(_("节能改造"), default=False)
    toilet_retrofit = models.BooleanField(_("改厕（水冲式厕所入户）"), default=False)
    must_move_out = models.BooleanField(_("施工期间需搬出"), default=True)
    started_on = models.DateField(_("开工日期"), null=True, blank=True)
    completed_on = models.DateField(_("竣工日期"), null=True, blank=True)
    accepted_on = models.DateField(_("验收日期"), null=True, blank=True)
    acceptance_team = models.CharField(_("验收人员"), max_length=300, blank=True)
    household_signed_acceptance = models.BooleanField(_("农户参与验收并签字"), default=False)
    acceptance_note = models.CharField(_("验收意见"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("改造")
        constraints = [
            models.CheckConstraint(
                condition=Q(self_funding__gte=0), name="renovation_self_funding_not_negative",
                violation_error_message=_("自筹资金不能为负数"),
            ),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(started_on__isnull=False, completed_on__gte=F("started_on")),
                name="renovation_completed_after_start",
                violation_error_message=_("竣工日期不能早于开工日期"),
            ),
            models.CheckConstraint(
                condition=Q(accepted_on__isnull=True)
                | Q(completed_on__isnull=False, accepted_on__gte=F("completed_on")),
                name="renovation_accepted_after_completion",
                violation_error_message=_("验收日期不能早于竣工日期"),
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=["method", "division"], name="renovation_method_scope_idx")]

    def __str__(self) -> str:
        return gettext("台账#{id}的改造").format(id=self.case_id)


class SiteVisit(Scoped):
    """P22: county staff visit every site (逐户巡查), record what they found and order fixes."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField(_("巡查日期"))
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("巡查人")
    )
    findings = models.CharField(_("巡查情况"), max_length=1000)
    needs_fix = models.BooleanField(_("需整改"), default=False)
    fix_due_on = models.DateField(_("整改期限"), null=True, blank=True)
    fixed_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    fix_note = models.CharField(_("整改情况"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("施工巡查")
        ordering = ["case_id", "visited_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fixed_on__isnull=True) | Q(fixed_on__gte=F("visited_on")),
                name="visit_fixed_after_visit",
                violation_error_message=_("整改完成日期不能早于巡查日期"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.visited_on}"


class PhotoStage(models.TextChoices):
    BEFORE = "before", _("改造前")
    DURING = "during", _("施工中")
    AFTER = "after", _("改造后")
    EVIDENCE = "evidence", _("证明材料")


class CasePhoto(Scoped):
    """A photo of a case (before/during/after the works, or evidence), stored by SHA-256 like check photos."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(_("阶段"), max_length=10, choices=PhotoStage.choices)
    file = models.FileField(_("照片"), upload_to="case-photos/%Y/%m/")
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
        verbose_name = _("台账照片")
        ordering = ["case_id", "stage", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "sha256"], name="case_photo_once", violation_error_message=_("该照片已上传")
            )
        ]

    def __str__(self) -> str:
        return self.sha256[:12]


class TransitionKind(models.TextChoices):
    RELATIVES = "relatives", _("投亲靠友")
    RENTED = "rented", _("租房")
    PUBLIC = "public", _("集体公租房/周转房")
    TEMPORARY = "temporary", _("临时安置房")
    OTHER = "other", _("其他")


class TransitionalHousing(Scoped):
    """P19: where the household lives while its house is being renovated, and that this place is safe."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitional_housing")
    kind = models.CharField(_("安置方式"), max_length=20, choices=TransitionKind.choices)
    place = models.CharField(_("安置地点"), max_length=200)
    from_on = models.DateField(_("开始日期"))
    to_on = models.DateField(_("结束日期"), null=True, blank=True)
    safety_confirmed = models.BooleanField(_("已确认住房安全"), default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_on = models.DateField(_("确认日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("过渡安置")
        ordering = ["case_id", "from_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_on__isnull=True) | Q(to_on__gte=F("from_on")),
                name="transition_ends_after_start",
                violation_error_message=_("结束日期不能早于开始日期"),
            ),
            models.CheckConstraint(
                condition=Q(safety_confirmed=False) | Q(confirmed_on__isnull=False),
                name="transition_confirmed_has_date",
                violation_error_message=_("确认安全必须填写确认日期"),
            ),
        ]

    def __str__(self) -> str:
        return self.place


class SubsidyRate(models.Model):
    """P21: the subsidy for one year, method, grade and target category — data entered by the city, not code.

    Blank `grade` or `category_code` means "any"; the most specific row wins, and among a household's categories
    the highest amount.
    """

    year = models.PositiveSmallIntegerField(_("年度"))
    method = models.CharField(_("改造方式"), max_length=20, choices=RenovationMethod.choices)
    grade = models.CharField(_("鉴定等级"), max_length=1, blank=True, choices=[("C", "C"), ("D", "D")])
    category_code = models.CharField(_("重点对象类型代码"), max_length=40, blank=True)
    amount = models.DecimalField(_("补助标准（元/户）"), max_digits=12, decimal_places=2)
    note = models.CharField(_("依据"), max_length=200, blank=True)
    is_sample = models.BooleanField(_("示例数据（待确认）"), default=False)

    class Meta:
        verbose_name = _("补助标准")
        ordering = ["-year", "method", "grade", "category_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "method", "grade", "category_code"],
                name="subsidy_rate_once",
                violation_error_message=_("该年度、方式、等级和类型的补助标准已存在"),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="subsidy_rate_not_negative",
                violation_error_message=_("补助标准不能为负数"),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.year} {self.get_method_display()} {self.grade or '*'} {self.category_code or '*'}"


class SubsidyPayment(Scoped):
    """P4, P21: a subsidy payment of a case, recorded after the acceptance; the account is stored masked."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("拨付日期"))
    amount = models.DecimalField(_("拨付金额（元）"), max_digits=12, decimal_places=2)
    account_masked = models.CharField(_("收款账号"), max_length=40, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("补助拨付")
        ordering = ["case_id", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_positive", violation_error_message=_("拨付金额必须大于0")
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.amount}"
