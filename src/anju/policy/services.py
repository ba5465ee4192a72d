"""Refreshing alerts: each rule's findings become open alerts; alerts no longer found are resolved.

Full refresh (`anju alerts refresh`) evaluates every rule everywhere; services that change a household call
`alerts_refresh_on_commit(household_ids=…)` so only that household's alerts are recomputed once their
transaction commits.

The refresh streams: a rule's open alerts are loaded as (key → primary key, digest of what is shown), the
rule's findings are compared one by one as they come, and new rows are written in batches by COPY
(PostgreSQL) or `executemany` (SQLite) — `bulk_create` is ten times slower at a million rows (DESIGN.md "Stack").
Memory stays proportional to the number of open alerts of one rule, not to their text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.scope import code_prefix, scope_q
from anju.divisions.services import level_of_code

from .models import Alert, AlertStatus
from .responsibility import ResponsibilityMap
from .rules import Context, Finding, Rule, all_rules, rule_get

logger = logging.getLogger(__name__)

BATCH = 5000
#: An incremental refresh of more households than this (a large import) becomes one full refresh.
INCREMENTAL_MAX = 2000
#: Serialises refreshes on PostgreSQL (two refreshes inserting the same open alert would collide on the unique
#: index). SQLite needs nothing: its IMMEDIATE transactions already take the write lock at BEGIN.
ADVISORY_LOCK = 0x616E6A75  # "anju"
WORK_MEM = "128MB"
#: A full refresh that opened or resolved this many alerts refreshes the table's planner statistics.
ANALYZE_AFTER = 10_000
#: The rule about the chain itself: re-evaluated when the chain changes (`alerts_reassign`) and by a full refresh.
UNASSIGNED_RULE = "P18.unassigned"
#: Rules no household change can affect: an incremental refresh skips them (not even their open alerts are read).
NOT_PER_HOUSEHOLD = frozenset({UNASSIGNED_RULE})

Progress = Callable[[Rule, int], None]
SEEN = None  # marks an open alert whose finding came up again in this refresh


@dataclass
class RuleReport:
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    open: int = 0  # open alerts of the rule (in the refreshed households) afterwards
    seconds: float = 0.0  # full refresh: evaluating, writing and committing the rule


@dataclass
class RefreshReport:
    today: dt.date | None = None
    rules: dict[str, RuleReport] = field(default_factory=dict)

    @property
    def opened(self) -> int:
        return sum(r.opened for r in self.rules.values())

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.rules.values())

    @property
    def resolved(self) -> int:
        return sum(r.resolved for r in self.rules.values())

    @property
    def open_by_rule(self) -> dict[str, int]:
        return {rule_id: r.open for rule_id, r in self.rules.items()}


# -- writing ----------------------------------------------------------------------------------------------------

INSERT_COLUMNS = (
    "rule_id",
    "policy_ids",
    "severity",
    "object_type",
    "object_id",
    "household_id",
    "division_code",
    "due_on",
    "message",
    "reason",
    "responsible_name",
    "responsible_id",
    "status",
    "opened_at",
)
#: What a refresh may change on an open alert (everything shown that a rule or the chain decides).
STATE_COLUMNS = ("message", "due_on", "division_code", "household_id", "responsible_id", "responsible_name")


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in columns)


def _insert(rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({_quoted(INSERT_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(INSERT_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({_quoted(INSERT_COLUMNS)}) VALUES ({marks})", rows)


def _update(rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows are the STATE_COLUMNS values followed by the primary key."""
    if not rows:
        return
    table = connection.ops.quote_name(Alert._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in STATE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", rows)


def _resolve(pks: list[int], now: dt.datetime) -> None:
    for start in range(0, len(pks), BATCH):
        Alert.objects.filter(pk__in=pks[start : start + BATCH]).update(status=AlertStatus.RESOLVED, resolved_at=now)


def _analyze() -> None:
    """Fresh planner statistics after a large change. Without them SQLite guessed that `rule_id` and `status`
    narrow more than `household_id` and read every open P7 alert to prefetch one page's (0.3 s, not 1 ms)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Alert._meta.db_table)}")


def _begin() -> None:
    """First statements of a refresh transaction on PostgreSQL: take the refresh lock, and give the rules'
    queries room to hash and sort in memory (P7 groups 600,000 B-grade houses by household at a million
    households; with the default 4 MB work_mem, a `NOT IN (subquery)` of 900,000 checks was no longer a hashed
    subplan and rescanned the list for every household)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")


# -- one rule ---------------------------------------------------------------------------------------------------


def _existing(rule: Rule, context: Context) -> dict[tuple[str, int, str], tuple[int, int | None]]:
    """The rule's open alerts (in the refreshed households): key → (primary key, digest of the shown state)."""
    qs = Alert.objects.filter(rule_id=rule.id, status=AlertStatus.OPEN)
    if context.household_ids is not None:
        qs = qs.filter(household_id__in=sorted(context.household_ids))
    intern = sys.intern
    found: dict[tuple[str, int, str], tuple[int, int | None]] = {}
    rows = qs.order_by().values_list(
        "pk", "object_type", "object_id", "reason", "message", "due_on", "division_id", "household_id",
        "responsible_id", "responsible_name",
    )  # fmt: skip
    for pk, object_type, object_id, reason, *state in context.rows(rows):
        found[(intern(object_type), object_id, intern(reason))] = (pk, hash(tuple(state)))
    return found


def _refresh_rule(
    rule: Rule, context: Context, people: ResponsibilityMap, now: dt.datetime, progress: Progress | None
) -> RuleReport:
    report = RuleReport()
    existing = _existing(rule, context)
    ops = connection.ops
    policy_ids = json.dumps(list(rule.policy_ids))
    opened_at = ops.adapt_datetimefield_value(now)
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    inserted: set[tuple[str, int, str]] = set()
    pending = 0

    def flush() -> None:
        nonlocal pending
        _insert(inserts)
        _update(updates)
        report.opened += len(inserts)
        report.updated += len(updates)
        inserts.clear()
        updates.clear()
        if progress:
            progress(rule, pending)
        pending = 0

    finding: Finding
    for finding in rule.evaluate(context):
        key = (finding.object_type, int(finding.object_id), finding.reason)
        person = people.for_code(finding.division_code, finding.household_id)
        state = (
            finding.message[:500],
            finding.due_on,
            finding.division_code,
            finding.household_id,
            person.user_id,
            person.name,
        )
        old = existing.get(key)
        pending += 1
        if old is not None:
            if old[1] is not SEEN:  # a rule naming one object twice: the first finding wins
                existing[key] = (old[0], SEEN)
                report.open += 1
                if old[1] != hash(state):
                    updates.append((state[0], ops.adapt_datefield_value(state[1]), *state[2:], old[0]))
        elif key not in inserted:
            inserted.add(key)
            report.open += 1
            inserts.append(
                (
                    rule.id, policy_ids, rule.severity, finding.object_type, finding.object_id,
                    finding.household_id, finding.division_code, ops.adapt_datefield_value(finding.due_on),
                    state[0], finding.reason, person.name, person.user_id, AlertStatus.OPEN.value, opened_at,
                )
            )  # fmt: skip
        if len(inserts) + len(updates) >= BATCH:
            flush()
    flush()
    gone = [pk for pk, digest in existing.values() if digest is not SEEN]  # open alerts no longer found
    _resolve(gone, now)
    report.resolved = len(gone)
    return report


# -- entry points -----------------------------------------------------------------------------------------------


def alerts_refresh(
    *,
    today: dt.date | None = None,
    household_ids: Iterable[int] | None = None,
    rule_ids: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> RefreshReport:
    """Evaluate the rules (all, or `rule_ids`) for everyone or for `household_ids`, and record the result.

    A full refresh commits rule by rule (each rule's alerts always consistent, the write lock held for one rule
    at a time) and records one audit event; an incremental refresh is one short transaction and records none:
    it only recomputes what a service that was audited has changed.
    """
    context = Context(
        today=today or timezone.localdate(),
        household_ids=frozenset(int(pk) for pk in household_ids) if household_ids is not None else None,
    )
    rules = all_rules()
    if rule_ids is not None:
        wanted = set(rule_ids)
        unknown = wanted - {r.id for r in rules}
        if unknown:
            raise ValueError(f"unknown rule ids: {sorted(unknown)}")
        rules = [r for r in rules if r.id in wanted]
    now = timezone.now()
    report = RefreshReport(today=context.today)
    if context.household_ids is not None:
        if not context.household_ids:
            return report
        with transaction.atomic():
            _begin()
            people = ResponsibilityMap(household_ids=context.household_ids)
            for rule in rules:
                if rule.id in NOT_PER_HOUSEHOLD:
                    continue
                report.rules[rule.id] = _refresh_rule(rule, context, people, now, progress)
        return report

    people = ResponsibilityMap()
    for rule in rules:
        if progress:
            progress(rule, 0)
        started = time.monotonic()
        with transaction.atomic():
            _begin()
            report.rules[rule.id] = _refresh_rule(rule, context, people, now, progress)
        report.rules[rule.id].seconds = time.monotonic() - started  # the commit included
    if report.opened + report.resolved >= ANALYZE_AFTER:
        _analyze()
    with transaction.atomic():
        event_record(
            actor=None,
            action=Action.ALERTS_REFRESHED,
            extra={
                "today": context.today,
                "rules": {
                    rule_id: {"opened": r.opened, "updated": r.updated, "resolved": r.resolved, "open": r.open}
                    for rule_id, r in report.rules.items()
                },
            },
        )
    return report


def alerts_reassign(*, code: str, household_id: int | None = None) -> int:
    """P18: the chain changed for the division `code` (or for one household): its open alerts name the chain's
    person again, and `P18.unassigned` is refreshed. Only the responsible person changes, so no rule is evaluated
    but that one. Runs once the assignment service has committed; returns the number of alerts re-named."""
    alerts = Alert.objects.filter(status=AlertStatus.OPEN)
    if household_id is not None:
        alerts = alerts.filter(household_id=household_id)
        people = ResponsibilityMap(household_ids=[household_id])
    else:
        prefix = code_prefix(code, level_of_code(code))
        alerts = alerts.filter(scope_q("division_id", prefix))
        people = ResponsibilityMap(prefix=prefix)
    with transaction.atomic():
        _begin()
        rows = alerts.order_by().values_list("pk", "division_id", "household_id", "responsible_id", "responsible_name")
        changed = []
        for pk, division, household, user_id, name in list(rows):
            person = people.for_code(division, household)
            if (person.user_id, person.name) != (user_id, name):
                changed.append((person.user_id, person.name, pk))
        table = connection.ops.quote_name(Alert._meta.db_table)
        with connection.cursor() as cursor:
            for start in range(0, len(changed), BATCH):
                cursor.executemany(
                    f"UPDATE {table} SET responsible_id = %s, responsible_name = %s WHERE id = %s",
                    changed[start : start + BATCH],
                )
        unassigned = rule_get(UNASSIGNED_RULE)
        if household_id is None and unassigned is not None:
            _refresh_rule(unassigned, Context(today=timezone.localdate()), people, timezone.now(), None)
    return len(changed)


class _PendingRefresh:
    """The on-commit callback of one transaction: collects the households its services touched."""

    def __init__(self) -> None:
        self.household_ids: set[int] = set()
        self.ran = False
        self.__qualname__ = "alerts_refresh_on_commit"  # Django logs a failing callback by its __qualname__

    def __call__(self) -> None:
        self.ran = True
        deferred = _DEFERRED.get()
        if deferred is not None:
            deferred |= self.household_ids
        else:
            _refresh_households(self.household_ids)


def _refresh_households(household_ids: set[int]) -> None:
    if len(household_ids) > INCREMENTAL_MAX:
        alerts_refresh()
    else:
        alerts_refresh(household_ids=household_ids)


_DEFERRED: ContextVar[set[int] | None] = ContextVar("anju_alerts_deferred", default=None)


@contextmanager
def alerts_refresh_deferred() -> Iterator[None]:
    """Many services in a row (the demo writes hundreds): the households their commits touched are refreshed
    once when the block ends, not after each commit."""
    households: set[int] = set()
    token = _DEFERRED.set(households)
    try:
        yield
    finally:
        _DEFERRED.reset(token)
        _refresh_households(households)


def alerts_refresh_on_commit(*, household_ids: Iterable[int]) -> None:
    """Recompute these households' alerts once the caller's transaction has committed.

    All calls inside one transaction share one refresh (an import touching ten thousand households refreshes
    once, not ten thousand times). A failing refresh is logged, not raised: the service's change stands and
    the next refresh catches up.
    """
    ids = {int(pk) for pk in household_ids if pk is not None}
    if not ids:
        return
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        for _sids, callback, _robust in conn.run_on_commit:
            if isinstance(callback, _PendingRefresh) and not callback.ran:
                callback.household_ids |= ids
                return
    pending = _PendingRefresh()
    pending.household_ids |= ids
    transaction.on_commit(pending, robust=True)
