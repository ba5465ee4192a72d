"""Suspected dangers (P8), their assignment to trained appraisers (P17), appraisals and their review.

Every function is one business action: authority → validate → lock → write → audit → on_commit (STYLE.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.accounts.permissions import Role, has_action, require_action
from anju.accounts.training import require_trained
from anju.audit.actions import Action
from anju.audit.services import diff, event_record
from anju.cases.services.cases import case_on_appraisal
from anju.core.errors import ActionNotAllowed, ConflictError, DomainError, ScopeError
from anju.core.scope import in_scope
from anju.policy.services import alerts_refresh_on_commit
from anju.registry.models import Grade, GradeSource, House
from anju.registry.services import house_grade

from .. import grading
from ..models import (
    Appraisal,
    AppraisalComponent,
    AppraisalRequest,
    CheckRecord,
    ComponentSpec,
    DisasterPrevention,
    RequestSource,
    RequestStatus,
)

OPEN_STATUSES = (RequestStatus.OPEN, RequestStatus.ASSIGNED)
APPRAISAL_WORK = gettext_lazy("房屋安全性鉴定")
COMPONENT_FIELDS = ["name", "desc_a", "desc_b", "desc_c", "desc_d", "is_active", "sort_order"]


def due_date(reported_on: dt.date) -> dt.date:
    """P8: a suspected dangerous house is appraised within ANJU_APPRAISAL_DUE_DAYS (default 15) of its report."""
    return reported_on + dt.timedelta(days=settings.ANJU_APPRAISAL_DUE_DAYS)


def county_code(code: str) -> str:
    return code[:6] + "000000"


def _require_in_scope(actor: Any, code: str, field: str | None = None) -> None:
    if not in_scope(code, actor.scope_prefix):
        message = _("不在您的管辖范围内")
        raise ScopeError(message, errors={field: message} if field else None)


def _is_admin(user: Any) -> bool:
    return Role.ADMIN in (user.roles or [])


def _person(user: Any) -> str:
    return user.get_full_name() if getattr(user, "pk", None) else ""


def _open_request_for(house: House) -> AppraisalRequest | None:
    return (
        AppraisalRequest.objects.select_for_update(of=("self",))
        .filter(house=house, status__in=OPEN_STATUSES)
        .select_related("appraiser")
        .first()
    )


def _already_open(existing: AppraisalRequest) -> ConflictError:
    """The one-open-request-per-house constraint, explained before the database refuses it."""
    message = _("该房屋已有未完成的鉴定申请（{date}上报，{status}，鉴定期限{due}），无需重复上报").format(
        date=existing.reported_on.isoformat(),
        status=existing.get_status_display(),
        due=existing.due_on.isoformat(),
    )
    return ConflictError(message, errors={"house": message})


def _open(
    *,
    actor: Any,
    house: House,
    description: str,
    reported_on: dt.date,
    source: str,
    check: CheckRecord | None,
) -> AppraisalRequest:
    description = (description or "").strip()
    errors = {}
    if not description:
        errors["description"] = _("请描述疑似危险情况")
    elif len(description) > 1000:
        errors["description"] = _("疑似危险情况不能超过1000字")
    if reported_on > dt.date.today():
        errors["reported_on"] = _("上报日期不能晚于今天")
    if source not in RequestSource.values:
        errors["source"] = _("来源无效")
    if errors:
        raise DomainError(_("输入有误，请检查标出的字段"), errors=errors)
    House.objects.select_for_update().filter(pk=house.pk).first()  # serialises two reports of one house
    existing = _open_request_for(house)
    if existing is not None:
        raise _already_open(existing)
    request = AppraisalRequest.objects.create(
        house=house,
        division_id=house.division_id,
        source=source,
        check_record=check,
        reported_on=reported_on,
        reported_by=actor,
        description=description,
        due_on=due_date(reported_on),
    )
    event_record(
        actor=actor,
        action=Action.REQUEST_OPENED,
        obj=request,
        after={
            "house": house.pk,
            "source": source,
            "check_record": check.pk if check else None,
            "reported_on": reported_on,
            "due_on": request.due_on,
            "description": description,
        },
    )
    alerts_refresh_on_commit(household_ids=[house.household_id])
    return request


@transaction.atomic(durable=True)
def request_open(
    *,
    actor: Any,
    house: House,
    description: str,
    reported_on: dt.date | None = None,
    source: str = RequestSource.REPORT,
) -> AppraisalRequest:
    """P8: town or village staff report a suspected dangerous house at once; the county must have it appraised
    by `due_on` (reported_on + ANJU_APPRAISAL_DUE_DAYS). One open request per house."""
    require_action(actor, "inspections.report")
    _require_in_scope(actor, house.division_id, "house")
    return _open(
        actor=actor,
        house=house,
        description=description,
        reported_on=reported_on or dt.date.today(),
        source=source,
        check=None,
    )


@transaction.atomic
def request_open_from_check(*, actor: Any, check: CheckRecord, house: House, description: str) -> AppraisalRequest:
    """P8: a check with the verdict "suspected" opens a request for that house, dated the day of the check.

    Called by the check service inside its own transaction. When the house already has an open request the
    suspicion is on record: that request is returned unchanged instead of refusing the check.
    """
    require_action(actor, "inspections.check")
    _require_in_scope(actor, house.division_id, "house")
    if house.household_id != check.household_id:
        raise DomainError(_("该房屋不属于被核查的农户"), errors={"house": _("该房屋不属于被核查的农户")})
    existing = _open_request_for(house)
    if existing is not None:
        return existing
    return _open(
        actor=actor,
        house=house,
        description=description or _("核查发现疑似危房"),
        reported_on=min(check.checked_on, dt.date.today()),
        source=RequestSource.CHECK,
        check=check,
    )


@transaction.atomic
def request_open_or_join(
    *,
    actor: Any,
    house: House,
    description: str,
    reported_on: dt.date | None = None,
    source: str = RequestSource.REPORT,
) -> AppraisalRequest:
    """P1, P8, P23: a ledger case (逐户鉴定) or a damage report has its house appraised. The caller's service
    holds the authority (`cases.open`, `disasters.report`); a request already open for the house is joined, not
    doubled."""
    House.objects.select_for_update().filter(pk=house.pk).first()
    existing = _open_request_for(house)
    if existing is not None:
        return existing
    return _open(
        actor=actor,
        house=house,
        description=description,
        reported_on=reported_on or dt.date.today(),
        source=source,
        check=None,
    )


def appraiser_refusal(*, appraiser: Any, house_code: str, on: dt.date) -> DomainError | None:
    """Why `appraiser` may not appraise a house of `house_code` on `on`, or None (P17 and the county's scope)."""
    if appraiser is None or not getattr(appraiser, "pk", None):
        return DomainError(_("请选择鉴定人员"), errors={"appraiser": _("请选择鉴定人员")})
    if not appraiser.is_active or Role.APPRAISER not in (appraiser.roles or []):
        message = _("{name}不是鉴定人员，不能指派鉴定任务").format(name=_person(appraiser))
        return DomainError(message, errors={"appraiser": message})
    county = county_code(house_code)
    if not appraiser.division_id or not in_scope(county, appraiser.scope_prefix):
        message = _("{name}不属于该房屋所在县（市、区）的鉴定人员").format(name=_person(appraiser))
        return DomainError(message, errors={"appraiser": message})
    try:
        require_trained(appraiser, on=on, work=str(APPRAISAL_WORK), field="appraiser")
    except DomainError as exc:
        return exc
    return None


@transaction.atomic(durable=True)
def request_assign(
    *, actor: Any, request: AppraisalRequest, appraiser: Any, assigned_on: dt.date | None = None
) -> AppraisalRequest:
    """P8, P17: the county assigns an appraiser of its own county who is trained this year (reassigning is allowed
    until the appraisal is recorded)."""
    require_action(actor, "inspections.assign")
    _require_in_scope(actor, request.division_id)
    assigned_on = assigned_on or dt.date.today()
    if assigned_on > dt.date.today():
        raise DomainError(_("指派日期不能晚于今天"), errors={"assigned_on": _("指派日期不能晚于今天")})
    if assigned_on < request.reported_on:
        raise DomainError(_("指派日期不能早于上报日期"), errors={"assigned_on": _("指派日期不能早于上报日期")})
    refusal = appraiser_refusal(appraiser=appraiser, house_code=request.division_id, on=assigned_on)
    if refusal is not None:
        raise refusal
    request = AppraisalRequest.objects.select_for_update(of=("self",)).select_related("house").get(pk=request.pk)
    if request.status not in OPEN_STATUSES:
        raise ConflictError(
            _("该鉴定申请{status}，不能再指派").format(status=request.get_status_display()),
            errors={"status": request.get_status_display()},
        )
    before = {"status": request.status, "appraiser": request.appraiser_id, "assigned_on": request.assigned_on}
    request.status, request.appraiser, request.assigned_on = RequestStatus.ASSIGNED, appraiser, assigned_on
    request.assigned_by = actor
    request.save(update_fields=["status", "appraiser", "assigned_on", "assigned_by"])
    old, new = diff(before, {"status": request.status, "appraiser": appraiser.pk, "assigned_on": assigned_on})
    event_record(
        actor=actor,
        action=Action.REQUEST_ASSIGNED,
        obj=request,
        before=old,
        after=new,
        extra={"appraiser_name": _person(appraiser)},
    )
    alerts_refresh_on_commit(household_ids=[request.house.household_id])
    return request


@transaction.atomic(durable=True)
def request_cancel(*, actor: Any, request: AppraisalRequest, reason: str) -> AppraisalRequest:
    """The county withdraws a request (duplicate, house demolished …) with a written reason."""
    require_action(actor, "inspections.assign")
    _require_in_scope(actor, request.division_id)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写撤销理由"), errors={"reason": _("请填写撤销理由")})
    request = AppraisalRequest.objects.select_for_update(of=("self",)).select_related("house").get(pk=request.pk)
    if request.status not in OPEN_STATUSES:
        raise ConflictError(
            _("该鉴定申请{status}，不能撤销").format(status=request.get_status_display()),
            errors={"status": request.get_status_display()},
        )
    before = request.status
    request.status = RequestStatus.CANCELLED
    request.save(update_fields=["status"])
    event_record(
        actor=actor,
        action=Action.REQUEST_CANCELLED,
        obj=request,
        before={"status": before},
        after={"status": request.status},
        extra={"reason": reason},
    )
    alerts_refresh_on_commit(household_ids=[request.house.household_id])
    return request


def component_specs(structure: str) -> list[ComponentSpec]:
    """The active components of the grading engine for a structure type, in form order (a small table)."""
    return grading.specs_for(structure, ComponentSpec.objects.filter(is_active=True).order_by("sort_order", "code"))


def _component_errors(specs: list[ComponentSpec], components: Mapping[str, str]) -> dict[str, str]:
    errors = {}
    codes = {s.code for s in specs}
    for spec in specs:
        value = components.get(spec.code)
        if not value:
            errors[f"component_{spec.code}"] = _("请评定「{name}」").format(name=spec.name)
        elif value not in ("a", "b", "c", "d"):
            errors[f"component_{spec.code}"] = _("「{name}」的等级应为a、b、c或d").format(name=spec.name)
    for code in components:
        if code not in codes:
            errors[f"component_{code}"] = _("构件「{code}」不在该结构的构件清单中").format(code=code)
    return errors


def grade_preview(*, structure: str, site_dangerous: bool, components: Mapping[str, str]) -> grading.GradeResult | None:
    """The grade the engine gives for a partly filled form (None until every component is graded)."""
    specs = component_specs(structure)
    graded = {code: value for code, value in components.items() if value}
    if _component_errors(specs, graded):
        return None
    return grading.grade_house(site_dangerous=site_dangerous, components=graded, specs=specs)


def _appraisal_request(*, actor: Any, house: House, request: AppraisalRequest | None) -> AppraisalRequest | None:
    """The request this appraisal answers: the one given, else the house's open one (so it cannot stay overdue)."""
    if request is not None:
        request = (
            AppraisalRequest.objects.select_for_update(of=("self",)).select_related("appraiser").get(pk=request.pk)
        )
        if request.house_id != house.pk:
            raise DomainError(_("鉴定申请与房屋不符"), errors={"request": _("该鉴定申请不是这栋房屋的")})
        if request.status not in OPEN_STATUSES:
            raise ConflictError(
                _("该鉴定申请{status}，不能再录入鉴定").format(status=request.get_status_display()),
                errors={"request": request.get_status_display()},
            )
    else:
        request = _open_request_for(house)
    if request is not None and request.appraiser_id != actor.pk and not _is_admin(actor):
        if request.appraiser_id:
            message = _("该鉴定任务已指派给{name}，只有被指派的鉴定人员才能录入").format(
                name=_person(request.appraiser)
            )
        else:
            message = _("该鉴定申请尚未指派鉴定人员，请先由县级指派")
        raise ActionNotAllowed(message, errors={"request": message})
    return request


@transaction.atomic(durable=True)
def appraisal_record(
    *,
    actor: Any,
    house: House,
    appraised_on: dt.date,
    disaster_prevention: str,
    components: Mapping[str, str],
    request: AppraisalRequest | None = None,
    site_dangerous: bool = False,
    site_note: str = "",
    notes: Mapping[str, str] | None = None,
    final_grade: str | None = None,
    override_reason: str = "",
    co_appraisers: str = "",
    conclusion: str = "",
    photos: Iterable[Any] = (),
) -> Appraisal:
    """Record an appraisal (《农村住房安全性鉴定技术导则》): the engine computes the grade; a different final grade
    needs a written reason and is flagged for review; the result enters the house's grade history (P8, P17)."""
    require_action(actor, "inspections.appraise")
    _require_in_scope(actor, house.division_id, "house")
    if appraised_on is None:
        raise DomainError(_("请填写鉴定日期"), errors={"appraised_on": _("请填写鉴定日期")})
    if appraised_on > dt.date.today():
        raise DomainError(_("鉴定日期不能晚于今天"), errors={"appraised_on": _("鉴定日期不能晚于今天")})
    require_trained(actor, on=appraised_on, work=str(APPRAISAL_WORK), field="appraised_on")
    house = House.objects.select_for_update().get(pk=house.pk)
    request = _appraisal_request(actor=actor, house=house, request=request)

    notes = {code: (text or "").strip() for code, text in (notes or {}).items()}
    components = {code: (value or "").strip().lower() for code, value in components.items()}
    specs = component_specs(house.structure)
    errors = _component_errors(specs, components)
    if not specs:
        errors["components"] = _("「{structure}」尚未配置鉴定构件，请联系市级管理员").format(
            structure=house.get_structure_display()
        )
    if disaster_prevention not in DisasterPrevention.values:
        errors["disaster_prevention"] = _("请选择防灾措施鉴定结论")
    if request is not None and appraised_on < request.reported_on:
        errors["appraised_on"] = _("鉴定日期不能早于上报日期（{date}）").format(date=request.reported_on.isoformat())
    for code in notes:
        if len(notes[code]) > 500:
            errors[f"note_{code}"] = _("危险点说明不能超过500字")
    if errors:
        raise DomainError(_("鉴定内容不完整或有误，请检查标出的项目"), errors=errors)

    result = grading.grade_house(site_dangerous=bool(site_dangerous), components=components, specs=specs)
    final_grade = (final_grade or result.grade).strip().upper()
    override_reason = (override_reason or "").strip()
    if final_grade not in (Grade.A, Grade.B, Grade.C, Grade.D):
        raise DomainError(_("鉴定等级应为A、B、C或D"), errors={"final_grade": _("鉴定等级应为A、B、C或D")})
    if final_grade != result.grade and not override_reason:
        message = _("鉴定等级与按构件计算的等级（{grade}级）不同，必须填写调整理由").format(grade=result.grade)
        raise DomainError(message, errors={"override_reason": message})
    if final_grade == result.grade:
        override_reason = ""

    appraisal = Appraisal.objects.create(
        house=house,
        division_id=house.division_id,
        request=request,
        appraised_on=appraised_on,
        lead_appraiser=actor,
        co_appraisers=(co_appraisers or "").strip()[:200],
        structure=house.structure,
        site_dangerous=result.site_dangerous,
        site_note=(site_note or "").strip()[:500],
        disaster_prevention=disaster_prevention,
        computed_grade=result.grade,
        final_grade=final_grade,
        override_reason=override_reason[:1000],
        flagged_for_review=final_grade != result.grade,
        danger_points=result.danger_points,
        conclusion=(conclusion or "").strip()[:1000],
        created_by=actor,
    )
    AppraisalComponent.objects.bulk_create(
        AppraisalComponent(appraisal=appraisal, spec=spec, grade=components[spec.code], note=notes.get(spec.code, ""))
        for spec in specs
    )
    if request is not None:
        request.status = RequestStatus.DONE
        request.save(update_fields=["status"])
    appraisers = "、".join(filter(None, [_person(actor), appraisal.co_appraisers]))
    house_grade(
        actor=actor,
        house=house,
        grade=final_grade,
        graded_on=appraised_on,
        source=GradeSource.APPRAISAL,
        appraiser=appraisers[:64],
        note=_("鉴定记录#{id}").format(id=appraisal.pk),
    )
    event_record(
        actor=actor,
        action=Action.APPRAISAL_RECORDED,
        obj=appraisal,
        after={
            "house": house.pk,
            "request": request.pk if request else None,
            "appraised_on": appraised_on,
            "site_dangerous": appraisal.site_dangerous,
            "disaster_prevention": disaster_prevention,
            "components": {spec.code: components[spec.code] for spec in specs},
            "computed_grade": result.grade,
            "final_grade": final_grade,
            "override_reason": override_reason,
            "flagged_for_review": appraisal.flagged_for_review,
        },
    )
    for upload in photos:
        _photo_add(actor=actor, appraisal=appraisal, upload=upload)
    case_on_appraisal(actor=actor, appraisal=appraisal)
    alerts_refresh_on_commit(household_ids=[house.household_id])
    return appraisal


def _photo_add(*, actor: Any, appraisal: Appraisal, upload: Any) -> None:
    """Photos go through the one photo service (SHA-256, EXIF time and GPS) shared with check records."""
    from . import photos

    photos.photo_add(actor=actor, appraisal=appraisal, house=appraisal.house, file=upload)


@transaction.atomic(durable=True)
def appraisal_review(*, actor: Any, appraisal: Appraisal, accept: bool, comment: str) -> Appraisal:
    """The county reviews an appraiser's override of the computed grade: accepted or not, the flag is cleared and
    the decision audited (the grade history keeps the appraiser's result; a disagreement calls for a new
    appraisal)."""
    require_action(actor, "inspections.review")
    _require_in_scope(actor, appraisal.division_id)
    comment = (comment or "").strip()
    if not accept and not comment:
        raise DomainError(_("不同意调整等级时请填写复核意见"), errors={"comment": _("请填写复核意见")})
    if len(comment) > 1000:
        raise DomainError(_("复核意见不能超过1000字"), errors={"comment": _("复核意见不能超过1000字")})
    appraisal = Appraisal.objects.select_for_update(of=("self",)).select_related("house").get(pk=appraisal.pk)
    if not appraisal.flagged_for_review:
        raise ConflictError(_("该鉴定没有待复核的等级调整"), errors={"appraisal": _("没有待复核的等级调整")})
    if appraisal.lead_appraiser_id == actor.pk:
        raise ActionNotAllowed(_("不能复核自己录入的鉴定"), errors={"appraisal": _("不能复核自己录入的鉴定")})
    appraisal.flagged_for_review = False
    appraisal.reviewed_by, appraisal.reviewed_at = actor, timezone.now()
    appraisal.save(update_fields=["flagged_for_review", "reviewed_by", "reviewed_at"])
    event_record(
        actor=actor,
        action=Action.APPRAISAL_REVIEWED,
        obj=appraisal,
        before={"flagged_for_review": True},
        after={"flagged_for_review": False, "accepted": bool(accept)},
        extra={"comment": comment, "computed_grade": appraisal.computed_grade, "final_grade": appraisal.final_grade},
    )
    alerts_refresh_on_commit(household_ids=[appraisal.house.household_id])
    return appraisal


def may_configure_components(user: Any) -> bool:
    """The component lists are one configuration for the whole city: changed by its managers at city level."""
    return has_action(user, "inspections.manage") and bool(user.division_id) and len(user.scope_prefix) <= 4


@transaction.atomic(durable=True)
def component_update(*, actor: Any, spec: ComponentSpec, **changes: Any) -> ComponentSpec:
    """Edit one component of the grading engine (descriptions, order, active flag). Confirming a local default
    clears its "本地默认，待确认" mark."""
    require_action(actor, "inspections.manage")
    if not may_configure_components(actor):
        raise PermissionDenied(_("鉴定构件清单由市级统一配置"))
    confirm = bool(changes.pop("confirm", False))
    unknown = set(changes) - set(COMPONENT_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段"), errors={k: _("不能在此修改") for k in unknown})
    spec = ComponentSpec.objects.select_for_update().get(pk=spec.pk)
    fields = [*COMPONENT_FIELDS, "is_local_default"]
    before = {f: getattr(spec, f) for f in fields}
    errors = {}
    for field, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
            if not value:
                errors[field] = _("不能为空")
        setattr(spec, field, value)
    if errors:
        raise DomainError(_("输入有误，请检查标出的字段"), errors=errors)
    if confirm:
        spec.is_local_default = False
    old, new = diff(before, {f: getattr(spec, f) for f in fields})
    if new:
        spec.save()
        event_record(
            actor=actor,
            action=Action.COMPONENT_CHANGED,
            obj=spec,
            division_code=actor.division_id,
            before=old,
            after=new,
        )
    return spec
