"""Refreshing alerts: each rule's findings become open alerts; alerts no longer found are resolved.

Full refresh (`anju alerts refresh`) evaluates every rule everywhere; services that change a household call
`alerts_refresh_on_commit(household_ids=…)` so only that household's alerts are recomputed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from anju.audit.actions import Action
from anju.audit.services import event_record

from .models import Alert, AlertStatus
from .responsibility import ResponsibilityMap
from .rules import Context, Finding, Rule, all_rules

BATCH = 5000


@dataclass
class RefreshReport:
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    open_by_rule: dict[str, int] = field(default_factory=dict)


def _key(object_type: str, object_id: int, reason: str) -> tuple[str, int, str]:
    return (object_type, int(object_id), reason)


def _refresh_rule(rule: Rule, context: Context, people: ResponsibilityMap, now: dt.datetime) -> RefreshReport:
    report = RefreshReport()
    found: dict[tuple[str, int, str], Finding] = {}
    for finding in rule.evaluate(context):
        found[_key(finding.object_type, finding.object_id, finding.reason)] = finding
    existing_qs = Alert.objects.filter(rule_id=rule.id, status=AlertStatus.OPEN)
    if context.household_ids is not None:
        existing_qs = existing_qs.filter(household_id__in=context.household_ids)
    existing = {
        _key(t, i, r): (pk, msg, due)
        for pk, t, i, r, msg, due in existing_qs.values_list(
            "pk", "object_type", "object_id", "reason", "message", "due_on"
        ).iterator(chunk_size=BATCH)
    }

    gone = [pk for key, (pk, _msg, _due) in existing.items() if key not in found]
    for start in range(0, len(gone), BATCH):
        Alert.objects.filter(pk__in=gone[start : start + BATCH]).update(status=AlertStatus.RESOLVED, resolved_at=now)
    report.resolved = len(gone)

    changed = []
    fresh = []
    for key, finding in found.items():
        if key in existing:
            pk, message, due = existing[key]
            if message != finding.message or due != finding.due_on:
                changed.append(Alert(pk=pk, message=finding.message, due_on=finding.due_on))
            continue
        person = people.for_code(finding.division_code)
        fresh.append(
            Alert(
                rule_id=rule.id,
                policy_ids=list(rule.policy_ids),
                severity=rule.severity,
                object_type=finding.object_type,
                object_id=finding.object_id,
                household_id=finding.household_id,
                division_id=finding.division_code,
                due_on=finding.due_on,
                message=finding.message[:500],
                reason=finding.reason,
                responsible_name=person.name,
                responsible_id=person.user_id,
                opened_at=now,
            )
        )
    Alert.objects.bulk_create(fresh, batch_size=BATCH)
    Alert.objects.bulk_update(changed, ["message", "due_on"], batch_size=BATCH)
    report.opened, report.updated = len(fresh), len(changed)
    report.open_by_rule[rule.id] = len(found)
    return report


@transaction.atomic
def alerts_refresh(
    *,
    today: dt.date | None = None,
    household_ids: Iterable[int] | None = None,
    rule_ids: Iterable[str] | None = None,
    progress: Callable[[Rule], None] | None = None,
) -> RefreshReport:
    """Evaluate the rules (all, or `rule_ids`) for everyone or for `household_ids`, and record the result."""
    context = Context(
        today=today or timezone.localdate(),
        household_ids=frozenset(household_ids) if household_ids is not None else None,
    )
    wanted = set(rule_ids) if rule_ids is not None else None
    people = ResponsibilityMap()
    now = timezone.now()
    total = RefreshReport()
    for rule in all_rules():
        if wanted is not None and rule.id not in wanted:
            continue
        part = _refresh_rule(rule, context, people, now)
        total.opened += part.opened
        total.updated += part.updated
        total.resolved += part.resolved
        total.open_by_rule.update(part.open_by_rule)
        if progress:
            progress(rule)
    if context.household_ids is None:  # incremental refreshes are part of the service that triggered them
        event_record(
            actor=None,
            action=Action.ALERTS_REFRESHED,
            extra={
                "opened": total.opened,
                "updated": total.updated,
                "resolved": total.resolved,
                "open_by_rule": total.open_by_rule,
                "today": context.today,
            },
        )
    return total


def alerts_refresh_on_commit(*, household_ids: Iterable[int]) -> None:
    """Recompute these households' alerts once the caller's transaction has committed."""
    ids = list(household_ids)
    transaction.on_commit(lambda: alerts_refresh(household_ids=ids))
