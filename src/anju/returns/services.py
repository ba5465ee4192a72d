"""Writes of P10's tracking: start following a household (from a ledger case closed as 保障安全, or recorded
directly), update how it is housed and the last contact, record the policy explanation and the household's signed
wish, open the re-application's ledger case through the ledger's own `case_open`, end the tracking. Each checks
`returns.track` and the scope, locks the row, writes one audit event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.checks import check_date, invalid, require, text
from anju.core.errors import ConflictError
from anju.core.scope import in_scope
from anju.divisions.models import Division, Level
from anju.policy.services import alerts_refresh_on_commit
from anju.registry.models import House, Household

from .models import OPEN_STATES, Housing, Tracking, TrackingKind, TrackingState

ACTION = "returns.track"
STATE_LABELS = dict(TrackingState.choices)
#: The ledger's ways of being made safe (cases.SecureMeans) as the tracking's housing.
MEANS_TO_HOUSING = {
    "relatives": Housing.RELATIVES,
    "rented": Housing.RENTED,
    "public_rental": Housing.PUBLIC_RENTAL,
    "idle_house": Housing.OTHER,
    "other": Housing.OTHER,
}
EDITABLE = ("housing", "housed_since", "returned_on", "followed_by_code", "follower_name", "notes", "last_contact_on")


def _require(actor: Any, code: str, field: str | None = None) -> None:
    require(actor, ACTION, code, field)


def _lock(tracking: Tracking, expected_version: int | None, states: tuple[str, ...], doing: str) -> Tracking:
    """The record, locked; refused if the form is stale or the record is not in one of `states`."""
    locked = Tracking.objects.select_for_update(of=("self",)).select_related("household").get(pk=tracking.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("该跟踪记录已被他人更新，请刷新页面后重试"), errors={"version": _("记录已更新")})
    if locked.state not in states:
        raise ConflictError(
            _("跟踪记录当前为「{state}」，不能{doing}").format(state=STATE_LABELS[locked.state], doing=doing),
            errors={"state": str(STATE_LABELS[locked.state])},
        )
    return locked


def _follower(household: Household, code: str) -> tuple[dict[str, str], str]:
    """P10 "town and village track them": the household's own village, or its town."""
    code = (code or "").strip() or household.division_id
    if code not in (household.division_id, household.division_id[:9] + "000"):
        return {"followed_by_code": _("跟踪单位应为该户所在的村或乡镇")}, code
    return {}, code


def _save(
    *,
    actor: Any,
    tracking: Tracking,
    action: Action,
    fields: list[str],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Tracking:
    tracking.version += 1
    tracking.save(update_fields=[*fields, "version", "updated_at"])
    event_record(actor=actor, action=action, obj=tracking, before=before, after=after)
    alerts_refresh_on_commit(household_ids=[tracking.household_id])
    return tracking


def secured_case_q() -> Q:
    """Ledger cases whose household was made safe by other means (保障安全, open or closed out)."""
    from anju.cases.models import CaseOutcome, CaseState

    return Q(state=CaseState.SECURED) | Q(state=CaseState.CLOSED, outcome=CaseOutcome.SECURED)


@transaction.atomic(durable=True)
def tracking_start(
    *,
    actor: Any,
    household: Household,
    kind: str = TrackingKind.SECURED,
    housing: str = "",
    housed_since: dt.date | None = None,
    returned_on: dt.date | None = None,
    followed_by_code: str = "",
    follower_name: str = "",
    notes: str = "",
    origin_case: Any = None,
) -> Tracking:
    """P10: the town or village starts following a household made safe by other means (from its ledger case, whose
    means and date it takes unless given), or a migrant worker's household back home (返乡, with its date)."""
    from anju.cases.models import Case

    _require(actor, household.division_id, "household")
    Household.objects.select_for_update().filter(pk=household.pk).first()  # two starts for one household take turns
    errors: dict[str, str] = {}
    if origin_case is not None:
        if origin_case.household_id != household.pk:
            errors["origin_case"] = _("该台账不属于此农户")
        elif not Case.objects.filter(secured_case_q(), pk=origin_case.pk).exists():
            errors["origin_case"] = _("只有「保障安全」的台账才能转入跟踪")
        else:
            housing = housing or MEANS_TO_HOUSING.get(origin_case.secured_means, Housing.OTHER)
            housed_since = housed_since or origin_case.secured_on
    if kind not in TrackingKind.values:
        errors["kind"] = _("请选择类型")
    if housing not in Housing.values:
        errors["housing"] = _("请选择现住房情况")
    errors |= check_date(housed_since, "housed_since", _("起始日期"))
    errors |= check_date(returned_on, "returned_on", _("返乡日期"), required=kind == TrackingKind.RETURNED)
    follower_errors, followed_by_code = _follower(household, followed_by_code)
    errors |= follower_errors
    if errors:
        raise invalid(errors)
    existing = Tracking.objects.filter(household=household, state__in=OPEN_STATES).first()
    if existing is not None:
        message = _("该农户已在跟踪中（#{id}）").format(id=existing.pk)
        raise ConflictError(message, errors={"household": message})
    tracking = Tracking.objects.create(
        division_id=household.division_id,
        household=household,
        origin_case=origin_case,
        kind=kind,
        housing=housing,
        housed_since=housed_since,
        returned_on=returned_on,
        followed_by_id=followed_by_code,
        follower_name=text(follower_name, 64),
        notes=text(notes, 1000),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    event_record(
        actor=actor,
        action=Action.TRACKING_STARTED,
        obj=tracking,
        after={
            "household": household.pk,
            "origin_case": origin_case.pk if origin_case is not None else None,
            "kind": kind,
            "housing": housing,
            "housed_since": housed_since,
            "returned_on": returned_on,
            "followed_by": followed_by_code,
        },
    )
    return tracking


@transaction.atomic(durable=True)
def tracking_update(*, actor: Any, tracking: Tracking, expected_version: int | None = None, **changes: Any) -> Tracking:
    """How the household is housed now, since when, who follows it, notes, the last contact."""
    _require(actor, tracking.division_id)
    tracking = _lock(tracking, expected_version, OPEN_STATES, _("修改"))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise invalid({k: _("不能在此修改") for k in unknown})
    errors: dict[str, str] = {}
    if "followed_by_code" in changes:
        follower_errors, changes["followed_by_id"] = _follower(tracking.household, changes.pop("followed_by_code"))
        errors |= follower_errors
    if "housing" in changes and changes["housing"] not in Housing.values:
        errors["housing"] = _("请选择现住房情况")
    if "housed_since" in changes:
        errors |= check_date(changes["housed_since"], "housed_since", _("起始日期"))
    for field, label in (("returned_on", _("返乡日期")), ("last_contact_on", _("最近联系日期"))):
        if field in changes:
            required = field == "returned_on" and tracking.kind == TrackingKind.RETURNED
            errors |= check_date(changes[field], field, label, required=required)
    for field, limit in (("follower_name", 64), ("notes", 1000)):
        if field in changes:
            changes[field] = text(changes[field], limit)
    if errors:
        raise invalid(errors)
    before = {k: getattr(tracking, k) for k in changes}
    for field, value in changes.items():
        setattr(tracking, field, value)
    changed = [k for k in changes if before[k] != getattr(tracking, k)]
    return _save(
        actor=actor,
        tracking=tracking,
        action=Action.TRACKING_CHANGED,
        fields=[k.removesuffix("_id") if k == "followed_by_id" else k for k in changed],
        before={k: before[k] for k in changed},
        after={k: getattr(tracking, k) for k in changed},
    )


@transaction.atomic(durable=True)
def tracking_explain(
    *,
    actor: Any,
    tracking: Tracking,
    explained_on: dt.date | None,
    explained_by: str,
    explanation: str,
    expected_version: int | None = None,
) -> Tracking:
    """P10 "policy is explained": when, by whom and what (eligibility, subsidy, methods, the household's part).
    A later explanation replaces the earlier one; the audit log keeps both."""
    _require(actor, tracking.division_id)
    tracking = _lock(tracking, expected_version, (TrackingState.TRACKING, TrackingState.EXPLAINED), _("登记政策解释"))
    explained_by, explanation = text(explained_by, 64), text(explanation, 1000)
    errors = check_date(explained_on, "explained_on", _("政策解释日期"))
    if not explained_by:
        errors["explained_by"] = _("请填写解释人")
    if len(explanation) < 4:
        errors["explanation"] = _("请填写向农户解释的政策内容（如补助标准、改造方式、申请程序）")
    if errors:
        raise invalid(errors)
    tracking.state = TrackingState.EXPLAINED
    tracking.explained_on, tracking.explained_by, tracking.explanation = explained_on, explained_by, explanation
    return _save(
        actor=actor,
        tracking=tracking,
        action=Action.TRACKING_EXPLAINED,
        fields=["state", "explained_on", "explained_by", "explanation"],
        after={"explained_on": explained_on, "explained_by": explained_by, "explanation": explanation},
    )


@transaction.atomic(durable=True)
def tracking_confirm_wish(
    *,
    actor: Any,
    tracking: Tracking,
    confirmed_on: dt.date | None,
    signed_by: str,
    signed: bool,
    note: str = "",
    expected_version: int | None = None,
) -> Tracking:
    """P10 "once the household confirms it wants renovation": after the explanation, the household signs (确认改造
    意愿, who signed and when). Without a signature nothing is recorded."""
    _require(actor, tracking.division_id)
    tracking = _lock(tracking, expected_version, (TrackingState.EXPLAINED,), _("确认改造意愿（须先登记政策解释）"))
    signed_by, note = text(signed_by, 64), text(note, 1000)
    errors = check_date(confirmed_on, "confirmed_on", _("确认日期"))
    if confirmed_on is not None and tracking.explained_on and confirmed_on < tracking.explained_on:
        errors["confirmed_on"] = _("确认日期不能早于政策解释日期（{day}）").format(
            day=tracking.explained_on.isoformat()
        )
    if not signed_by:
        errors["signed_by"] = _("请填写签字确认的家庭成员")
    if not signed:
        errors["signed"] = _("须由农户签字确认改造意愿")
    if errors:
        raise invalid(errors)
    tracking.state = TrackingState.WISH_CONFIRMED
    tracking.wish_confirmed_on, tracking.wish_signed_by, tracking.wish_note = confirmed_on, signed_by, note
    return _save(
        actor=actor,
        tracking=tracking,
        action=Action.TRACKING_WISH_CONFIRMED,
        fields=["state", "wish_confirmed_on", "wish_signed_by", "wish_note"],
        after={"wish_confirmed_on": confirmed_on, "wish_signed_by": signed_by, "wish_note": note},
    )


def tracking_open_case(*, actor: Any, tracking: Tracking, description: str = "", house: House | None = None) -> Any:
    """P10: the household confirmed its wish; a ledger case with source 重新申请 is opened through the ledger's own
    `case_open` (with all its guards), from which the county plans the renovation the normal way.

    `case_open` runs in its own (durable) transaction, so this is two steps. The case carries the tracking's number
    (`source_ref`): if linking failed after the case was opened, trying again links that case instead of opening a
    second one.
    """
    from anju.cases.models import CaseSource
    from anju.cases.services.cases import case_open_for

    _require(actor, tracking.division_id)
    require_action(actor, "cases.open")
    if tracking.state != TrackingState.WISH_CONFIRMED:
        message = _("须先登记政策解释并由农户签字确认改造意愿，才能登记重新申请的台账")
        raise ConflictError(message, errors={"state": message})
    ref = _("重新申请#{id}").format(id=tracking.pk)
    default = _("{kind}重新申请农房改造，已于{day}签字确认改造意愿").format(
        kind=tracking.get_kind_display(), day=tracking.wish_confirmed_on.isoformat()
    )
    case = case_open_for(
        actor=actor,
        household=tracking.household,
        house=house,
        source=CaseSource.REAPPLICATION,
        source_ref=ref,
        description=text(description, 1000) or default,
    )
    return _link_case(actor=actor, tracking=tracking, case=case)


@transaction.atomic(durable=True)
def _link_case(*, actor: Any, tracking: Tracking, case: Any) -> Any:
    tracking = _lock(tracking, None, (TrackingState.WISH_CONFIRMED,), _("登记重新申请的台账"))
    tracking.state, tracking.case = TrackingState.CASE_OPENED, case
    _save(
        actor=actor,
        tracking=tracking,
        action=Action.TRACKING_CASE_OPENED,
        fields=["state", "case"],
        after={"case": case.pk, "state": tracking.state},
    )
    return case


@transaction.atomic(durable=True)
def tracking_close(
    *, actor: Any, tracking: Tracking, closed_on: dt.date | None, reason: str, expected_version: int | None = None
) -> Tracking:
    """The tracking ends without a re-application (moved away, settled for good, household dissolved …)."""
    _require(actor, tracking.division_id)
    tracking = _lock(tracking, expected_version, OPEN_STATES, _("结束跟踪"))
    reason = text(reason, 500)
    errors = check_date(closed_on, "closed_on", _("结束日期"))
    if len(reason) < 2:
        errors["reason"] = _("请填写结束跟踪的原因")
    if errors:
        raise invalid(errors)
    tracking.state, tracking.closed_on, tracking.close_reason = TrackingState.CLOSED, closed_on, reason
    return _save(
        actor=actor,
        tracking=tracking,
        action=Action.TRACKING_CLOSED,
        fields=["state", "closed_on", "close_reason"],
        after={"closed_on": closed_on, "reason": reason},
    )


def may_track(user: Any, tracking: Tracking) -> bool:
    return has_action(user, ACTION) and tracking.is_open and in_scope(tracking.division_id, user.scope_prefix)


def follower_choices(household: Household) -> list[tuple[str, str]]:
    """The household's village and its town, for the form's pick-list."""
    rows = Division.objects.filter(code__in=[household.division_id, household.division_id[:9] + "000"])
    order = {Level.VILLAGE: 0, Level.TOWN: 1}
    return [(d.code, d.name) for d in sorted(rows, key=lambda d: order.get(d.level, 2))]
