"""API schemas of the ledger (台账): list rows, the case page with its whole history, and the input of every move.

ID numbers leave the server masked; bank accounts are stored masked (P4). Every move that changes the case takes an
optional `version` (the case's version the client last saw): a stale one is refused with 409.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from anju.registry.models import Grade

from .models import (
    Case,
    CasePhoto,
    CaseSource,
    Craftsman,
    CraftsmanKind,
    HouseholdType,
    Renovation,
    RenovationMethod,
    SecureMeans,
    SignOff,
    SignOffKind,
    SiteVisit,
    SubsidyPayment,
    SubsidyRate,
    TransitionalHousing,
    TransitionKind,
)
from .selectors import case_history, is_late
from .services.signoffs import missing_signoffs

VERSION_HELP = _("台账版本号（详情中的 version）；台账已被他人更新时返回409，请重新读取后再提交")


def _choice(code: str, label: Any) -> dict[str, str]:
    return {"code": code, "label": str(label)}


def _name(division: Any) -> str | None:
    return division.name if division is not None else None


class ChoiceOut(Schema):
    code: str
    label: str


class CaseOut(ModelSchema):
    """One ledger row: where, whose, why, how dangerous, by when, and how far."""

    division_code: str = Field(alias="division_id")
    county: str | None = None
    town: str | None = None
    village: str | None = None
    household_id: int
    head_name: str = Field(alias="household.head_name")
    id_number: str = Field(alias="household.id_masked", description=_("户主身份证号码（脱敏）"))
    house_id: int | None
    source: ChoiceOut
    household_type_label: str
    state: ChoiceOut
    late: bool = Field(description=_("已过完成时限且未竣工（P19）"))
    responsible: str = Field(alias="responsible_name", description=_("责任人（P18）"))

    class Meta:
        model = Case
        fields = [
            "id",
            "household_type",
            "grade",
            "appraised_on",
            "due_on",
            "outcome",
            "version",
            "opened_on",
            "closed_on",
        ]

    @staticmethod
    def resolve_village(obj: Case) -> str | None:
        return _name(obj.division)

    @staticmethod
    def resolve_town(obj: Case) -> str | None:
        return _name(obj.division.parent)

    @staticmethod
    def resolve_county(obj: Case) -> str | None:
        town = obj.division.parent
        return _name(town.parent) if town is not None else None

    @staticmethod
    def resolve_source(obj: Case) -> dict[str, str]:
        return _choice(obj.source, obj.get_source_display())

    @staticmethod
    def resolve_state(obj: Case) -> dict[str, str]:
        return _choice(obj.state, obj.get_state_display())

    @staticmethod
    def resolve_household_type_label(obj: Case) -> str:
        return str(obj.get_household_type_display())

    @staticmethod
    def resolve_late(obj: Case) -> bool:
        return is_late(obj)


class RenovationOut(ModelSchema):
    """P20–P22: application and consent, plan and money, design, builder, works and acceptance."""

    method: ChoiceOut | None
    design_kind_label: str
    design_file: str = Field(description=_("上传的设计图文件名（网页中查看）"))
    builder_id: int | None
    builder: str | None = Field(None, alias="builder.name")
    subsidy_rate_id: int | None

    class Meta:
        model = Renovation
        fields = [
            "applied_on",
            "application_note",
            "consent_on",
            "consent_by",
            "consent_note",
            "household_chose_plan",
            "own_labour",
            "self_funding",
            "subsidy_amount",
            "planned_on",
            "design_kind",
            "design_reference",
            "energy_saving",
            "toilet_retrofit",
            "must_move_out",
            "started_on",
            "completed_on",
            "accepted_on",
            "acceptance_team",
            "household_signed_acceptance",
            "acceptance_note",
        ]

    @staticmethod
    def resolve_method(obj: Renovation) -> dict[str, str] | None:
        return _choice(obj.method, obj.get_method_display()) if obj.method else None

    @staticmethod
    def resolve_design_kind_label(obj: Renovation) -> str:
        return str(obj.get_design_kind_display()) if obj.design_kind else ""

    @staticmethod
    def resolve_design_file(obj: Renovation) -> str:
        return obj.design_file.name or ""


class SignOffOut(ModelSchema):
    kind: ChoiceOut
    level: ChoiceOut
    signer: str = Field(alias="signer_name")

    class Meta:
        model = SignOff
        fields = ["id", "signed_at", "comment"]

    @staticmethod
    def resolve_kind(obj: SignOff) -> dict[str, str]:
        return _choice(obj.kind, obj.get_kind_display())

    @staticmethod
    def resolve_level(obj: SignOff) -> dict[str, str]:
        return _choice(obj.level, obj.get_level_display())


class SiteVisitOut(ModelSchema):
    case_id: int
    visitor: str = Field(alias="visitor.get_full_name")
    fix_open: bool = Field(description=_("需整改且尚未整改完成"))

    class Meta:
        model = SiteVisit
        fields = ["id", "visited_on", "findings", "needs_fix", "fix_due_on", "fixed_on", "fix_note"]

    @staticmethod
    def resolve_fix_open(obj: SiteVisit) -> bool:
        return obj.needs_fix and obj.fixed_on is None


class TransitionalOut(ModelSchema):
    case_id: int
    kind: ChoiceOut
    confirmed_by: str | None = Field(None, alias="confirmed_by.get_full_name")

    class Meta:
        model = TransitionalHousing
        fields = ["id", "place", "from_on", "to_on", "safety_confirmed", "confirmed_on", "note"]

    @staticmethod
    def resolve_kind(obj: TransitionalHousing) -> dict[str, str]:
        return _choice(obj.kind, obj.get_kind_display())


class PaymentOut(ModelSchema):
    case_id: int
    account: str = Field(alias="account_masked", description=_("收款账号（仅保留后四位）"))

    class Meta:
        model = SubsidyPayment
        fields = ["id", "paid_on", "amount", "note"]


class PhotoOut(ModelSchema):
    stage: ChoiceOut

    class Meta:
        model = CasePhoto
        fields = ["id", "caption", "taken_at", "uploaded_at"]

    @staticmethod
    def resolve_stage(obj: CasePhoto) -> dict[str, str]:
        return _choice(obj.stage, obj.get_stage_display())


class EventOut(Schema):
    action: str
    label: str = Field(alias="action_label")
    actor: str = Field(alias="actor_name")
    at: dt.datetime = Field(alias="created_at")
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class CaseDetailOut(CaseOut):
    """The case page: the row, what was recorded at each move, the four clears (P2) and the whole history."""

    description: str
    measures: str
    source_ref: str
    categories: list[str]
    transferred_on: dt.date | None
    appraisal_id: int | None
    appraisal_request_id: int | None
    outcome_label: str
    secured_means: str
    secured_on: dt.date | None
    secured_evidence: str
    cancel_reason: str
    renovation: RenovationOut | None
    signoffs: list[SignOffOut] = Field(alias="signoffs.all")
    missing_signoffs: list[str] = Field(description=_("尚缺的四清签字（P2），为空时方可销号"))
    visits: list[SiteVisitOut] = Field(alias="visits.all")
    transitional_housing: list[TransitionalOut] = Field(alias="transitional_housing.all")
    payments: list[PaymentOut] = Field(alias="payments.all")
    photos: list[PhotoOut] = Field(alias="photos.all")
    history: list[EventOut]

    @staticmethod
    def resolve_outcome_label(obj: Case) -> str:
        return str(obj.get_outcome_display()) if obj.outcome else ""

    @staticmethod
    def resolve_renovation(obj: Case) -> Renovation | None:
        return getattr(obj, "renovation", None)

    @staticmethod
    def resolve_missing_signoffs(obj: Case) -> list[str]:
        return missing_signoffs(obj)

    @staticmethod
    def resolve_history(obj: Case) -> list[Any]:
        return list(case_history(obj))


# -- input ------------------------------------------------------------------------------------------------------


class Versioned(Schema):
    version: int | None = Field(None, description=VERSION_HELP)


class CaseIn(Schema):
    household_id: int
    house_id: int | None = Field(None, description=_("该户的房屋；同一房屋只能有一本未销号的台账"))
    source: CaseSource
    household_type: HouseholdType | None = Field(
        None, description=_("问题清单必填（P1）：unstable、edge、sudden_hardship、other_registered")
    )
    description: str = Field(max_length=1000, description=_("问题描述"))
    measures: str = Field("", max_length=1000, description=_("整改措施"))
    opened_on: dt.date | None = Field(None, description=_("登记日期，默认今天"))
    transferred_on: dt.date | None = Field(None, description=_("移交日期（问题清单必填）"))
    source_ref: str = Field("", max_length=100, description=_("来源编号"))


class CasePatch(Versioned):
    description: str | None = Field(None, max_length=1000)
    measures: str | None = Field(None, max_length=1000)


class RequestAppraisalIn(Versioned):
    description: str = Field("", max_length=1000, description=_("需鉴定的情况，默认为问题描述"))


class UseAppraisalIn(Versioned):
    appraisal_id: int = Field(description=_("该台账房屋已有的鉴定"))


class ApplicationIn(Versioned):
    """P20: the household applies; its will, who confirmed it and what it chose."""

    applied_on: dt.date
    consent_on: dt.date | None = Field(None, description=_("户意愿确认日期；纳入计划前必须填写"))
    consent_by: str = Field("", max_length=64, description=_("确认改造意愿的家庭成员"))
    application_note: str = Field("", max_length=1000)
    consent_note: str = Field("", max_length=1000, description=_("户意愿及选择"))
    household_chose_plan: bool = False
    own_labour: bool = False
    self_funding: Decimal = Field(Decimal(0), description=_("自筹资金（元）"))


class PlanIn(Versioned):
    method: RenovationMethod
    planned_on: dt.date | None = Field(None, description=_("纳入计划日期，默认今天"))


class DesignIn(Versioned):
    design_kind: str = Field(
        "atlas",
        description=_("只支持 atlas（采用《陕西省农房设计图集》）；上传设计图请在网页的台账页面中操作"),
    )
    design_reference: str = Field(max_length=200, description=_("图集编号/设计说明"))


class BuilderIn(Versioned):
    craftsman_id: int = Field(description=_("本县登记、已参加本年度培训的工匠（P17、P22）"))


class StartIn(Versioned):
    started_on: dt.date
    must_move_out: bool = Field(True, description=_("施工期间需搬出（须有安全的过渡安置，P19）"))
    energy_saving: bool = False
    toilet_retrofit: bool = False


class VisitIn(Schema):
    visited_on: dt.date
    findings: str = Field(max_length=1000)
    needs_fix: bool = False
    fix_due_on: dt.date | None = Field(None, description=_("需整改时必填"))


class VisitFixIn(Schema):
    fixed_on: dt.date
    fix_note: str = Field(max_length=1000)


class CompleteIn(Versioned):
    completed_on: dt.date


class AcceptIn(Versioned):
    accepted_on: dt.date
    acceptance_team: str = Field(max_length=300, description=_("参加验收的人员"))
    household_signed: bool = Field(description=_("农户参加验收并签字（P20）"))
    note: str = Field("", max_length=1000)
    house_grade_after: Grade | None = Field(None, description=_("验收后房屋等级（A或B），写入房屋等级记录"))


class PaymentIn(Schema):
    paid_on: dt.date
    amount: Decimal = Field(description=_("拨付金额（元）"))
    account: str = Field("", max_length=40, description=_("收款账号，仅保存后四位"))
    note: str = Field("", max_length=200)


class TransitionalIn(Schema):
    kind: TransitionKind
    place: str = Field(max_length=200)
    from_on: dt.date
    to_on: dt.date | None = None
    safety_confirmed: bool = Field(False, description=_("登记人已确认住房安全"))
    note: str = Field("", max_length=500)


class TransitionalConfirmIn(Schema):
    confirmed_on: dt.date | None = Field(None, description=_("确认日期，默认今天"))


class SecureIn(Versioned):
    means: SecureMeans
    secured_on: dt.date
    evidence: str = Field(max_length=1000, description=_("保障安全的证明（租房协议、公租房入住通知等）"))


class CancelIn(Versioned):
    reason: str = Field(max_length=500)


class CloseIn(Versioned):
    closed_on: dt.date | None = Field(None, description=_("销号日期，默认今天"))


class SignOffIn(Schema):
    kind: SignOffKind = Field(description=_("problem 问题清、appraisal 鉴定清、renovation 改造清、acceptance 验收清"))
    comment: str = Field("", max_length=500)


# -- registries -------------------------------------------------------------------------------------------------


class CraftsmanOut(ModelSchema):
    division_code: str = Field(alias="division_id")
    county: str = Field(alias="division.name")
    kind: ChoiceOut
    trained_years: list[int] = Field(description=_("参加培训的年度（P17）"))

    class Meta:
        model = Craftsman
        fields = ["id", "name", "phone", "certificate", "is_active"]

    @staticmethod
    def resolve_kind(obj: Craftsman) -> dict[str, str]:
        return _choice(obj.kind, obj.get_kind_display())

    @staticmethod
    def resolve_trained_years(obj: Craftsman) -> list[int]:
        """The years of the sessions the craftsman signed in at (the training ledger)."""
        return sorted({a.session.held_on.year for a in obj.signed_attendances})


class CraftsmanIn(Schema):
    name: str = Field(max_length=100)
    kind: CraftsmanKind = CraftsmanKind.CRAFTSMAN
    phone: str = Field("", max_length=20)
    certificate: str = Field("", max_length=64)
    division: str | None = Field(None, description=_("所在县（市、区）的区划代码；县级用户默认本县"))


class TrainingIn(Schema):
    year: int
    trained_on: dt.date | None = None
    topic: str = Field("", max_length=200)


class SubsidyRateOut(ModelSchema):
    method: ChoiceOut

    class Meta:
        model = SubsidyRate
        fields = ["id", "year", "grade", "category_code", "amount", "note", "is_sample"]

    @staticmethod
    def resolve_method(obj: SubsidyRate) -> dict[str, str]:
        return _choice(obj.method, obj.get_method_display())


class SubsidyRateIn(Schema):
    year: int
    method: RenovationMethod
    amount: Decimal = Field(description=_("补助标准（元/户）"))
    grade: str = Field("", pattern="^[CD]?$", description=_("C、D 或留空（不限）"))
    category_code: str = Field("", max_length=40, description=_("重点对象类型代码，留空为不限"))
    note: str = Field("", max_length=200)
