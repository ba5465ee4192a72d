"""The craftsmen registry (P22) and the subsidy rates (P21): data the county and the city keep, read by the
renovation guards. A craftsman's training (P17) is kept in the training ledger (`anju.training`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.checks import invalid, require, text
from anju.core.errors import DomainError
from anju.registry.models import Household, HouseholdCategory

from ..models import Craftsman, CraftsmanKind, RenovationMethod, SubsidyRate


def is_trained(craftsman: Craftsman, year: int) -> bool:
    """P17, P22: the craftsman signed in at a training session of `year` (read from the training ledger)."""
    from anju.training.selectors import craftsman_is_trained

    return craftsman_is_trained(craftsman, year)


@transaction.atomic(durable=True)
def craftsman_register(
    *,
    actor: Any,
    county_code: str,
    name: str,
    kind: str = CraftsmanKind.CRAFTSMAN,
    phone: str = "",
    certificate: str = "",
) -> Craftsman:
    """P22: the county registers a craftsman or builder who may take renovation jobs in the county."""
    require(actor, "cases.manage", county_code, "division")
    name = text(name, 100)
    errors = {}
    if not name:
        errors["name"] = _("请填写姓名或单位名称")
    if kind not in CraftsmanKind.values:
        errors["kind"] = _("请选择类别")
    if county_code[6:] != "000000" or county_code[4:6] == "00":
        errors["division"] = _("工匠登记在县（市、区）")
    if errors:
        raise invalid(errors)
    craftsman = Craftsman.objects.create(
        division_id=county_code, name=name, kind=kind, phone=text(phone, 20), certificate=text(certificate, 64)
    )
    event_record(
        actor=actor,
        action=Action.CRAFTSMAN_REGISTERED,
        obj=craftsman,
        after={"name": name, "kind": kind, "certificate": craftsman.certificate},
    )
    return craftsman


def craftsman_training_add(
    *, actor: Any, craftsman: Craftsman, year: int, trained_on: dt.date | None = None, topic: str = ""
) -> Any:
    """P17: record in one step that a craftsman took part in the yearly training (a session of the ledger)."""
    from anju.training.services import training_record

    return training_record(actor=actor, craftsman=craftsman, year=year, trained_on=trained_on, topic=topic)


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise invalid({field: _("金额应为数字")}) from exc
    if amount < 0 or amount > Decimal("10000000"):
        raise invalid({field: _("金额应在0到1000万元之间")})
    return amount


@transaction.atomic(durable=True)
def subsidy_rate_set(
    *,
    actor: Any,
    year: int,
    method: str,
    amount: Any,
    grade: str = "",
    category_code: str = "",
    note: str = "",
    is_sample: bool = False,
) -> SubsidyRate:
    """P21: the city sets the subsidy per household for a year, method, grade and target category (blank = any)."""
    require(actor, "cases.configure", actor.division_id or "")
    errors = {}
    if method not in RenovationMethod.values:
        errors["method"] = _("请选择改造方式")
    if grade not in ("", "C", "D"):
        errors["grade"] = _("等级应为C、D或留空（不限）")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = _("年度无效")
    if errors:
        raise invalid(errors)
    amount = _amount(amount, "amount")
    rate, created = SubsidyRate.objects.select_for_update().get_or_create(
        year=year,
        method=method,
        grade=grade,
        category_code=category_code,
        defaults={"amount": amount, "note": text(note, 200), "is_sample": is_sample},
    )
    before = None if created else {"amount": rate.amount, "note": rate.note}
    if not created:
        rate.amount, rate.note, rate.is_sample = amount, text(note, 200), is_sample
        rate.save()
    event_record(
        actor=actor,
        action=Action.SUBSIDY_RATE_SET,
        obj=rate,
        before=before,
        after={"year": year, "method": method, "grade": grade, "category": category_code, "amount": amount},
    )
    return rate


def subsidy_for(*, household: Household, year: int, method: str, grade: str) -> SubsidyRate:
    """P21: the rate that applies — the most specific row for the grade and the household's categories, and
    among its categories the highest amount. Raises when the city has set none."""
    codes = set(
        HouseholdCategory.objects.filter(household=household, ended_on__isnull=True).values_list(
            "category__code", flat=True
        )
    )
    rows = SubsidyRate.objects.filter(year=year, method=method, grade__in=["", grade]).filter(
        category_code__in=["", *sorted(codes)]
    )
    # Within one category (or the generic rows) the grade's own row beats the any-grade row; then any category
    # row beats the generic ones, and among the household's categories the highest amount wins.
    per_category: dict[str, SubsidyRate] = {}
    for rate in rows.order_by("category_code", "grade"):
        held = per_category.get(rate.category_code)
        if held is None or bool(rate.grade) > bool(held.grade):
            per_category[rate.category_code] = rate
    specific = [rate for code, rate in per_category.items() if code]
    best = max(specific, key=lambda rate: rate.amount) if specific else per_category.get("")
    if best is None:
        message = _("尚未配置{year}年「{method}」的补助标准，请市级先在补助标准中设置").format(
            year=year, method=RenovationMethod(method).label
        )
        raise DomainError(message, errors={"method": message})
    return best
