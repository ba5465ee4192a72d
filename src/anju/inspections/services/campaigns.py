"""Campaigns: the rounds of checks (P5 annual check in March–April, P9 flood-season and freeze-thaw checks).

A campaign's dates are data on the campaign: the P5 alert reads `ends_on` from it, not a constant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import diff, event_record
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.core.scope import ancestor_codes, in_scope, scope_q
from anju.divisions.models import Division

from ..models import Campaign, CampaignKind, CheckRecord, TargetSet

CAMPAIGN_FIELDS = ["name", "kind", "year", "starts_on", "ends_on", "target_set", "note", "division_id"]
CHANGEABLE = {"name", "starts_on", "ends_on", "note"}

#: P5: the yearly check runs from 1 March to 30 April; a city may move it with this setting ((month, day) pairs).
DEFAULT_ANNUAL_PERIOD = ((3, 1), (4, 30))


def annual_period(year: int) -> tuple[dt.date, dt.date]:
    """P5: the default period of the yearly check (1 March – 30 April of `year`)."""
    (m1, d1), (m2, d2) = getattr(settings, "ANJU_ANNUAL_CHECK_PERIOD", DEFAULT_ANNUAL_PERIOD)
    return dt.date(year, m1, d1), dt.date(year, m2, d2)


def default_name(kind: str, year: int) -> str:
    if kind == CampaignKind.ANNUAL:
        return _("{year}年度农村住房安全核查").format(year=year)
    return _("{year}年{kind}").format(year=year, kind=CampaignKind(kind).label)


def _division(*, actor: Any, code: str | None) -> Division:
    """The campaign's division: one in the actor's subtree, by default the actor's own."""
    if not getattr(actor, "division_id", None):
        raise ScopeError(_("您的账号未设置所属行政区划"), errors={"division_code": _("账号未设置所属行政区划")})
    code = (code or actor.division_id).strip()
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise DomainError(_("行政区划不存在"), errors={"division_code": _("区划代码{code}不存在").format(code=code)})
    if not in_scope(division.code, actor.scope_prefix):
        raise ScopeError(
            _("不在您的管辖范围内"),
            errors={"division_code": _("「{name}」不在您的管辖范围内").format(name=division.name)},
        )
    return division


def _validate(campaign: Campaign) -> None:
    errors: dict[str, str] = {}
    if campaign.kind not in CampaignKind.values:
        errors["kind"] = _("核查类型无效")
    if campaign.target_set not in TargetSet.values:
        errors["target_set"] = _("核查对象无效")
    if not (campaign.name or "").strip():
        errors["name"] = _("请填写名称")
    this_year = timezone.localdate().year
    if not (2000 <= campaign.year <= this_year + 1):
        errors["year"] = _("年度应在2000到{year}之间").format(year=this_year + 1)
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = _("截止日期不能早于开始日期")
    if campaign.kind == CampaignKind.ANNUAL and campaign.starts_on and campaign.starts_on.year != campaign.year:
        errors["starts_on"] = _("年度核查应在{year}年内开始").format(year=campaign.year)
    if errors:
        raise DomainError(_("输入有误，请检查标出的字段"), errors=errors)
    try:
        campaign.full_clean(exclude=["division", "created_by"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise DomainError(
            _("输入有误，请检查标出的字段"), errors={k: " ".join(v) for k, v in exc.message_dict.items()}
        ) from exc


def _ensure_one_annual(division: Division, year: int) -> None:
    """P5: one yearly check per household: no annual campaign of that year above, at or below the division."""
    clash = (
        Campaign.objects.filter(kind=CampaignKind.ANNUAL, year=year)
        .filter(scope_q("division_id", division.prefix) | Q(division_id__in=ancestor_codes(division.code)))
        .select_related("division")
        .first()
    )
    if clash:
        raise ConflictError(
            _("{year}年度核查已存在").format(year=year),
            errors={
                "year": _("「{division}」已有{year}年度核查「{name}」，辖区内每户每年只核查一次").format(
                    division=clash.division.name, year=year, name=clash.name
                )
            },
        )


def _create(
    *,
    actor: Any,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    name: str = "",
    year: int | None = None,
    target_set: str = TargetSet.ALL,
    division_code: str | None = None,
    note: str = "",
) -> Campaign:
    require_action(actor, "inspections.manage")
    division = _division(actor=actor, code=division_code)
    year = year or starts_on.year
    campaign = Campaign(
        division=division,
        kind=kind,
        year=year,
        starts_on=starts_on,
        ends_on=ends_on,
        target_set=target_set or TargetSet.ALL,
        name=(name or "").strip() or (default_name(kind, year) if kind in CampaignKind.values else ""),
        note=(note or "").strip(),
        created_by=actor,
    )
    _validate(campaign)
    if kind == CampaignKind.ANNUAL:
        _ensure_one_annual(division, year)
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as exc:  # a concurrent create of the same annual campaign
        raise ConflictError(
            _("{year}年度核查已存在").format(year=year), errors={"year": _("该区划本年度已有年度核查")}
        ) from exc
    event_record(
        actor=actor,
        action=Action.CAMPAIGN_CREATED,
        obj=campaign,
        after={f: getattr(campaign, f) for f in CAMPAIGN_FIELDS},
    )
    return campaign


@transaction.atomic
def campaign_create(
    *,
    actor: Any,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    name: str = "",
    year: int | None = None,
    target_set: str = TargetSet.ALL,
    division_code: str | None = None,
    note: str = "",
) -> Campaign:
    """A campaign over the subtree of `division_code` (default: the actor's division). P5: annual is one per
    division and year; P9: flood-season and freeze-thaw checks are campaigns of their own kind."""
    return _create(
        actor=actor,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        name=name,
        year=year,
        target_set=target_set,
        division_code=division_code,
        note=note,
    )


@transaction.atomic
def campaign_create_annual(*, actor: Any, year: int | None = None, division_code: str | None = None) -> Campaign:
    """P5: the one action "create this year's March–April check" for the actor's division; 30 April is its deadline."""
    year = year or timezone.localdate().year
    starts_on, ends_on = annual_period(year)
    return _create(
        actor=actor,
        kind=CampaignKind.ANNUAL,
        year=year,
        starts_on=starts_on,
        ends_on=ends_on,
        division_code=division_code,
        target_set=TargetSet.ALL,
    )


def require_campaign_level(actor: Any, campaign: Campaign) -> None:
    """A campaign is seen below its division but changed only at its level or above."""
    if not in_scope(campaign.division_id, actor.scope_prefix):
        raise ScopeError(
            _("该核查批次由上级创建，只能由上级修改"),
            errors={"campaign": _("「{name}」由上级创建，只能由上级修改").format(name=campaign.name)},
        )


@transaction.atomic
def campaign_update(*, actor: Any, campaign: Campaign, **changes: Any) -> Campaign:
    """Change the name, period or note. Kind, year, division and targets stay: checks were recorded against them."""
    require_action(actor, "inspections.manage")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_campaign_level(actor, campaign)
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise DomainError(_("不能修改这些字段"), errors={k: _("不能修改此字段") for k in sorted(unknown)})
    before = {f: getattr(campaign, f) for f in CAMPAIGN_FIELDS}
    for field, value in changes.items():
        if value is None:
            continue
        setattr(campaign, field, value.strip() if isinstance(value, str) else value)
    _validate(campaign)
    first = CheckRecord.objects.filter(campaign=campaign).order_by("checked_on").values_list("checked_on", flat=True)
    earliest = first.first()
    if earliest is not None and campaign.starts_on > earliest:
        raise DomainError(
            _("开始日期晚于已有核查记录"),
            errors={"starts_on": _("已有{date}的核查记录，开始日期不能晚于该日").format(date=earliest.isoformat())},
        )
    old, new = diff(before, {f: getattr(campaign, f) for f in CAMPAIGN_FIELDS})
    if not new:
        return campaign
    campaign.save()
    event_record(actor=actor, action=Action.CAMPAIGN_CHANGED, obj=campaign, before=old, after=new)
    return campaign
