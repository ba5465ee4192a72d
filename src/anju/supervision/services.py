"""Every write of supervision: P16 filing rounds and filings, P3 visits, findings and their rectification, P24
interviews and accountability, and the assessment weights.

Who does what: the city's supervision teams (`supervision.inspect`: admin, city supervisor) set rounds, receive
or return plans, record visits and findings, accept or return rectifications, record interviews and set the
weights; the county (`supervision.rectify`: admin, county manager) files its plan and rectifies its findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.checks import check_date, invalid, require, text
from anju.core.errors import ConflictError, ScopeError
from anju.core.scope import code_prefix, in_scope
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code
from anju.policy.services import alerts_refresh_on_commit

from .models import (
    AssessmentWeights,
    FilingStatus,
    Finding,
    FindingState,
    Measure,
    MeasureKind,
    PlanFiling,
    PlanRound,
    Rectification,
    Severity,
    Verdict,
    Visit,
    VisitLevel,
    VisitMode,
    rectify_due,
)

#: Plan documents and rectification evidence: documents, scans and photos, at most 20 MB.
FILE_TYPES = (".pdf", ".doc", ".docx", ".wps", ".ofd", ".jpg", ".jpeg", ".png")
MAX_FILE_BYTES = 20 * 1024 * 1024
WEIGHT_FIELDS = ("check_coverage", "cases_on_time", "complaints_on_time", "findings_on_time", "training_coverage")


def _file(file: Any, field: str, label: str, errors: dict[str, str], *, required: bool) -> None:
    if file is None:
        if required:
            errors[field] = _("请上传{label}").format(label=label)
    elif not str(getattr(file, "name", "")).lower().endswith(FILE_TYPES):
        errors[field] = _("{label}应为PDF、Word、WPS、OFD或图片").format(label=label)
    elif not (getattr(file, "size", 0) or 0) or file.size > MAX_FILE_BYTES:
        errors[field] = _("{label}不能为空，也不能超过20MB").format(label=label)


def _county(code: str, field: str = "county") -> Division:
    division = Division.objects.filter(code=code or "").first()
    if division is None or division.level != Level.COUNTY:
        raise invalid({field: _("请选择县（市、区）")})
    return division


def _year(value: Any, errors: dict[str, str]) -> None:
    this_year = dt.date.today().year
    if not isinstance(value, int) or not 2000 <= value <= this_year + 1:
        errors["year"] = _("年度应在2000至{high}之间").format(high=this_year + 1)


# -- P16 implementation plans --------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def round_create(*, actor: Any, year: int, title: str, deadline: dt.date | None, note: str = "") -> PlanRound:
    """P16: the city opens a filing round with its own deadline (the 2021 dates were one-off, so it is data)."""
    require_action(actor, "supervision.inspect")
    if not actor.division_id or actor.division.level != Level.CITY:
        raise ScopeError(_("备案批次由市级设置"))
    title, errors = text(title, 200), {}
    _year(year, errors)
    if not title:
        errors["title"] = _("请填写名称")
    if deadline is None:
        errors["deadline"] = _("请填写备案截止日期")
    if errors:
        raise invalid(errors)
    if PlanRound.objects.filter(division_id=actor.division_id, year=year, title=title).exists():
        raise ConflictError(_("本年度已有同名的备案批次"), errors={"title": _("本年度已有同名的备案批次")})
    plan_round = PlanRound.objects.create(
        division_id=actor.division_id, year=year, title=title, deadline=deadline, note=text(note, 1000),
        created_by=actor,
    )  # fmt: skip
    event_record(
        actor=actor,
        action=Action.PLAN_ROUND_CREATED,
        obj=plan_round,
        after={"year": year, "title": title, "deadline": deadline, "note": plan_round.note},
    )
    return plan_round


@transaction.atomic(durable=True)
def round_update(*, actor: Any, plan_round: PlanRound, **changes: Any) -> PlanRound:
    """P16: the city moves a round's deadline or rewords it (the P16 alert follows the new deadline)."""
    require(actor, "supervision.inspect", plan_round.division_id)
    plan_round = PlanRound.objects.select_for_update().get(pk=plan_round.pk)
    unknown = set(changes) - {"title", "deadline", "note"}
    if unknown:
        raise invalid({k: _("不能在此修改") for k in unknown})
    before = {k: getattr(plan_round, k) for k in changes}
    if "title" in changes:
        changes["title"] = text(changes["title"], 200)
        if not changes["title"]:
            raise invalid({"title": _("请填写名称")})
    if "deadline" in changes and changes["deadline"] is None:
        raise invalid({"deadline": _("请填写备案截止日期")})
    if "note" in changes:
        changes["note"] = text(changes["note"], 1000)
    for field, value in changes.items():
        setattr(plan_round, field, value)
    plan_round.save(update_fields=list(changes))
    event_record(actor=actor, action=Action.PLAN_ROUND_CHANGED, obj=plan_round, before=before, after=changes)
    return plan_round


@transaction.atomic(durable=True)
def plan_submit(
    *,
    actor: Any,
    plan_round: PlanRound,
    county_code: str,
    title: str,
    filed_on: dt.date | None,
    document: Any,
) -> PlanFiling:
    """P16: the county files its implementation plan for a round; a plan the city returned is filed again on the
    same row. A plan already filed or received cannot be replaced silently."""
    require(actor, "supervision.rectify", county_code, "county")
    _county(county_code)
    if not in_scope(county_code, code_prefix(plan_round.division_id, level_of_code(plan_round.division_id))):
        raise invalid({"county": _("该县不在本批次的范围内")})
    title, errors = text(title, 200), {}
    if not title:
        errors["title"] = _("请填写方案名称")
    errors.update(check_date(filed_on, "filed_on", _("报送日期")))
    _file(document, "document", _("方案文件"), errors, required=True)
    if errors:
        raise invalid(errors)
    Division.objects.select_for_update().filter(code=county_code).first()  # two filings of one county take turns
    filing = PlanFiling.objects.filter(round=plan_round, division_id=county_code).first()
    before: dict[str, Any] = {}
    if filing is not None:
        if filing.status != FilingStatus.RETURNED:
            message = _("该县本批次已报送实施方案（{status}）").format(status=filing.get_status_display())
            raise ConflictError(message, errors={"county": message})
        before = {"status": filing.status, "title": filing.title, "filed_on": filing.filed_on}
    else:
        filing = PlanFiling(round=plan_round, division_id=county_code)
    filing.title, filing.filed_on, filing.document = title, filed_on, document
    filing.filed_by, filing.filed_by_name = actor, actor.get_full_name() or actor.username
    filing.status, filing.review_note, filing.reviewed_on, filing.reviewed_by = FilingStatus.FILED, "", None, None
    filing.save()
    event_record(
        actor=actor,
        action=Action.PLAN_SUBMITTED,
        obj=filing,
        before=before,
        after={"round": plan_round.pk, "title": title, "filed_on": filed_on, "document": filing.document.name},
    )
    return filing


@transaction.atomic(durable=True)
def plan_review(*, actor: Any, filing: PlanFiling, status: str, note: str = "") -> PlanFiling:
    """P16: the city receives the plan (备案) or returns it with a note saying what to change."""
    require(actor, "supervision.inspect", filing.division_id)
    filing = PlanFiling.objects.select_for_update().get(pk=filing.pk)
    note = text(note, 1000)
    if status not in (FilingStatus.RECEIVED, FilingStatus.RETURNED):
        raise invalid({"status": _("请选择备案或退回")})
    if status == FilingStatus.RETURNED and not note:
        raise invalid({"note": _("退回时请写明修改意见")})
    if filing.status != FilingStatus.FILED:
        message = _("该方案当前为「{status}」，不能再处理").format(status=filing.get_status_display())
        raise ConflictError(message, errors={"status": message})
    before = {"status": filing.status}
    filing.status, filing.review_note, filing.reviewed_on, filing.reviewed_by = status, note, dt.date.today(), actor
    filing.save(update_fields=["status", "review_note", "reviewed_on", "reviewed_by", "updated_at"])
    event_record(
        actor=actor, action=Action.PLAN_REVIEWED, obj=filing, before=before, after={"status": status, "note": note}
    )
    return filing


# -- P3 / P24 visits -----------------------------------------------------------------------------------------------


def _visit_errors(
    county: Division, level: str, mode: str, starts_on: Any, ends_on: Any, places: list[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if level not in VisitLevel.values:
        errors["level"] = _("请选择督导层级")
    if mode not in VisitMode.values:
        errors["mode"] = _("请选择督导方式")
    errors.update(check_date(starts_on, "starts_on", _("开始日期")))
    if ends_on is None:
        errors["ends_on"] = _("请填写结束日期")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("结束日期不能早于开始日期")
    county_prefix = county.code[:6]
    known = set(Division.objects.filter(code__in=places).values_list("code", flat=True))
    wrong = [p for p in places if p not in known or not p.startswith(county_prefix) or p == county.code]
    if wrong:
        errors["places"] = _("以下区划不是该县的乡镇或村：{codes}").format(codes="、".join(wrong))
    return errors


def _members(members: Iterable[User]) -> list[User]:
    return list({u.pk: u for u in members}.values())


@transaction.atomic(durable=True)
def visit_record(
    *,
    actor: Any,
    county_code: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    level: str = VisitLevel.CITY,
    mode: str = VisitMode.ANNOUNCED,
    places: Iterable[str] = (),
    members: Iterable[User] = (),
    member_names: str = "",
    scope_note: str = "",
) -> Visit:
    """P3, P24: a team's visit to a county (regular or 暗访; city, or a provincial spot check). Its end date
    starts the one-week rectification of every finding (`rectify_due`)."""
    require(actor, "supervision.inspect", county_code, "county")
    county = _county(county_code)
    places = sorted({str(p).strip() for p in places if str(p).strip()})
    errors = _visit_errors(county, level, mode, starts_on, ends_on, places)
    team = _members(members)
    if not team and not text(member_names, 500):
        errors["members"] = _("请填写督导组成员")
    if errors:
        raise invalid(errors)
    visit = Visit.objects.create(
        division_id=county.code, level=level, mode=mode, starts_on=starts_on, ends_on=ends_on, places=places,
        member_names=text(member_names, 500), scope_note=text(scope_note, 2000), created_by=actor,
    )  # fmt: skip
    visit.members.set(team)
    event_record(
        actor=actor,
        action=Action.VISIT_RECORDED,
        obj=visit,
        after={
            "level": level, "mode": mode, "starts_on": starts_on, "ends_on": ends_on, "places": places,
            "members": sorted(u.pk for u in team), "member_names": visit.member_names, "scope_note": visit.scope_note,
        },
    )  # fmt: skip
    return visit


@transaction.atomic(durable=True)
def visit_update(*, actor: Any, visit: Visit, **changes: Any) -> Visit:
    """P3: correct a visit. A new end date moves the deadline of its findings not yet rectified."""
    require(actor, "supervision.inspect", visit.division_id)
    visit = Visit.objects.select_for_update().select_related("division").get(pk=visit.pk)
    allowed = {"level", "mode", "starts_on", "ends_on", "places", "member_names", "scope_note", "members"}
    unknown = set(changes) - allowed
    if unknown:
        raise invalid({k: _("不能在此修改") for k in unknown})
    members = changes.pop("members", None)
    if "places" in changes:
        changes["places"] = sorted({str(p).strip() for p in changes["places"] if str(p).strip()})
    for key, limit in (("member_names", 500), ("scope_note", 2000)):
        if key in changes:
            changes[key] = text(changes[key], limit)
    merged = {k: changes.get(k, getattr(visit, k)) for k in ("level", "mode", "starts_on", "ends_on", "places")}
    errors = _visit_errors(visit.division, **merged)
    if errors:
        raise invalid(errors)
    before = {k: getattr(visit, k) for k in changes}
    after = dict(changes)
    for field, value in changes.items():
        setattr(visit, field, value)
    visit.save()
    if members is not None:
        team = _members(members)
        before["members"] = sorted(visit.members.values_list("pk", flat=True))
        visit.members.set(team)
        after["members"] = sorted(u.pk for u in team)
    moved = 0
    if "ends_on" in changes:
        moved = (
            Finding.objects.filter(visit=visit)
            .exclude(state=FindingState.ACCEPTED)
            .update(due_on=rectify_due(visit.ends_on))
        )
    event_record(
        actor=actor, action=Action.VISIT_CHANGED, obj=visit, before=before, after=after, extra={"findings_moved": moved}
    )
    households = Finding.objects.filter(visit=visit, household__isnull=False).values_list("household_id", flat=True)
    alerts_refresh_on_commit(household_ids=list(households))
    return visit


# -- P3 findings and rectification --------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def finding_record(
    *,
    actor: Any,
    visit: Visit,
    division_code: str,
    description: str,
    severity: str = Severity.GENERAL,
    household: Any = None,
    case: Any = None,
    fed_back_on: dt.date | None = None,
) -> Finding:
    """P3: a problem fed back to the county at once, due one week after the visit ends. It concerns one division
    of the visited county, and may name a household or a ledger case there."""
    require(actor, "supervision.inspect", visit.division_id)
    if case is not None and household is None:
        household = case.household
    code = (division_code or "").strip() or (household.division_id if household is not None else "")
    description, errors = text(description, 2000), {}
    fed_back_on = fed_back_on or dt.date.today()
    division = Division.objects.filter(code=code).first()
    if division is None or not code.startswith(visit.division_id[:6]):
        errors["division_code"] = _("请选择被督导县内的区划")
    else:
        require(actor, "supervision.inspect", code, "division_code")
        prefix = code_prefix(code, division.level)
        if household is not None and not household.division_id.startswith(prefix):
            errors["household"] = _("该农户不在所选区划内")
        if case is not None and case.household_id != getattr(household, "pk", None):
            errors["case"] = _("该台账不是所选农户的台账")
    if not description:
        errors["description"] = _("请填写问题描述")
    if severity not in Severity.values:
        errors["severity"] = _("请选择严重程度")
    errors.update(check_date(fed_back_on, "fed_back_on", _("反馈日期")))
    if "fed_back_on" not in errors and fed_back_on < visit.starts_on:
        errors["fed_back_on"] = _("反馈日期不能早于督导开始日期")
    if errors:
        raise invalid(errors)
    finding = Finding.objects.create(
        division_id=code, visit=visit, household=household, case=case, description=description, severity=severity,
        fed_back_on=fed_back_on, due_on=rectify_due(visit.ends_on), created_by=actor,
    )  # fmt: skip
    event_record(
        actor=actor,
        action=Action.FINDING_RECORDED,
        obj=finding,
        after={
            "visit": visit.pk, "division": code, "household": getattr(household, "pk", None),
            "case": getattr(case, "pk", None), "description": description, "severity": severity,
            "fed_back_on": fed_back_on, "due_on": finding.due_on,
        },
    )  # fmt: skip
    alerts_refresh_on_commit(household_ids=[finding.household_id])
    return finding


def finding_open_case(*, actor: Any, finding: Finding, description: str = "", house: Any = None) -> Any:
    """P3, P19: a finding about a dangerous house opens a ledger case (source 督导) through the ledger's own
    `case_open`, with all its guards; the finding then links to it.

    `case_open` runs in its own (durable) transaction, so this is two steps. The case carries the finding's number
    (`source_ref`): if linking failed after the case was opened, trying again links that case, not a second one.
    """
    from anju.cases.models import CaseSource
    from anju.cases.services.cases import case_open_for

    require(actor, "supervision.rectify", finding.division_id)
    require_action(actor, "cases.open")
    if finding.case_id:
        message = _("该问题已关联台账#{id}").format(id=finding.case_id)
        raise ConflictError(message, errors={"case": message})
    if finding.household_id is None:
        raise invalid({"household": _("请先关联农户，再登记台账")}, _("该问题未关联农户，不能登记台账"))
    ref = _("督导问题#{id}").format(id=finding.pk)
    case = case_open_for(
        actor=actor,
        household=finding.household,
        house=house,
        source=CaseSource.SUPERVISION,
        source_ref=ref,
        description=text(description, 1000) or finding.description[:1000],
    )
    return _link_case(actor=actor, finding=finding, case=case)


@transaction.atomic(durable=True)
def _link_case(*, actor: Any, finding: Finding, case: Any) -> Any:
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.case_id and finding.case_id != case.pk:
        message = _("该问题已关联台账#{id}").format(id=finding.case_id)
        raise ConflictError(message, errors={"case": message})
    finding.case = case
    finding.save(update_fields=["case", "updated_at"])
    event_record(actor=actor, action=Action.FINDING_CASE_OPENED, obj=finding, after={"case": case.pk})
    return case


@transaction.atomic(durable=True)
def rectification_submit(
    *, actor: Any, finding: Finding, done_on: dt.date | None, description: str, evidence: Any = None
) -> Rectification:
    """P3: the county reports what it did about a finding, with evidence (text, and a document or photo)."""
    require(actor, "supervision.rectify", finding.division_id)
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    description, errors = text(description, 2000), {}
    if not description:
        errors["description"] = _("请填写整改情况")
    errors.update(check_date(done_on, "done_on", _("整改完成日期")))
    if "done_on" not in errors and done_on < finding.fed_back_on:
        errors["done_on"] = _("整改完成日期不能早于问题反馈日期")
    _file(evidence, "evidence", _("佐证材料"), errors, required=False)
    if errors:
        raise invalid(errors)
    if finding.state not in (FindingState.OPEN, FindingState.RETURNED):
        message = _("该问题当前为「{state}」，不能再报送整改").format(state=finding.get_state_display())
        raise ConflictError(message, errors={"state": message})
    rectification = Rectification.objects.create(
        division_id=finding.division_id, finding=finding, done_on=done_on, description=description,
        evidence=evidence or "", submitted_by=actor,
    )  # fmt: skip
    before = {"state": finding.state}
    finding.state = FindingState.SUBMITTED
    finding.save(update_fields=["state", "updated_at"])
    event_record(
        actor=actor,
        action=Action.RECTIFICATION_SUBMITTED,
        obj=finding,
        before=before,
        after={
            "state": finding.state, "rectification": rectification.pk, "done_on": done_on,
            "description": description, "evidence": rectification.evidence.name or "",
        },
    )  # fmt: skip
    return rectification


@transaction.atomic(durable=True)
def rectification_review(*, actor: Any, rectification: Rectification, verdict: str, note: str = "") -> Finding:
    """P3: the team accepts the rectification (the finding is closed; on time if done by its deadline) or returns
    it with a note (the finding is open again, and still due on its deadline)."""
    require(actor, "supervision.inspect", rectification.division_id)
    finding = Finding.objects.select_for_update().get(pk=rectification.finding_id)
    rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
    note = text(note, 1000)
    if verdict not in (Verdict.ACCEPTED, Verdict.RETURNED):
        raise invalid({"verdict": _("请选择通过或退回")})
    if verdict == Verdict.RETURNED and not note:
        raise invalid({"note": _("退回时请写明意见")})
    if rectification.verdict or finding.state != FindingState.SUBMITTED:
        raise ConflictError(_("该整改已验收过"), errors={"verdict": _("该整改已验收过")})
    today = dt.date.today()
    rectification.verdict, rectification.review_note = verdict, note
    rectification.reviewed_on, rectification.reviewed_by = today, actor
    rectification.save(update_fields=["verdict", "review_note", "reviewed_on", "reviewed_by"])
    before = {"state": finding.state}
    if verdict == Verdict.ACCEPTED:
        finding.state, finding.rectified_on, finding.accepted_on = FindingState.ACCEPTED, rectification.done_on, today
    else:
        finding.state = FindingState.RETURNED
    finding.save(update_fields=["state", "rectified_on", "accepted_on", "updated_at"])
    event_record(
        actor=actor,
        action=Action.RECTIFICATION_REVIEWED,
        obj=finding,
        before=before,
        after={"state": finding.state, "rectification": rectification.pk, "verdict": verdict, "note": note},
    )
    alerts_refresh_on_commit(household_ids=[finding.household_id])
    return finding


# -- P24 interviews and accountability -----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def measure_record(
    *,
    actor: Any,
    county_code: str,
    kind: str,
    person: str,
    held_on: dt.date | None,
    reason: str,
    conducted_by: str,
    outcome: str = "",
    findings: Iterable[Finding] = (),
) -> Measure:
    """P24: an interview (约谈) or accountability (问责) of a county that failed, citing the findings behind it."""
    require(actor, "supervision.inspect", county_code, "county")
    _county(county_code)
    findings = list(findings)
    person, reason, conducted_by = text(person, 200), text(reason, 2000), text(conducted_by, 200)
    errors: dict[str, str] = {}
    if kind not in MeasureKind.values:
        errors["kind"] = _("请选择约谈或问责")
    if not person:
        errors["person"] = _("请填写对象")
    if not reason:
        errors["reason"] = _("请填写事由")
    if not conducted_by:
        errors["conducted_by"] = _("请填写实施单位或人员")
    errors.update(check_date(held_on, "held_on", _("日期")))
    if any(not f.division_id.startswith(county_code[:6]) for f in findings):
        errors["findings"] = _("所引问题须为该县的督导问题")
    if errors:
        raise invalid(errors)
    measure = Measure.objects.create(
        division_id=county_code, kind=kind, person=person, held_on=held_on, reason=reason,
        conducted_by=conducted_by, outcome=text(outcome, 2000), recorded_by=actor,
    )  # fmt: skip
    measure.findings.set(findings)
    event_record(
        actor=actor,
        action=Action.MEASURE_RECORDED,
        obj=measure,
        after={
            "kind": kind, "person": person, "held_on": held_on, "reason": reason, "conducted_by": conducted_by,
            "outcome": measure.outcome, "findings": sorted(f.pk for f in findings),
        },
    )  # fmt: skip
    return measure


# -- P24 assessment weights ----------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def weights_set(*, actor: Any, year: int, **weights: int) -> AssessmentWeights:
    """P24: the city sets the weight of each measure of a year's assessment (whole numbers, not all zero)."""
    require_action(actor, "supervision.inspect")
    if not actor.division_id or actor.division.level not in (Level.CITY, Level.PROVINCE):
        raise ScopeError(_("考核权重由市级设置"))
    errors: dict[str, str] = {}
    _year(year, errors)
    for field in WEIGHT_FIELDS:
        value = weights.get(field)
        if not isinstance(value, int) or not 0 <= value <= 100:
            errors[field] = _("权重应为0至100的整数")
    if set(weights) - set(WEIGHT_FIELDS):
        errors |= {k: _("未知的考核指标") for k in set(weights) - set(WEIGHT_FIELDS)}
    if not errors and not any(weights.values()):
        errors[WEIGHT_FIELDS[0]] = _("权重不能全为0")
    if errors:
        raise invalid(errors)
    row = AssessmentWeights.objects.select_for_update().filter(year=year).first()
    before = {f: getattr(row, f) for f in WEIGHT_FIELDS} if row else {}
    row = row or AssessmentWeights(year=year)
    for field in WEIGHT_FIELDS:
        setattr(row, field, weights[field])
    row.updated_by = actor
    row.save()
    event_record(
        actor=actor,
        action=Action.WEIGHTS_SET,
        obj=row,
        division_code=actor.division_id,
        before=before,
        after={"year": year, **{f: weights[f] for f in WEIGHT_FIELDS}},
    )
    return row
