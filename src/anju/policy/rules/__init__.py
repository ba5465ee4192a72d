"""The rule registry. Each rule module registers itself with `@rule(...)`; importing this package loads them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

#: Rows fetched per round trip when a rule streams a large result (`iterator(chunk_size=CHUNK)`).
CHUNK = 5000


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: the object, where it is, what is due when, and what to tell people."""

    object_type: str  # "registry.household", "inspections.appraisalrequest" …
    object_id: int
    division_code: str
    message: str
    household_id: int | None = None
    due_on: dt.date | None = None
    reason: str = ""  # several reasons may hold for one object (the P7 list says why)


@dataclass(frozen=True)
class Context:
    """What a rule evaluates over: the day, and optionally only some households (incremental refresh)."""

    today: dt.date
    household_ids: frozenset[int] | None = None

    def limit(self, qs: QuerySet, field: str = "household_id") -> QuerySet:
        """`qs` narrowed to the households of an incremental refresh (`field` leads to the household id)."""
        return qs if self.household_ids is None else qs.filter(**{f"{field}__in": sorted(self.household_ids)})

    def rows(self, qs: QuerySet) -> Iterable[Any]:
        """A full refresh streams (`iterator`, a server-side cursor on PostgreSQL); an incremental one fetches its
        few rows in one round trip."""
        return qs.iterator(chunk_size=CHUNK) if self.household_ids is None else qs


@dataclass(frozen=True)
class Rule:
    id: str
    policy_ids: tuple[str, ...]
    severity: str
    title: str
    evaluate: Callable[[Context], Iterable[Finding]]


REGISTRY: dict[str, Rule] = {}


def rule(*, id: str, policy_ids: tuple[str, ...], severity: str, title: Any) -> Callable:
    """Register `evaluate(context) -> Iterable[Finding]` as a rule. Ids are stable: alerts keep them."""

    def register(evaluate: Callable[[Context], Iterable[Finding]]) -> Callable[[Context], Iterable[Finding]]:
        if id in REGISTRY:
            raise ValueError(f"duplicate rule id {id}")
        REGISTRY[id] = Rule(id=id, policy_ids=policy_ids, severity=severity, title=title, evaluate=evaluate)
        return evaluate

    return register


def all_rules() -> list[Rule]:
    from . import loaded  # noqa: F401  (imports every rule module once)

    return list(REGISTRY.values())


def rule_get(rule_id: str) -> Rule | None:
    all_rules()
    return REGISTRY.get(rule_id)
