"""Renovation of a dangerous house (P20–P22, P12, P19): the household's application and consent, the plan and its
money, the structural design, a trained craftsman, the works with site visits, completion, joint acceptance, the
subsidy payment, transitional housing and photos.

Guards (each refusal says why in Chinese): no plan without the household's application and consent (P20); no
works without a design and a registered craftsman trained this year (P17, P22); no completion while a site-visit
fix is open or before any county visit (P22); no acceptance without the household (P20); no payment before the
acceptance or above the subsidy (P4).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.core.checks import check_date, invalid, require, text
from anju.core.errors import ConflictError, DomainError
from anju.core.scope import in_scope
from anju.registry.models import GradeSource
from anju.registry.services import house_grade

from ..models import (
    Case,
    CaseOutcome,
    CasePhoto,
    CaseState,
    Craftsman,
    DesignKind,
    PhotoStage,
    Renovation,
    RenovationMethod,
    SiteVisit,
    SubsidyPayment,
    TransitionalHousing,
    TransitionKind,
)
from ._common import lock, record, require_state
from .registries import _amount, is_trained, subsidy_for

BEFORE_WORKS = (CaseState.APPRAISED, CaseState.PLANNED)
MAX_DESIGN_BYTES = 20 * 1024 * 1024
DESIGN_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".dwg")


def renovation_of(case: Case) -> Renovation:
    renovation = Renovation.objects.filter(case=case).first()
    return renovation or Renovation(case=case, division_id=case.division_id)


def _open_fixes(case: Case) -> int:
    return SiteVisit.objects.filter(case=case, needs_fix=True, fixed_on__isnull=True).count()


@transaction.atomic(durable=True)
def renovation_apply(
    *,
    actor: Any,
    case: Case,
    applied_on: dt.date,
    consent_on: dt.date | None,
    consent_by: str = "",
    application_note: str = "",
    consent_note: str = "",
    household_chose_plan: bool = False,
    own_labour: bool = False,
    self_funding: Any = 0,
    expected_version: int | None = None,
) -> Renovation:
    """P20: the household is the responsible subject: it applies, its will is asked and recorded (who confirmed,
    when, what it chose), and it takes part in choosing the plan, raising funds and labour."""
    require(actor, "cases.apply", case.division_id)
    case = lock(case, expected_version)
    require_state(case, BEFORE_WORKS, _("登记农户申请"))
    errors = check_date(applied_on, "applied_on", _("申请日期"))
    errors |= check_date(consent_on, "consent_on", _("户意愿确认日期"), required=False)
    consent_by = text(consent_by, 64)
    if consent_on is not None and not consent_by:
        errors["consent_by"] = _("请填写确认改造意愿的家庭成员姓名")
    if consent_on and applied_on and "consent_on" not in errors and consent_on < applied_on:
        errors["consent_on"] = _("户意愿确认日期不能早于申请日期")
    if errors:
        raise invalid(errors)
    funding = _amount(self_funding or 0, "self_funding")
    renovation = renovation_of(case)
    fields = {
        "applied_on": applied_on,
        "application_note": text(application_note, 1000),
        "consent_on": consent_on,
        "consent_by": consent_by,
        "consent_note": text(consent_note, 1000),
        "household_chose_plan": bool(household_chose_plan),
        "own_labour": bool(own_labour),
        "self_funding": funding,
    }
    before = {k: getattr(renovation, k) for k in fields} if renovation.pk else None
    for field, value in fields.items():
        setattr(renovation, field, value)
    renovation.save()
    record(actor=actor, case=case, action=Action.RENOVATION_APPLIED, before=before, after=fields)
    return renovation


@transaction.atomic(durable=True)
def case_plan(
    *,
    actor: Any,
    case: Case,
    method: str,
    planned_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Case:
    """P1, P20, P21: the county puts the case into the renovation plan with a method chosen with the household.
    The subsidy follows from the city's rates. 抗震改造 is open to houses of any grade (seismic deficiency)."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.APPRAISED], _("纳入改造计划"))
    planned_on = planned_on or dt.date.today()
    errors = check_date(planned_on, "planned_on", _("纳入计划日期"))
    if method not in RenovationMethod.values:
        errors["method"] = _("请选择改造方式")
    elif not case.is_dangerous and method != RenovationMethod.SEISMIC:
        errors["method"] = _("鉴定为{grade}级的房屋不是危房，只能纳入抗震改造").format(grade=case.grade or "-")
    renovation = renovation_of(case)
    if renovation.applied_on is None or renovation.consent_on is None:
        errors["consent"] = _("农户尚未提出改造申请并确认改造意愿，不能纳入计划（P20：尊重农户意愿）")
    if errors:
        raise invalid(errors, _("不能纳入改造计划，请检查标出的项目"))
    rate = subsidy_for(household=case.household, year=planned_on.year, method=method, grade=case.grade)
    renovation.method, renovation.planned_on = method, planned_on
    renovation.subsidy_rate, renovation.subsidy_amount = rate, rate.amount
    renovation.save()
    before = {"state": case.state}
    case.state = CaseState.PLANNED
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_PLANNED,
        before=before,
        after={"state": case.state, "method": method, "planned_on": planned_on, "subsidy_amount": rate.amount},
        extra={"subsidy_rate": rate.pk},
        fields=["state"],
    )


@transaction.atomic(durable=True)
def renovation_design(
    *,
    actor: Any,
    case: Case,
    design_kind: str,
    design_reference: str = "",
    design_file: Any = None,
    expected_version: int | None = None,
) -> Renovation:
    """P12, P22: the basic structural design — a design of the Shaanxi atlas by its number, or an uploaded one."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, BEFORE_WORKS, _("登记结构设计"))
    reference = text(design_reference, 200)
    errors = {}
    if design_kind not in DesignKind.values:
        errors["design_kind"] = _("请选择结构设计方式")
    elif design_kind == DesignKind.ATLAS and not reference:
        errors["design_reference"] = _("请填写所采用的《陕西省农房设计图集》图号")
    elif design_kind == DesignKind.CUSTOM:
        if design_file is None:
            errors["design_file"] = _("请上传设计图")
        elif not str(getattr(design_file, "name", "")).lower().endswith(DESIGN_TYPES):
            errors["design_file"] = _("设计图应为PDF、图片或DWG文件")
        elif (getattr(design_file, "size", 0) or 0) > MAX_DESIGN_BYTES:
            errors["design_file"] = _("设计图不能超过20MB")
    if errors:
        raise invalid(errors)
    renovation = renovation_of(case)
    renovation.design_kind, renovation.design_reference = design_kind, reference
    if design_kind == DesignKind.CUSTOM:
        renovation.design_file = design_file
    renovation.save()
    record(
        actor=actor,
        case=case,
        action=Action.RENOVATION_DESIGNED,
        after={"design_kind": design_kind, "design_reference": reference, "design_file": renovation.design_file.name},
    )
    return renovation


def builder_refusal(builder: Craftsman | None, case: Case, on: dt.date) -> DomainError | None:
    """P17, P22: why `builder` may not take this job on `on`, or None."""
    if builder is None:
        return invalid({"builder": _("请选择施工工匠")}, _("尚未确定施工工匠，不能开工"))
    if not builder.is_active or not in_scope(case.division_id, builder.division_id[:6]):
        return invalid({"builder": _("{name}不是本县登记的有效工匠").format(name=builder.name)})
    if not is_trained(builder, on.year):
        message = _("{name}未参加{year}年度培训，不能承揽农房改造（P17、P22：未经培训的工匠不得承揽）").format(
            name=builder.name, year=on.year
        )
        return invalid({"builder": message}, message)
    return None


@transaction.atomic(durable=True)
def renovation_builder(
    *, actor: Any, case: Case, builder: Craftsman, expected_version: int | None = None
) -> Renovation:
    """P22: the craftsman or builder who takes the job — registered in the county and trained this year."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, BEFORE_WORKS, _("确定施工工匠"))
    refusal = builder_refusal(builder, case, dt.date.today())
    if refusal is not None:
        raise refusal
    renovation = renovation_of(case)
    before = {"builder": renovation.builder_id}
    renovation.builder = builder
    renovation.save()
    record(
        actor=actor,
        case=case,
        action=Action.RENOVATION_BUILDER_SET,
        before=before,
        after={"builder": builder.pk},
        extra={"builder_name": builder.name},
    )
    return renovation


@transaction.atomic(durable=True)
def case_start(
    *,
    actor: Any,
    case: Case,
    started_on: dt.date,
    must_move_out: bool = True,
    energy_saving: bool = False,
    toilet_retrofit: bool = False,
    expected_version: int | None = None,
) -> Case:
    """P12, P19, P22: works start only with a structural design and a registered craftsman trained in the year of
    the start; whether the household must move out (then transitional housing must be safe) is recorded."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.PLANNED], _("开工"))
    errors = check_date(started_on, "started_on", _("开工日期"))
    renovation = renovation_of(case)
    if not errors and renovation.planned_on and started_on < renovation.planned_on:
        errors["started_on"] = _("开工日期不能早于纳入计划日期")
    if not renovation.design_kind:
        errors["design"] = _("尚无基本结构设计（图集或设计图），不能开工（P22）")
    if errors:
        raise invalid(errors, _("不能开工，请检查标出的项目"))
    refusal = builder_refusal(renovation.builder, case, started_on)
    if refusal is not None:
        raise refusal
    renovation.started_on = started_on
    renovation.must_move_out = bool(must_move_out)
    renovation.energy_saving, renovation.toilet_retrofit = bool(energy_saving), bool(toilet_retrofit)
    renovation.save()
    before = {"state": case.state}
    case.state = CaseState.UNDER_CONSTRUCTION
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_STARTED,
        before=before,
        after={
            "state": case.state,
            "started_on": started_on,
            "builder": renovation.builder_id,
            "must_move_out": renovation.must_move_out,
            "energy_saving": renovation.energy_saving,
            "toilet_retrofit": renovation.toilet_retrofit,
        },
        fields=["state"],
    )


@transaction.atomic(durable=True)
def site_visit_add(
    *,
    actor: Any,
    case: Case,
    visited_on: dt.date,
    findings: str,
    needs_fix: bool = False,
    fix_due_on: dt.date | None = None,
) -> SiteVisit:
    """P22: county staff visit the site (逐户巡查) and order fixes where needed."""
    require(actor, "cases.visit", case.division_id)
    case = lock(case)
    require_state(case, [CaseState.UNDER_CONSTRUCTION, CaseState.COMPLETED], _("登记施工巡查"))
    findings = text(findings, 1000)
    errors = check_date(visited_on, "visited_on", _("巡查日期"))
    if not findings:
        errors["findings"] = _("请填写巡查情况")
    if needs_fix and fix_due_on is None:
        errors["fix_due_on"] = _("需整改时请填写整改期限")
    elif needs_fix and visited_on and fix_due_on < visited_on:
        errors["fix_due_on"] = _("整改期限不能早于巡查日期")
    started_on = renovation_of(case).started_on
    if visited_on and started_on and "visited_on" not in errors and visited_on < started_on:
        errors["visited_on"] = _("巡查日期不能早于开工日期")
    if errors:
        raise invalid(errors)
    visit = SiteVisit.objects.create(
        case=case,
        division_id=case.division_id,
        visited_on=visited_on,
        visitor=actor,
        findings=findings,
        needs_fix=bool(needs_fix),
        fix_due_on=fix_due_on if needs_fix else None,
    )
    record(
        actor=actor,
        case=case,
        action=Action.SITE_VISIT_RECORDED,
        moved=False,
        after={"visit": visit.pk, "visited_on": visited_on, "findings": findings, "needs_fix": visit.needs_fix,
               "fix_due_on": visit.fix_due_on},
    )  # fmt: skip
    return visit


@transaction.atomic(durable=True)
def site_visit_fix(*, actor: Any, visit: SiteVisit, fixed_on: dt.date, fix_note: str) -> SiteVisit:
    """P22: the fix ordered on a visit is done (checked by county staff)."""
    require(actor, "cases.visit", visit.division_id)
    case = lock(visit.case)
    visit = SiteVisit.objects.select_for_update().get(pk=visit.pk)
    fix_note = text(fix_note, 1000)
    errors = check_date(fixed_on, "fixed_on", _("整改完成日期"))
    if not visit.needs_fix or visit.fixed_on is not None:
        raise ConflictError(_("该次巡查没有待整改的问题"), errors={"visit": _("无待整改问题")})
    if not errors and fixed_on < visit.visited_on:
        errors["fixed_on"] = _("整改完成日期不能早于巡查日期")
    if not fix_note:
        errors["fix_note"] = _("请填写整改情况")
    if errors:
        raise invalid(errors)
    visit.fixed_on, visit.fix_note = fixed_on, fix_note
    visit.save(update_fields=["fixed_on", "fix_note"])
    record(
        actor=actor,
        case=case,
        action=Action.SITE_VISIT_FIXED,
        moved=False,
        after={"visit": visit.pk, "fixed_on": fixed_on, "fix_note": fix_note},
    )
    return visit


@transaction.atomic(durable=True)
def case_complete(*, actor: Any, case: Case, completed_on: dt.date, expected_version: int | None = None) -> Case:
    """P22: the works are finished — after at least one county site visit, with every ordered fix done."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.UNDER_CONSTRUCTION], _("登记竣工"))
    renovation = renovation_of(case)
    errors = check_date(completed_on, "completed_on", _("竣工日期"))
    if not errors and completed_on < renovation.started_on:
        errors["completed_on"] = _("竣工日期不能早于开工日期（{date}）").format(date=renovation.started_on.isoformat())
    if not SiteVisit.objects.filter(case=case).exists():
        errors["visits"] = _("县级尚未到现场巡查，不能竣工（P22：逐户巡查）")
    fixes = _open_fixes(case)
    if fixes:
        errors["visits"] = _("巡查发现的{count}个问题尚未整改完成，不能竣工").format(count=fixes)
    if errors:
        raise invalid(errors, _("不能登记竣工，请检查标出的项目"))
    renovation.completed_on = completed_on
    renovation.save(update_fields=["completed_on"])
    before = {"state": case.state}
    case.state = CaseState.COMPLETED
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_COMPLETED,
        before=before,
        after={"state": case.state, "completed_on": completed_on},
        fields=["state"],
    )


@transaction.atomic(durable=True)
def case_accept(
    *,
    actor: Any,
    case: Case,
    accepted_on: dt.date,
    acceptance_team: str,
    household_signed: bool,
    note: str = "",
    house_grade_after: str = "",
    expected_version: int | None = None,
) -> Case:
    """P20, P22: joint completion acceptance (竣工验收) by the county with the household, which signs. The grade
    the house is found at (A or B) goes into its grade history."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.COMPLETED], _("竣工验收"))
    renovation = renovation_of(case)
    team = text(acceptance_team, 300)
    errors = check_date(accepted_on, "accepted_on", _("验收日期"))
    if not errors and accepted_on < renovation.completed_on:
        errors["accepted_on"] = _("验收日期不能早于竣工日期（{date}）").format(date=renovation.completed_on.isoformat())
    if not team:
        errors["acceptance_team"] = _("请填写参加验收的人员")
    if not household_signed:
        errors["household_signed"] = _("农户须参加验收并签字确认（P20）")
    if house_grade_after not in ("", "A", "B"):
        errors["house_grade_after"] = _("验收后房屋等级应为A或B")
    if _open_fixes(case):
        errors["visits"] = _("巡查发现的问题尚未整改完成，不能验收")
    if errors:
        raise invalid(errors, _("不能验收，请检查标出的项目"))
    renovation.accepted_on, renovation.acceptance_team = accepted_on, team
    renovation.household_signed_acceptance, renovation.acceptance_note = True, text(note, 1000)
    renovation.save()
    if house_grade_after and case.house_id:
        house_grade(
            actor=actor,
            house=case.house,
            grade=house_grade_after,
            graded_on=accepted_on,
            source=GradeSource.ACCEPTANCE,
            note=_("台账#{id}竣工验收（{method}）").format(id=case.pk, method=renovation.get_method_display()),
        )
    before = {"state": case.state}
    case.state = CaseState.ACCEPTED
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_ACCEPTED,
        before=before,
        after={
            "state": case.state,
            "accepted_on": accepted_on,
            "acceptance_team": team,
            "house_grade_after": house_grade_after,
        },
        fields=["state"],
    )


def _mask_account(account: str) -> str:
    digits = "".join(ch for ch in (account or "") if ch.isalnum())
    if not digits:
        return ""
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


@transaction.atomic(durable=True)
def subsidy_payment_add(
    *, actor: Any, case: Case, paid_on: dt.date, amount: Any, account: str = "", note: str = ""
) -> SubsidyPayment:
    """P4, P21: a subsidy payment, only after the acceptance and never above the case's subsidy in total.
    The account number is kept masked (last four digits)."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case)
    accepted = case.state == CaseState.ACCEPTED or (
        case.state == CaseState.CLOSED and case.outcome == CaseOutcome.RENOVATED
    )
    if not accepted:
        raise ConflictError(
            _("补助资金须在竣工验收后拨付，台账当前为「{state}」").format(state=case.get_state_display()),
            errors={"state": case.get_state_display()},
        )
    renovation = renovation_of(case)
    errors = check_date(paid_on, "paid_on", _("拨付日期"))
    if not errors and paid_on < renovation.accepted_on:
        errors["paid_on"] = _("拨付日期不能早于验收日期（{date}）").format(date=renovation.accepted_on.isoformat())
    if errors:
        raise invalid(errors)
    amount = _amount(amount, "amount")
    if amount <= 0:
        raise invalid({"amount": _("拨付金额必须大于0")})
    paid = SubsidyPayment.objects.filter(case=case).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    limit = renovation.subsidy_amount or Decimal(0)
    if paid + amount > limit:
        message = _("累计拨付{total}元将超过核定补助{limit}元").format(total=paid + amount, limit=limit)
        raise invalid({"amount": message}, message)
    payment = SubsidyPayment.objects.create(
        case=case,
        division_id=case.division_id,
        paid_on=paid_on,
        amount=amount,
        account_masked=_mask_account(account),
        note=text(note, 200),
        recorded_by=actor,
    )
    record(
        actor=actor,
        case=case,
        action=Action.SUBSIDY_PAID,
        moved=False,
        after={"payment": payment.pk, "paid_on": paid_on, "amount": amount, "account": payment.account_masked},
    )
    return payment


@transaction.atomic(durable=True)
def transitional_add(
    *,
    actor: Any,
    case: Case,
    kind: str,
    place: str,
    from_on: dt.date,
    to_on: dt.date | None = None,
    safety_confirmed: bool = False,
    note: str = "",
) -> TransitionalHousing:
    """P19: where the household lives during the works; its safety confirmed by the person recording it."""
    require(actor, "cases.apply", case.division_id)
    case = lock(case)
    require_state(case, [CaseState.APPRAISED, CaseState.PLANNED, CaseState.UNDER_CONSTRUCTION], _("登记过渡安置"))
    place = text(place, 200)
    errors = check_date(from_on, "from_on", _("开始日期"))
    if kind not in TransitionKind.values:
        errors["kind"] = _("请选择安置方式")
    if not place:
        errors["place"] = _("请填写安置地点")
    if to_on is not None and from_on is not None and to_on < from_on:
        errors["to_on"] = _("结束日期不能早于开始日期")
    if errors:
        raise invalid(errors)
    today = dt.date.today()
    housing = TransitionalHousing.objects.create(
        case=case,
        division_id=case.division_id,
        kind=kind,
        place=place,
        from_on=from_on,
        to_on=to_on,
        safety_confirmed=bool(safety_confirmed),
        confirmed_by=actor if safety_confirmed else None,
        confirmed_on=today if safety_confirmed else None,
        note=text(note, 500),
    )
    record(
        actor=actor,
        case=case,
        action=Action.TRANSITIONAL_RECORDED,
        moved=False,
        after={"housing": housing.pk, "kind": kind, "place": place, "from_on": from_on, "to_on": to_on,
               "safety_confirmed": housing.safety_confirmed},
    )  # fmt: skip
    return housing


@transaction.atomic(durable=True)
def transitional_confirm(
    *, actor: Any, housing: TransitionalHousing, confirmed_on: dt.date | None = None
) -> TransitionalHousing:
    """P19: someone has seen that the transitional housing is safe."""
    require(actor, "cases.apply", housing.division_id)
    case = lock(housing.case)
    housing = TransitionalHousing.objects.select_for_update().get(pk=housing.pk)
    confirmed_on = confirmed_on or dt.date.today()
    errors = check_date(confirmed_on, "confirmed_on", _("确认日期"))
    if errors:
        raise invalid(errors)
    if housing.safety_confirmed:
        raise ConflictError(_("该过渡安置已确认安全"))
    housing.safety_confirmed, housing.confirmed_by, housing.confirmed_on = True, actor, confirmed_on
    housing.save(update_fields=["safety_confirmed", "confirmed_by", "confirmed_on"])
    record(
        actor=actor,
        case=case,
        action=Action.TRANSITIONAL_CONFIRMED,
        moved=False,
        after={"housing": housing.pk, "confirmed_on": confirmed_on},
    )
    return housing


@transaction.atomic(durable=True)
def case_photo_add(*, actor: Any, case: Case, stage: str, file: Any, caption: str = "") -> CasePhoto:
    """Photos before, during and after the works (or evidence), checked and stored like check photos."""
    from anju.inspections.services.photos import photo_facts, stored_name

    require(actor, "cases.apply", case.division_id)
    case = lock(case)
    if stage not in PhotoStage.values:
        raise invalid({"stage": _("请选择照片阶段")})
    facts = photo_facts(file, field="photo")
    if CasePhoto.objects.filter(case=case, sha256=facts.sha256).exists():
        raise ConflictError(_("该照片已上传"), errors={"photo": _("该照片已上传")})
    photo = CasePhoto.objects.create(
        case=case,
        division_id=case.division_id,
        stage=stage,
        file=stored_name(facts, file),
        sha256=facts.sha256,
        taken_at=facts.taken_at,
        latitude=facts.latitude,
        longitude=facts.longitude,
        caption=text(caption, 200),
        uploaded_by=actor,
    )
    record(
        actor=actor,
        case=case,
        action=Action.CASE_PHOTO_ADDED,
        moved=False,
        after={"photo": photo.pk, "stage": stage, "sha256": photo.sha256, "taken_at": photo.taken_at},
    )
    return photo
