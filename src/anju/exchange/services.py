"""Applying the findings of a department comparison (P6) after review, and closing registration tasks.

Each apply is one batch: the registry rows are written in bulk and one audit event (COMPARISON_APPLIED) names the
comparison, the result set and the counts, so a county applying ten thousand findings writes one event, not ten
thousand. Applied findings carry who and when; applying again finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.core.scope import in_scope
from anju.divisions.models import Level
from anju.policy.services import alerts_refresh_on_commit
from anju.registry.models import Household, HouseholdCategory, TargetCategory

from .models import Comparison, ComparisonItem, ComparisonSet, RegistrationTask, RunStatus, TaskStatus

CHUNK = 1000
APPLY_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY)


def _require_manager(actor: Any) -> None:
    """Findings change certified categories: a county manager (or above) decides, not a town or village."""
    if actor is None:
        return
    require_action(actor, "exchange.apply")
    if actor.division.level not in APPLY_LEVELS:
        raise PermissionDenied(_("比对结果须由县级及以上管理员处理"))


def _lock(actor: Any, comparison: Comparison) -> Comparison:
    comparison = Comparison.objects.select_for_update().select_related("division").get(pk=comparison.pk)
    if actor is not None and not in_scope(comparison.division_id, actor.scope_prefix):
        raise ScopeError(_("该比对不在您的管辖范围内"))
    if comparison.status != RunStatus.DONE:
        raise DomainError(_("比对尚未完成，不能处理结果"))
    return comparison


def _pending(comparison: Comparison, result: str, item_ids: Iterable[int] | None) -> QuerySet[ComparisonItem]:
    items = ComparisonItem.objects.filter(comparison=comparison, result=result, applied_at__isnull=True)
    if item_ids is not None:
        items = items.filter(pk__in=list(item_ids))
    return items.order_by("id")


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _finish(actor: Any, comparison: Comparison, result: str, item_pks: list[int], **counts: int) -> dict[str, int]:
    now = timezone.now()
    by = actor if getattr(actor, "pk", None) else None
    for chunk in _chunks(item_pks):
        ComparisonItem.objects.filter(pk__in=chunk).update(applied_at=now, applied_by=by)
    summary = {"items": len(item_pks), **counts}
    if item_pks:
        event_record(
            actor=actor,
            action=Action.COMPARISON_APPLIED,
            obj=comparison,
            division_code=comparison.division_id,
            extra={"result": result} | summary,
        )
    return summary


def _apply_categories(actor: Any, comparison: Comparison, item_ids: Iterable[int] | None) -> dict[str, int]:
    rows = list(
        _pending(comparison, ComparisonSet.CATEGORY_MISSING, item_ids).values_list(
            "pk", "household_id", "category_code", "certified_on", "household__division_id"
        )
    )
    categories = {c.code: c for c in TargetCategory.objects.all()}
    active: set[tuple[int, int]] = set()
    for chunk in _chunks([r[1] for r in rows if r[1]]):
        memberships = HouseholdCategory.objects.filter(household_id__in=chunk, ended_on__isnull=True)
        active.update(memberships.values_list("household_id", "category_id"))
    new = []
    for _pk, household_id, code, certified_on, village in rows:
        category = categories.get(code)
        if household_id is None or category is None or (household_id, category.pk) in active:
            continue  # household since removed, or the category already added by hand: nothing to add
        active.add((household_id, category.pk))
        new.append(
            HouseholdCategory(
                household_id=household_id, category=category, certified_on=certified_on, division_id=village
            )
        )
    HouseholdCategory.objects.bulk_create(new, batch_size=CHUNK)
    alerts_refresh_on_commit(household_ids=[m.household_id for m in new])  # P7: categories put households on the list
    return _finish(actor, comparison, ComparisonSet.CATEGORY_MISSING, [r[0] for r in rows], added=len(new))


def _apply_ended(actor: Any, comparison: Comparison, item_ids: Iterable[int] | None) -> dict[str, int]:
    """End each membership the list no longer has on the day of the comparison (not before its certification)."""
    ended_on: dt.date = timezone.localdate(comparison.created_at)
    rows = list(
        _pending(comparison, ComparisonSet.NO_LONGER_LISTED, item_ids).values_list(
            "pk", "household_id", "category_code"
        )
    )
    categories = dict(TargetCategory.objects.values_list("code", "pk"))
    wanted = {(h, categories.get(code)) for _pk, h, code in rows if h}
    to_end: list[int] = []
    households: set[int] = set()
    for chunk in _chunks(sorted({h for h, _c in wanted})):
        memberships = HouseholdCategory.objects.filter(household_id__in=chunk, ended_on__isnull=True)
        for pk, household_id, category_id, certified_on in memberships.values_list(
            "pk", "household_id", "category_id", "certified_on"
        ):
            if (household_id, category_id) in wanted and (certified_on is None or certified_on <= ended_on):
                to_end.append(pk)
                households.add(household_id)
    for chunk in _chunks(to_end):
        HouseholdCategory.objects.filter(pk__in=chunk).update(ended_on=ended_on)
    alerts_refresh_on_commit(household_ids=households)  # P7
    return _finish(actor, comparison, ComparisonSet.NO_LONGER_LISTED, [r[0] for r in rows], ended=len(to_end))


def _apply_tasks(actor: Any, comparison: Comparison, item_ids: Iterable[int] | None) -> dict[str, int]:
    """One open task per person for the village the list names (else the comparison's division)."""
    rows = list(
        _pending(comparison, ComparisonSet.NOT_IN_REGISTRY, item_ids).values_list(
            "pk", "id_hash", "name", "id_masked", "id_cipher", "category_code", "division_id"
        )
    )
    hashes = sorted({r[1] for r in rows})
    taken: set[str] = set()
    for chunk in _chunks(hashes):
        taken.update(Household.objects.filter(id_hash__in=chunk).values_list("id_hash", flat=True))
        open_tasks = RegistrationTask.objects.filter(id_hash__in=chunk, status=TaskStatus.OPEN)
        taken.update(open_tasks.values_list("id_hash", flat=True))
    tasks = []
    for _pk, id_hash, name, masked, cipher, code, division in rows:
        if id_hash in taken:
            continue  # registered meanwhile (or elsewhere), or a task is already open for this person
        taken.add(id_hash)
        tasks.append(
            RegistrationTask(
                name=name,
                id_masked=masked,
                id_hash=id_hash,
                id_cipher=cipher,
                category_code=code,
                source=comparison.source,
                comparison=comparison,
                division_id=division,
            )
        )
    RegistrationTask.objects.bulk_create(tasks, batch_size=CHUNK)
    return _finish(actor, comparison, ComparisonSet.NOT_IN_REGISTRY, [r[0] for r in rows], tasks=len(tasks))


APPLIERS = {
    ComparisonSet.CATEGORY_MISSING: _apply_categories,
    ComparisonSet.NO_LONGER_LISTED: _apply_ended,
    ComparisonSet.NOT_IN_REGISTRY: _apply_tasks,
}


@transaction.atomic(durable=True)
def comparison_apply_categories(
    *, actor: Any, comparison: Comparison, item_ids: Iterable[int] | None = None
) -> dict[str, int]:
    """P6: add the list's category (with its certification date) to households that lack it."""
    _require_manager(actor)
    return _apply_categories(actor, _lock(actor, comparison), item_ids)


@transaction.atomic(durable=True)
def comparison_apply_ended(
    *, actor: Any, comparison: Comparison, item_ids: Iterable[int] | None = None
) -> dict[str, int]:
    """P6: end the categories the certifying department no longer lists."""
    _require_manager(actor)
    return _apply_ended(actor, _lock(actor, comparison), item_ids)


@transaction.atomic(durable=True)
def comparison_apply_tasks(
    *, actor: Any, comparison: Comparison, item_ids: Iterable[int] | None = None
) -> dict[str, int]:
    """P6: people on the list but not in the registry become registration tasks for their village."""
    _require_manager(actor)
    return _apply_tasks(actor, _lock(actor, comparison), item_ids)


@transaction.atomic(durable=True)
def comparison_apply_all(*, actor: Any, comparison: Comparison, results: Iterable[str]) -> dict[str, dict[str, int]]:
    """Several result sets in one transaction (the command's `--apply`): all of them are applied, or none."""
    _require_manager(actor)
    comparison = _lock(actor, comparison)
    unknown = [r for r in results if r not in APPLIERS]
    if unknown:
        raise DomainError(_("这类比对结果不能自动处理：{sets}").format(sets="、".join(unknown)))
    return {result: APPLIERS[result](actor, comparison, None) for result in results}


@transaction.atomic(durable=True)
def task_close(
    *, actor: Any, task: RegistrationTask, status: str, note: str = "", household: Household | None = None
) -> RegistrationTask:
    """The village closes a task: registered (linked to the household, found by the ID if not given) or
    checked and not to be registered (with the reason)."""
    if actor is not None:
        require_action(actor, "exchange.task")
    task = RegistrationTask.objects.select_for_update().get(pk=task.pk)
    if actor is not None and not in_scope(task.division_id, actor.scope_prefix):
        raise ScopeError(_("该任务不在您的管辖范围内"))
    if task.status != TaskStatus.OPEN:
        raise ConflictError(_("该任务已处理"))
    note = (note or "").strip()
    if status == TaskStatus.DISMISSED:
        if not note:
            raise DomainError(_("请填写无需登记的原因"), errors={"note": _("请填写无需登记的原因")})
    elif status == TaskStatus.DONE:
        household = household or Household.objects.filter(id_hash=task.id_hash).first()
        if household is None or household.id_hash != task.id_hash:
            raise DomainError(
                _("系统内还没有以此身份证号码登记的农户，请先登记"),
                errors={"household": _("请先登记该农户")},
            )
        task.household = household
    else:
        raise DomainError(_("处理结果无效"), errors={"status": _("处理结果无效")})
    task.status = status
    task.note = note[:500]
    task.closed_at = timezone.now()
    task.save(update_fields=["status", "note", "household", "closed_at"])
    event_record(
        actor=actor,
        action=Action.TASK_CLOSED,
        obj=task,
        division_code=task.division_id,
        after={"status": status, "note": task.note, "household": task.household_id},
    )
    return task
