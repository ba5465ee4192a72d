"""Opening a case, settling it by appraisal, and its end moves: made safe by other means, cancelled, closed.

States and moves (DESIGN.md "Domain rules"): 登记 → 待鉴定 → 已鉴定 → (A/B: 销号 as safe) or 已纳入计划 → 施工中
→ 已竣工 → 已验收 → 已销号, or 保障安全 → 已销号. Plan and works are in `renovation.py`, the four sign-offs in
`signoffs.py`. Every move locks the case row first, so of two people moving one case only one succeeds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.audit.actions import Action
from anju.core.checks import check_date, invalid, require, text
from anju.core.errors import ConflictError
from anju.inspections.models import Appraisal, AppraisalRequest, CampaignKind, RequestSource, RequestStatus
from anju.policy.deadlines import completion_deadline
from anju.policy.responsibility import ResponsibilityMap
from anju.registry.models import DANGEROUS_GRADES, Grade, House, Household, HouseholdCategory, SecurityMethod

from ..models import (
    Case,
    CaseOutcome,
    CaseSource,
    CaseState,
    HouseholdType,
    Renovation,
    SecureMeans,
    SignOffKind,
)
from ._common import lock, record, require_state
from .signoffs import missing_signoffs

PROBLEM_LIST_TYPES = (
    HouseholdType.UNSTABLE,
    HouseholdType.EDGE,
    HouseholdType.SUDDEN_HARDSHIP,
    HouseholdType.OTHER_REGISTERED,
)
SECURE_TO_REGISTRY = {
    SecureMeans.PUBLIC_RENTAL: SecurityMethod.PUBLIC_RENTAL,
    SecureMeans.RELATIVES: SecurityMethod.RELATIVES,
    SecureMeans.RENTED: SecurityMethod.RENTED,
    SecureMeans.IDLE_HOUSE: SecurityMethod.OTHER,
    SecureMeans.OTHER: SecurityMethod.OTHER,
}
DEFAULT_MEASURES = {
    Grade.C: gettext_lazy("局部危房：按规定修缮加固，消除危险点"),
    Grade.D: gettext_lazy("整幢危房：拆除重建或选址新建，或通过其他方式保障住房安全"),
}


def _categories(household: Household) -> list[str]:
    return list(
        HouseholdCategory.objects.filter(household=household, ended_on__isnull=True)
        .order_by("category__sort_order")
        .values_list("category__name", flat=True)
    )


def _responsible(code: str, household_id: int | None = None) -> tuple[Any, str]:
    """P18: who answers for the case — from the responsibility chain: the household's person, else the nearest
    person named up from its village, else (chain not filled in yet) the nearest user with the level's role."""
    person = ResponsibilityMap([code], household_ids=[household_id] if household_id else ()).for_code(
        code, household_id
    )
    return person.user_id, person.name


def _apply_appraisal(case: Case, appraisal: Appraisal) -> dict[str, Any]:
    """Record the appraisal that settles the case; a dangerous grade starts the P19 deadline."""
    case.appraisal, case.grade, case.appraised_on = appraisal, appraisal.final_grade, appraisal.appraised_on
    case.due_on = completion_deadline(appraisal.appraised_on) if appraisal.final_grade in DANGEROUS_GRADES else None
    if not case.measures and appraisal.final_grade in DEFAULT_MEASURES:
        case.measures = str(DEFAULT_MEASURES[appraisal.final_grade])
    case.state = CaseState.APPRAISED
    return {
        "state": case.state,
        "appraisal": appraisal.pk,
        "grade": case.grade,
        "appraised_on": case.appraised_on,
        "due_on": case.due_on,
    }


@transaction.atomic(durable=True)
def case_open(
    *,
    actor: Any,
    household: Household,
    source: str,
    description: str,
    house: House | None = None,
    household_type: str = "",
    measures: str = "",
    opened_on: dt.date | None = None,
    transferred_on: dt.date | None = None,
    source_ref: str = "",
) -> Case:
    """P19: every housing-safety problem found goes into the ledger. A problem list item (P1) carries the
    household type the rural-revitalisation department gave it and the date it was transferred."""
    require(actor, "cases.open", household.division_id, "household")
    opened_on = opened_on or dt.date.today()
    description = text(description, 1000)
    errors = check_date(opened_on, "opened_on", _("登记日期"))
    if source not in CaseSource.values:
        errors["source"] = _("请选择问题来源")
    if not description:
        errors["description"] = _("请填写问题描述")
    if house is not None and house.household_id != household.pk:
        errors["house"] = _("该房屋不属于此农户")
    if source == CaseSource.PROBLEM_LIST:
        if household_type not in PROBLEM_LIST_TYPES:
            errors["household_type"] = _(
                "问题清单须注明户类型（脱贫不稳定户、边缘易致贫户、突发严重困难户、其他建档立卡户）"
            )
        errors |= check_date(transferred_on, "transferred_on", _("移交日期"))
    elif household_type and household_type not in HouseholdType.values:
        errors["household_type"] = _("户类型无效")
    if errors:
        raise invalid(errors)
    categories = _categories(household)
    if not household_type:
        household_type = HouseholdType.KEY_TARGET if categories else HouseholdType.GENERAL
    if house is not None:
        House.objects.select_for_update().filter(pk=house.pk).first()  # two openings of one house take turns
        existing = Case.objects.filter(house=house).exclude(state__in=[CaseState.CLOSED, CaseState.CANCELLED]).first()
        if existing is not None:
            message = _("该房屋已有未销号的台账#{id}（{state}），请在原台账中处理").format(
                id=existing.pk, state=existing.get_state_display()
            )
            raise ConflictError(message, errors={"house": message})
    responsible_id, responsible_name = _responsible(household.division_id, household.pk)
    case = Case.objects.create(
        division_id=household.division_id,
        household=household,
        house=house,
        source=source,
        source_ref=text(source_ref, 100),
        household_type=household_type,
        categories=categories,
        description=description,
        measures=text(measures, 1000),
        opened_on=opened_on,
        transferred_on=transferred_on,
        opened_by=actor if getattr(actor, "pk", None) else None,
        responsible_id=responsible_id,
        responsible_name=responsible_name,
    )
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_OPENED,
        moved=False,
        after={
            "household": household.pk,
            "house": house.pk if house else None,
            "source": source,
            "household_type": household_type,
            "description": description,
            "measures": case.measures,
            "opened_on": opened_on,
            "transferred_on": transferred_on,
            "state": case.state,
        },
    )


def case_open_for(
    *, actor: Any, household: Household, house: House | None, source: str, source_ref: str, description: str
) -> Case:
    """The case another record (a complaint, a supervision finding, a re-application) opened, or a new one.

    The record's number is the case's `source_ref`, so when the record's own link failed after the case was opened,
    trying again finds that case instead of opening a second one (`case_open` commits on its own)."""
    case = (
        Case.objects.filter(source=source, source_ref=source_ref, household_id=household.pk)
        .exclude(state=CaseState.CANCELLED)
        .first()
    )
    if case is not None:
        return case
    return case_open(
        actor=actor, household=household, house=house, source=source, source_ref=source_ref, description=description
    )


@transaction.atomic(durable=True)
def case_update(*, actor: Any, case: Case, expected_version: int | None = None, **changes: Any) -> Case:
    """Change the description or the measures (整改措施) of an open case."""
    require(actor, "cases.open", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [s for s in CaseState.values if s not in (CaseState.CLOSED, CaseState.CANCELLED)], _("修改"))
    unknown = set(changes) - {"description", "measures"}
    if unknown:
        raise invalid({k: _("不能在此修改") for k in unknown})
    before = {k: getattr(case, k) for k in changes}
    for field, value in changes.items():
        setattr(case, field, text(value, 1000))
    if "description" in changes and not case.description:
        raise invalid({"description": _("请填写问题描述")})
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_CHANGED,
        before=before,
        after={k: getattr(case, k) for k in changes},
        fields=list(changes),
    )


@transaction.atomic(durable=True)
def case_request_appraisal(
    *, actor: Any, case: Case, description: str = "", expected_version: int | None = None
) -> Case:
    """P1, P8: the county has the house appraised (逐户鉴定). Opens an appraisal request for the case's house,
    or joins the one already open."""
    from anju.inspections.services.appraisals import request_open_or_join

    require(actor, "cases.open", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.REGISTERED], _("申请鉴定"))
    if case.house_id is None:
        raise invalid({"house": _("请先登记该户的房屋，再申请鉴定")}, _("台账未关联房屋，不能申请鉴定"))
    request = request_open_or_join(
        actor=actor, house=case.house, description=text(description, 1000) or case.description
    )
    case.appraisal_request, case.state = request, CaseState.AWAITING_APPRAISAL
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_APPRAISAL_REQUESTED,
        before={"state": CaseState.REGISTERED},
        after={"state": case.state, "appraisal_request": request.pk, "due_on": request.due_on},
        fields=["appraisal_request", "state"],
    )


@transaction.atomic(durable=True)
def case_use_appraisal(*, actor: Any, case: Case, appraisal: Appraisal, expected_version: int | None = None) -> Case:
    """Settle a registered case with an appraisal already on record for its house (e.g. this year's check)."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.REGISTERED, CaseState.AWAITING_APPRAISAL], _("记录鉴定结果"))
    if case.house_id is None or appraisal.house_id != case.house_id:
        raise invalid({"appraisal": _("该鉴定不是本台账房屋的鉴定")})
    return _settle(actor, case, appraisal)


def _settle(actor: Any, case: Case, appraisal: Appraisal) -> Case:
    """The appraisal settles an open case: grade, appraisal date and, for C/D, the P19 deadline."""
    before = {"state": case.state, "grade": case.grade, "due_on": case.due_on}
    after = _apply_appraisal(case, appraisal)
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_APPRAISED,
        before=before,
        after=after,
        fields=["appraisal", "grade", "appraised_on", "due_on", "measures", "state"],
    )


def _source_of(request: AppraisalRequest | None) -> str:
    """The case's source follows its request: a house damaged in a disaster (P9, P23) gives 灾害."""
    if request is not None and request.source == RequestSource.DISASTER:
        return CaseSource.DISASTER
    from_check = request is not None and request.source == RequestSource.CHECK and request.check_record_id
    if from_check and request.check_record.campaign.kind == CampaignKind.ANNUAL:
        return CaseSource.ANNUAL_CHECK
    return CaseSource.SUSPECTED


def case_on_appraisal(*, actor: Any, appraisal: Appraisal) -> Case | None:
    """Called by the appraisal service in its transaction (its authority is the appraiser's): the case waiting
    for this house's appraisal is settled; a dangerous house without an open case gets one (P8, P19)."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .filter(house_id=appraisal.house_id)
        .exclude(state__in=[CaseState.CLOSED, CaseState.CANCELLED])
        .first()
    )
    previous = None
    if case is not None:
        resettle = case.state == CaseState.APPRAISED and not case.signoffs.exclude(kind=SignOffKind.PROBLEM).exists()
        if case.state == CaseState.APPRAISED and not resettle:
            previous, case = _void_for_reappraisal(actor, case, appraisal), None
        elif case.state not in (CaseState.REGISTERED, CaseState.AWAITING_APPRAISAL) and not resettle:
            return case  # a later re-appraisal does not rewind a case under way; the grade history shows it
        else:
            return _settle(actor, case, appraisal)
    if previous is None and appraisal.final_grade not in DANGEROUS_GRADES:
        return None
    house = appraisal.house
    household = house.household
    request = appraisal.request
    categories = _categories(household)
    responsible_id, responsible_name = _responsible(house.division_id, house.household_id)
    case = Case(
        division_id=house.division_id,
        household=household,
        house=house,
        source=previous.source if previous else _source_of(request),
        source_ref=previous.source_ref if previous else "",
        household_type=previous.household_type
        if previous
        else (HouseholdType.KEY_TARGET if categories else HouseholdType.GENERAL),
        transferred_on=previous.transferred_on if previous else None,
        categories=categories,
        description=(previous.description if previous else "")
        or (request.description if request else "")
        or appraisal.conclusion
        or _("鉴定为{grade}级危房").format(grade=appraisal.final_grade),
        opened_on=appraisal.appraised_on,
        opened_by=actor if getattr(actor, "pk", None) else None,
        appraisal_request=request,
        responsible_id=responsible_id,
        responsible_name=responsible_name,
    )
    after = _apply_appraisal(case, appraisal)
    case.save()
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_OPENED,
        moved=False,
        after={"household": household.pk, "house": house.pk, "source": case.source, **after},
        extra={"opened_by_appraisal": appraisal.pk, "replaces_case": previous.pk if previous else None},
    )


def _void_for_reappraisal(actor: Any, case: Case, appraisal: Appraisal) -> Case:
    """A case already settled and attested (鉴定清 or later signed) meets a new appraisal of its house: the
    signatures vouch for the old grade, and a signature is never changed (P2). So the case is cancelled with the
    reason on record and the new appraisal opens a fresh case, whose clears are signed anew."""
    reason = _("房屋于{date}重新鉴定为{grade}级，原鉴定结论及签字作废，另立新台账").format(
        date=appraisal.appraised_on.isoformat(), grade=appraisal.final_grade
    )
    before = {"state": case.state}
    case.state, case.cancel_reason = CaseState.CANCELLED, reason
    record(
        actor=actor,
        case=case,
        action=Action.CASE_CANCELLED,
        before=before,
        after={"state": case.state, "reason": reason},
        extra={"reappraisal": appraisal.pk},
        fields=["state", "cancel_reason"],
    )
    return case


@transaction.atomic(durable=True)
def case_secure(
    *,
    actor: Any,
    case: Case,
    means: str,
    secured_on: dt.date,
    evidence: str,
    expected_version: int | None = None,
) -> Case:
    """P10, P19: a dangerous house's household is made safe by other means (集体公租房, a repaired idle house,
    relatives, renting), with evidence; the registry records how the household's housing is now secured."""
    from anju.registry.services import household_update

    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.APPRAISED, CaseState.PLANNED], _("登记为其他方式保障安全"))
    evidence = text(evidence, 1000)
    errors = check_date(secured_on, "secured_on", _("保障日期"))
    if means not in SecureMeans.values:
        errors["means"] = _("请选择保障方式")
    if len(evidence) < 4:
        errors["evidence"] = _("请说明保障安全的证明（如租房协议、公租房入住通知、亲友住房鉴定情况）")
    if not case.is_dangerous:
        errors["state"] = _("只有鉴定为C级或D级的危房才需要通过其他方式保障安全")
    if not errors and case.appraised_on and secured_on < case.appraised_on:
        errors["secured_on"] = _("保障日期不能早于鉴定日期")
    if errors:
        raise invalid(errors)
    before = {"state": case.state}
    case.state, case.secured_means, case.secured_on, case.secured_evidence = (
        CaseState.SECURED,
        means,
        secured_on,
        evidence,
    )
    household_update(actor=actor, household=case.household, security_method=SECURE_TO_REGISTRY[means])
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_SECURED,
        before=before,
        after={"state": case.state, "means": means, "secured_on": secured_on, "evidence": evidence},
        fields=["state", "secured_means", "secured_on", "secured_evidence"],
    )


@transaction.atomic(durable=True)
def case_cancel(*, actor: Any, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """Withdraw a case opened by mistake (a duplicate, a household that does not exist) with a written reason.
    A case whose works have begun is closed out, not cancelled."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    require_state(case, [CaseState.REGISTERED, CaseState.AWAITING_APPRAISAL, CaseState.APPRAISED], _("撤销"))
    reason = text(reason, 500)
    if not reason:
        raise invalid({"reason": _("请填写撤销理由")})
    if case.appraisal_request_id:
        AppraisalRequest.objects.filter(pk=case.appraisal_request_id, status=RequestStatus.OPEN).update(
            status=RequestStatus.CANCELLED
        )
    before = {"state": case.state}
    case.state, case.cancel_reason = CaseState.CANCELLED, reason
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_CANCELLED,
        before=before,
        after={"state": case.state, "reason": reason},
        fields=["state", "cancel_reason"],
    )


def _close_basis(case: Case) -> tuple[str, dt.date] | None:
    """What a close-out rests on and when it happened: the ledger cannot show a case closed before that (P19)."""
    if case.state == CaseState.ACCEPTED:
        accepted_on = Renovation.objects.filter(case=case).values_list("accepted_on", flat=True).first()
        return (_("验收日期"), accepted_on) if accepted_on else None
    if case.state == CaseState.SECURED and case.secured_on:
        return _("保障日期"), case.secured_on
    if case.appraised_on:
        return _("鉴定日期"), case.appraised_on
    return None


@transaction.atomic(durable=True)
def case_close(
    *, actor: Any, case: Case, closed_on: dt.date | None = None, expected_version: int | None = None
) -> Case:
    """销号 (P2, P19): a house appraised safe (A/B), a renovation accepted, or a household made safe by other means
    is closed out — only when all four clears are signed at the village, town and county level."""
    require(actor, "cases.manage", case.division_id)
    case = lock(case, expected_version)
    closed_on = closed_on or dt.date.today()
    require_state(case, [CaseState.APPRAISED, CaseState.ACCEPTED, CaseState.SECURED], _("销号"))
    if case.state == CaseState.APPRAISED and case.is_dangerous:
        raise ConflictError(
            _("该房屋鉴定为{grade}级危房，须改造验收或通过其他方式保障安全后才能销号").format(grade=case.grade),
            errors={"state": _("危房未改造")},
        )
    errors = check_date(closed_on, "closed_on", _("销号日期"))
    basis = _close_basis(case)
    if not errors and basis is not None and closed_on < basis[1]:
        errors["closed_on"] = _("销号日期不能早于{what}（{date}）").format(what=basis[0], date=basis[1].isoformat())
    if errors:
        raise invalid(errors)
    missing = missing_signoffs(case)
    if missing:
        raise ConflictError(
            _("四清一责任签字未完成，不能销号。尚缺：{missing}").format(missing="、".join(missing)),
            errors={"signoffs": _("尚缺{count}项签字").format(count=len(missing))},
        )
    outcome = {
        CaseState.APPRAISED: CaseOutcome.SAFE,
        CaseState.ACCEPTED: CaseOutcome.RENOVATED,
        CaseState.SECURED: CaseOutcome.SECURED,
    }[case.state]
    before = {"state": case.state}
    case.state, case.outcome, case.closed_on, case.closed_by = CaseState.CLOSED, outcome, closed_on, actor
    return record(
        actor=actor,
        case=case,
        action=Action.CASE_CLOSED,
        before=before,
        after={"state": case.state, "outcome": outcome, "closed_on": closed_on},
        fields=["state", "outcome", "closed_on", "closed_by"],
    )
