"""Check records: one per household and campaign, with house-by-house findings and photos (P5, P8, P17)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.accounts.training import require_trained
from anju.audit.actions import Action
from anju.audit.services import diff, event_record
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.core.scope import in_scope
from anju.policy.services import alerts_refresh_on_commit
from anju.registry.models import House, Household

from ..models import Campaign, CheckRecord, HouseFinding, Photo, SiteHazard, Verdict
from ..selectors import campaign_targets
from .appraisals import request_open_from_check
from .photos import photo_audit_facts, store_photo

CHECK_FIELDS = ["checked_on", "checker_id", "verdict", "latitude", "longitude", "note"]
CHANGEABLE = {"checked_on", "checker", "verdict", "latitude", "longitude", "note"}
FLAGS = ["cracks", "tilt", "settlement", "roof_leak", "earth_wall_damp", "cave_arch_damage"]
FINDING_FIELDS = [*FLAGS, "site_hazard", "occupied", "note"]
CHECK_WORK = "房屋安全核查"


def _require_scope(actor: Any, code: str, field: str = "household") -> None:
    if not in_scope(code, actor.scope_prefix):
        raise ScopeError(_("不在您的管辖范围内"), errors={field: _("该农户不在您的管辖范围内")})


def _in_targets(campaign: Campaign, household: Household) -> None:
    """The household must be one the campaign checks (its subtree; for P9 special checks, the P7 list)."""
    if not campaign_targets(campaign).filter(pk=household.pk).exists():
        raise DomainError(
            _("该农户不在本批次的核查范围内"),
            errors={
                "household": _("「{name}」不在「{campaign}」的核查范围内").format(
                    name=household.head_name, campaign=campaign.name
                )
            },
        )


def _checked_on(campaign: Campaign, checked_on: dt.date) -> None:
    today = timezone.localdate()
    if checked_on > today:
        raise DomainError(_("核查日期不能晚于今天"), errors={"checked_on": _("核查日期不能晚于今天")})
    if checked_on < campaign.starts_on:
        raise DomainError(
            _("核查日期早于批次开始日期"),
            errors={
                "checked_on": _("「{campaign}」自{date}开始，核查日期不能早于该日").format(
                    campaign=campaign.name, date=campaign.starts_on.isoformat()
                )
            },
        )


def _checker(actor: Any, checker: Any, household: Household, checked_on: dt.date) -> Any:
    """The person who checked: the actor by default; someone else must be a field worker over this household.
    P17: only people trained in the year of the check may take part."""
    checker = checker or actor
    if checker.pk != getattr(actor, "pk", None):
        if not checker.is_active or not has_action(checker, "inspections.check"):
            raise DomainError(_("核查人无核查权限"), errors={"checker": _("该人员不能担任核查人")})
        if not checker.division_id or not in_scope(household.division_id, checker.scope_prefix):
            raise DomainError(_("核查人不负责该农户"), errors={"checker": _("该农户不在核查人的管辖范围内")})
    require_trained(checker, on=checked_on, work=_(CHECK_WORK), field="checker")
    return checker


def _gps(latitude: Any, longitude: Any) -> tuple[Decimal | None, Decimal | None]:
    if (latitude in (None, "")) != (longitude in (None, "")):
        raise DomainError(_("经纬度须同时填写"), errors={"latitude": _("经度和纬度须同时填写或同时留空")})
    if latitude in (None, ""):
        return None, None
    try:
        lat, lon = (
            Decimal(str(latitude)).quantize(Decimal("0.000001")),
            Decimal(str(longitude)).quantize(Decimal("0.000001")),
        )
    except ArithmeticError as exc:
        raise DomainError(_("经纬度格式不正确"), errors={"latitude": _("经纬度应为数字")}) from exc
    errors = {}
    if not (3 <= lat <= 54):
        errors["latitude"] = _("纬度应在3到54之间")
    if not (73 <= lon <= 136):
        errors["longitude"] = _("经度应在73到136之间")
    if errors:
        raise DomainError(_("定位不在中国境内"), errors=errors)
    return lat, lon


def _findings(household: Household, findings: Iterable[dict[str, Any]]) -> list[HouseFinding]:
    """Each finding names a house of this household, once; the checklist is booleans plus a site hazard."""
    houses = {h.pk: h for h in House.objects.filter(household=household)}
    rows: list[HouseFinding] = []
    seen: set[int] = set()
    for item in findings:
        item = dict(item)
        house = item.pop("house", None) or item.pop("house_id", None)
        house_id = getattr(house, "pk", house)
        try:
            house_id = int(house_id)
        except (TypeError, ValueError):
            house_id = None
        if house_id not in houses:
            raise DomainError(
                _("房屋不属于该农户"), errors={"findings": _("房屋 #{id} 不属于该农户").format(id=house_id)}
            )
        if house_id in seen:
            raise DomainError(
                _("同一栋房屋重复填写"), errors={"findings": _("房屋 #{id} 重复填写").format(id=house_id)}
            )
        seen.add(house_id)
        unknown = set(item) - set(FINDING_FIELDS)
        if unknown:
            raise DomainError(_("不支持的核查项"), errors={"findings": ", ".join(sorted(unknown))})
        hazard = item.get("site_hazard") or ""
        if hazard not in SiteHazard.values:
            raise DomainError(_("场地隐患取值无效"), errors={"findings": _("场地隐患取值无效")})
        row = HouseFinding(
            house_id=house_id,
            division_id=household.division_id,
            site_hazard=hazard,
            occupied=bool(item.get("occupied", True)),
            note=(item.get("note") or "").strip(),
            **{flag: bool(item.get(flag, False)) for flag in FLAGS},
        )
        if len(row.note) > 500:
            raise DomainError(_("说明过长"), errors={"findings": _("每栋房屋的说明不超过500字")})
        rows.append(row)
    return rows


def _finding_dicts(rows: Iterable[HouseFinding]) -> list[dict[str, Any]]:
    return [{"house_id": r.house_id, **{f: getattr(r, f) for f in FINDING_FIELDS}} for r in rows]


def _validate(check: CheckRecord) -> None:
    if check.verdict not in Verdict.values:
        raise DomainError(_("核查结论无效"), errors={"verdict": _("请选择核查结论")})
    if len(check.note or "") > 500:
        raise DomainError(_("备注过长"), errors={"note": _("备注不超过500字")})
    try:
        check.full_clean(
            exclude=["division", "campaign", "household", "checker"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        raise DomainError(
            _("输入有误，请检查标出的字段"), errors={k: " ".join(v) for k, v in exc.message_dict.items()}
        ) from exc


def _suspected_houses(household: Household, findings: list[HouseFinding]) -> list[House]:
    """The houses a suspected verdict is about: those with a defect ticked; else those checked; else all."""
    houses = {h.pk: h for h in House.objects.filter(household=household).order_by("id")}
    flagged = [f.house_id for f in findings if f.site_hazard or any(getattr(f, flag) for flag in FLAGS)]
    chosen = flagged or [f.house_id for f in findings] or list(houses)
    return [houses[pk] for pk in chosen if pk in houses]


def _describe(finding: HouseFinding | None, note: str) -> str:
    parts = []
    if finding is not None:
        flags = [str(HouseFinding._meta.get_field(flag).verbose_name) for flag in FLAGS if getattr(finding, flag)]
        if flags:
            parts.append("、".join(flags))
        if finding.site_hazard:
            parts.append(_("场地隐患：{hazard}").format(hazard=finding.get_site_hazard_display()))
        if finding.note:
            parts.append(finding.note)
    if note:
        parts.append(note)
    text = _("核查发现疑似危房")
    return (text + _("：") + "；".join(parts))[:1000] if parts else text


def _open_requests(*, actor: Any, check: CheckRecord, findings: list[HouseFinding]) -> None:
    """P8: a suspected dangerous house is reported at once: one request for appraisal per house concerned."""
    by_house = {f.house_id: f for f in findings}
    for house in _suspected_houses(check.household, findings):
        request_open_from_check(
            actor=actor, check=check, house=house, description=_describe(by_house.get(house.pk), check.note)
        )


def _require_house_if_suspected(household: Household, verdict: str) -> None:
    if verdict == Verdict.SUSPECTED and not House.objects.filter(household=household).exists():
        raise DomainError(
            _("该农户未登记房屋，无法上报疑似危房"),
            errors={"verdict": _("疑似危房须对应已登记的房屋，请先登记房屋")},
        )


def _store_photos(*, actor: Any, check: CheckRecord, photos: Iterable[Any]) -> list[Photo]:
    stored = []
    for file in photos:
        try:
            stored.append(store_photo(actor=actor, file=file, check=check))
        except ConflictError:
            continue  # the same picture chosen twice, or already on this check
    return stored


@transaction.atomic(durable=True)
def check_record(
    *,
    actor: Any,
    campaign: Campaign,
    household: Household,
    verdict: str,
    checked_on: dt.date | None = None,
    checker: Any = None,
    latitude: Any = None,
    longitude: Any = None,
    note: str = "",
    findings: Iterable[dict[str, Any]] = (),
    photos: Iterable[Any] = (),
) -> CheckRecord:
    """P5: record that `household` was checked in `campaign` — once (then `check_update`), by a trained checker
    (P17), on a date within the campaign and not in the future; a suspected verdict opens a P8 request."""
    require_action(actor, "inspections.check")
    _require_scope(actor, household.division_id)
    if not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise ScopeError(_("不在您的管辖范围内"), errors={"campaign": _("该核查批次不在您的管辖范围内")})
    checked_on = checked_on or timezone.localdate()
    _in_targets(campaign, household)
    _checked_on(campaign, checked_on)
    checker = _checker(actor, checker, household, checked_on)
    lat, lon = _gps(latitude, longitude)
    rows = _findings(household, findings)
    check = CheckRecord(
        campaign=campaign,
        household=household,
        division_id=household.division_id,
        checked_on=checked_on,
        checker=checker,
        verdict=verdict,
        latitude=lat,
        longitude=lon,
        note=(note or "").strip(),
    )
    _validate(check)
    _require_house_if_suspected(household, verdict)
    Household.objects.select_for_update().filter(pk=household.pk).first()  # two phones, one household: one wins
    if CheckRecord.objects.filter(campaign=campaign, household=household).exists():
        raise ConflictError(
            _("该农户在本批次中已有核查记录"),
            errors={"household": _("「{name}」在本批次中已核查，请修改原记录").format(name=household.head_name)},
        )
    try:
        with transaction.atomic():
            check.save()
    except IntegrityError as exc:
        raise ConflictError(
            _("该农户在本批次中已有核查记录"), errors={"household": _("该农户在本批次中已核查，请修改原记录")}
        ) from exc
    for row in rows:
        row.check_record = check
    HouseFinding.objects.bulk_create(rows)
    stored = _store_photos(actor=actor, check=check, photos=photos)
    event_record(
        actor=actor,
        action=Action.CHECK_RECORDED,
        obj=check,
        after={f: getattr(check, f) for f in CHECK_FIELDS}
        | {"campaign_id": campaign.pk, "household_id": household.pk, "findings": _finding_dicts(rows)},
        extra={"photos": [photo_audit_facts(p) for p in stored]} if stored else None,
    )
    if check.verdict == Verdict.SUSPECTED:
        _open_requests(actor=actor, check=check, findings=rows)
    alerts_refresh_on_commit(household_ids=[household.pk])
    return check


@transaction.atomic(durable=True)
def check_update(
    *,
    actor: Any,
    check: CheckRecord,
    findings: Iterable[dict[str, Any]] | None = None,
    photos: Iterable[Any] = (),
    **changes: Any,
) -> CheckRecord:
    """Correct a check: date, checker, verdict, GPS, note, (when given) the findings, which replace the old, and
    more photos."""
    require_action(actor, "inspections.check")
    check = CheckRecord.objects.select_for_update().select_related("campaign", "household").get(pk=check.pk)
    _require_scope(actor, check.division_id)
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise DomainError(_("不能修改这些字段"), errors={k: _("不能修改此字段") for k in sorted(unknown)})
    before = {f: getattr(check, f) for f in CHECK_FIELDS}
    old_findings = _finding_dicts(check.findings.order_by("house_id"))
    was_suspected = check.verdict == Verdict.SUSPECTED
    if "checked_on" in changes and changes["checked_on"] is not None:
        check.checked_on = changes["checked_on"]
        _checked_on(check.campaign, check.checked_on)
    if "latitude" in changes or "longitude" in changes:
        check.latitude, check.longitude = _gps(
            changes.get("latitude", check.latitude), changes.get("longitude", check.longitude)
        )
    for field in ("verdict", "note"):
        if changes.get(field) is not None:
            setattr(check, field, changes[field].strip() if field == "note" else changes[field])
    if changes.get("checker") is not None or "checked_on" in changes:
        check.checker = _checker(actor, changes.get("checker") or check.checker, check.household, check.checked_on)
    _validate(check)
    _require_house_if_suspected(check.household, check.verdict)
    rows = None
    if findings is not None:
        rows = _findings(check.household, findings)
    old, new = diff(before, {f: getattr(check, f) for f in CHECK_FIELDS})
    new_findings = _finding_dicts(sorted(rows, key=lambda r: r.house_id)) if rows is not None else old_findings
    photos = list(photos)
    if not new and new_findings == old_findings and not photos:
        return check
    check.save()
    if rows is not None and new_findings != old_findings:
        check.findings.all().delete()
        for row in rows:
            row.check_record = check
        HouseFinding.objects.bulk_create(rows)
        old["findings"], new["findings"] = old_findings, new_findings
    stored = _store_photos(actor=actor, check=check, photos=photos)
    event_record(
        actor=actor,
        action=Action.CHECK_CHANGED,
        obj=check,
        before=old,
        after=new,
        extra={"photos": [photo_audit_facts(p) for p in stored]} if stored else None,
    )
    if check.verdict == Verdict.SUSPECTED and not was_suspected:
        _open_requests(actor=actor, check=check, findings=list(check.findings.all()))
    alerts_refresh_on_commit(household_ids=[check.household_id])
    return check
