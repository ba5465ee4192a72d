"""Reads on alerts and the monitoring list; each starts from `.visible_to(actor)` and owns its query budget.

`actor=None` is the system (a command run without `--as`): it sees everything. Pages and the API always pass
the logged-in user.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Max, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from anju.accounts.models import User
from anju.core.scope import PREFIX_LENGTH
from anju.divisions.models import LEVEL_ORDER, Division
from anju.registry.models import House, Household, HouseholdCategory

from .filters import division_first, filter_alerts, monitoring_alert_filter
from .models import Alert, AlertStatus
from .rules import all_rules
from .rules.monitoring import REASON_ORDER, REASONS, RULE_ID


def _visible(qs: QuerySet, actor: Any) -> QuerySet:
    return qs if actor is None else qs.visible_to(actor)


def _divisions_with_ancestors() -> Prefetch:
    """Village, town and county names in one extra query per page (as the registry lists)."""
    return Prefetch("division", queryset=Division.objects.select_related("parent__parent"))


# -- alerts -----------------------------------------------------------------------------------------------------


def alert_list(*, actor: Any, filters: dict[str, Any] | None = None, today: dt.date | None = None) -> QuerySet[Alert]:
    """Open alerts by default, earliest due first (alerts without a due date last)."""
    qs = _visible(filter_alerts(Alert.objects.all(), filters or {}, actor=actor, today=today), actor)
    return (
        qs.select_related("household")
        .prefetch_related(_divisions_with_ancestors())
        .order_by(F("due_on").asc(nulls_last=True), "id")
    )


def alert_get(*, actor: Any, pk: int) -> Alert:
    """404 outside the actor's subtree, whatever the alert's status."""
    qs = _visible(Alert.objects.all(), actor).select_related("household", "division__parent__parent")
    return get_object_or_404(qs, pk=pk)


def _child_level(division: Division) -> tuple[str | None, int]:
    index = LEVEL_ORDER.index(division.level)
    child_level = LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None
    return child_level, PREFIX_LENGTH[child_level] if child_level else 12


def alert_summary(
    *, actor: Any, division: Division, filters: dict[str, Any] | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """Counts per rule, and per rule for each child division of `division` (every rule, under the other filters).

    One grouped query by the row's own division code and rule, rolled up to the children in Python (as
    `registry.selectors.registry_summary`), plus one query for the children's names.
    """
    data = dict(filters or {}) | {"division": division}
    qs = _visible(filter_alerts(Alert.objects.all(), data, actor=actor, today=today, rule=False), actor)
    child_level, child_len = _child_level(division)
    rules = all_rules()
    rows: dict[str, dict[str, int]] = {}
    totals = {r.id: 0 for r in rules}
    for code, rule_id, n in qs.order_by().values_list("division_id", "rule_id").annotate(n=Count("id")):
        bucket = rows.setdefault(code[:child_len], {})
        bucket[rule_id] = bucket.get(rule_id, 0) + n
        totals[rule_id] = totals.get(rule_id, 0) + n
    children = []
    if child_level:
        for child in _visible(Division.objects.filter(parent=division), actor).order_by("code"):
            counts = rows.get(child.code[:child_len], {})
            children.append((child, [counts.get(r.id, 0) for r in rules], sum(counts.values())))
    return {
        "division": division,
        "rules": [(r, totals.get(r.id, 0)) for r in rules],
        "total": sum(totals.values()),
        "children": children,
        "child_level": child_level,
    }


def responsible_summary(*, actor: Any, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Open alerts in the actor's subtree (under the division filter) counted per responsible person (P18) and
    rule: one GROUP BY query, plus one for the people's own divisions. Most alerts first; nobody named last."""
    qs = _visible(division_first(Alert.objects.filter(status=AlertStatus.OPEN), filters or {}), actor)
    rules = all_rules()
    people: dict[int | None, dict[str, Any]] = {}
    grouped = (
        qs.order_by().values_list("responsible_id", "rule_id").annotate(n=Count("id"), name=Max("responsible_name"))
    )
    for person_id, rule_id, n, name in grouped:
        name = name if person_id is not None else ""  # a deleted user's alerts: nobody answers for them now
        person = people.setdefault(person_id, {"id": person_id, "name": name, "counts": {}, "division": None})
        person["counts"][rule_id] = n
    users = User.objects.filter(pk__in=[pk for pk in people if pk is not None]).select_related("division")
    for user in users:
        people[user.pk]["name"], people[user.pk]["division"] = user.get_full_name(), user.division
    rows = []
    for person in people.values():
        person["per_rule"] = [person["counts"].get(r.id, 0) for r in rules]
        person["total"] = sum(person["counts"].values())
        rows.append(person)
    rows.sort(key=lambda p: (p["id"] is None, -p["total"], p["name"], p["id"] or 0))
    totals = [sum(p["counts"].get(r.id, 0) for p in rows) for r in rules]
    return {"rules": rules, "people": rows, "totals": totals, "total": sum(totals)}


# -- the monitoring list (P7) -----------------------------------------------------------------------------------


def _monitoring_alerts(actor: Any, filters: dict[str, Any]) -> QuerySet[Alert]:
    qs = Alert.objects.filter(monitoring_alert_filter(filters), rule_id=RULE_ID, status=AlertStatus.OPEN)
    return _visible(qs, actor)


def monitoring_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    """P7: one row per household on the list, with its reasons (`monitoring_alerts`, in priority order),
    active categories and houses. The list is the set of open alerts of the P7 rule."""
    filters = filters or {}
    listed = _monitoring_alerts(actor, filters).values("household_id")
    qs = _visible(division_first(Household.objects.all(), filters), actor).filter(pk__in=listed)
    return qs.order_by("division_id", "id").prefetch_related(
        _divisions_with_ancestors(),
        Prefetch(
            "alerts",
            queryset=Alert.objects.filter(rule_id=RULE_ID, status=AlertStatus.OPEN).order_by("id"),
            to_attr="monitoring_alerts",
        ),
        Prefetch(
            "categories",
            queryset=HouseholdCategory.objects.filter(ended_on__isnull=True).select_related("category"),
            to_attr="active_categories",
        ),
        Prefetch("houses", queryset=House.objects.order_by("id"), to_attr="house_list"),
    )


def monitoring_reasons(household: Household) -> list[Alert]:
    """The household's P7 alerts (prefetched by `monitoring_list`) in the order of priority of their reasons."""
    return sorted(household.monitoring_alerts, key=lambda a: (REASON_ORDER.get(a.reason, len(REASONS)), a.id))


def monitoring_counts(*, actor: Any, filters: dict[str, Any] | None = None) -> list[tuple[str, str, int]]:
    """(reason, label, households) for every reason, under the division filter (not the reason filter)."""
    data = {k: v for k, v in (filters or {}).items() if k != "reason"}
    found = dict(_monitoring_alerts(actor, data).order_by().values_list("reason").annotate(n=Count("id")))
    return [(code, str(label), found.get(code, 0)) for code, label in REASONS.items()]
