"""Reads of the ledger, always scoped. The ledger page, the API and the exports filter through `case_filter`, so
"late" or "due soon" means the same everywhere (P19)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from anju.audit.models import Event
from anju.core.scope import code_prefix, scope_q
from anju.divisions.services import level_of_code

from .models import RENOVATION_DONE_STATES, Case, CaseSource, CaseState

#: P19: a case is "due soon" this many days before its completion deadline.
DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class CaseFilters:
    """What the ledger can be narrowed by; every field optional. `late`/`due_soon` are relative to `today`."""

    division: str = ""  # a code: the case lies in its subtree
    state: str = ""
    source: str = ""
    grade: str = ""
    late: bool = False
    due_soon: bool = False
    open_only: bool = False
    responsible: int | None = None
    household: int | None = None
    q: str = ""  # household head's name, exact prefix


def late_q(today: dt.date) -> Q:
    """P19: the deadline has passed and the works are not completed (nor the household safe by other means)."""
    return Q(due_on__lt=today) & ~Q(state__in=RENOVATION_DONE_STATES)


def due_soon_q(today: dt.date) -> Q:
    """P19: the deadline falls within the next DUE_SOON_DAYS days and the works are not completed."""
    return Q(due_on__gte=today, due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS)) & ~Q(
        state__in=RENOVATION_DONE_STATES
    )


def is_late(case: Case, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    return bool(case.due_on and case.due_on < today and case.state not in RENOVATION_DONE_STATES)


def cases_visible(user: Any) -> QuerySet[Case]:
    return Case.objects.visible_to(user)


def case_filter(qs: QuerySet[Case], filters: CaseFilters, today: dt.date | None = None) -> QuerySet[Case]:
    today = today or dt.date.today()
    if filters.division:
        qs = qs.filter(scope_q("division_id", code_prefix(filters.division, level_of_code(filters.division))))
    if filters.state in CaseState.values:
        qs = qs.filter(state=filters.state)
    if filters.open_only:
        qs = qs.exclude(state__in=[CaseState.CLOSED, CaseState.CANCELLED])
    if filters.source in CaseSource.values:
        qs = qs.filter(source=filters.source)
    if filters.grade in ("A", "B", "C", "D"):
        qs = qs.filter(grade=filters.grade)
    if filters.late:
        qs = qs.filter(late_q(today))
    if filters.due_soon:
        qs = qs.filter(due_soon_q(today))
    if filters.responsible:
        qs = qs.filter(responsible_id=filters.responsible)
    if filters.household:
        qs = qs.filter(household_id=filters.household)
    if filters.q.strip():
        qs = qs.filter(household__head_name__startswith=filters.q.strip())
    return qs


class PagedCases:
    """The ledger's rows for a paginator: a page is sorted on the case table alone and only its rows are joined.

    Sliced, it answers `rows WHERE id IN (ids of the case table, sorted, LIMIT/OFFSET)` — still one query, so the
    page costs what it did. At city scale SQLite otherwise joins every case of the scope to its household, house,
    renovation and divisions before sorting (30,000 cases: page 1 110 ms → 15 ms, page 100 210 ms → 21 ms;
    docs/BENCHMARKS.md "危房台账"). Iterated whole or counted, it is the queryset itself.
    """

    def __init__(self, rows: QuerySet[Case]):
        self.rows = rows

    def all(self) -> PagedCases:
        return self

    def count(self) -> int:
        return self.rows.count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Case]:
        return iter(self.rows)

    def __getitem__(self, index: int | slice) -> Any:
        if not isinstance(index, slice):
            return self.rows[index]
        return self.rows.filter(pk__in=self.rows.values("pk")[index])


def case_list(user: Any, filters: CaseFilters | None = None) -> PagedCases:
    """The user's ledger, filtered, with what a list row shows (no query per row), ready for a paginator."""
    qs = case_filter(cases_visible(user), filters or CaseFilters())
    return PagedCases(
        qs.select_related("household", "house", "division__parent__parent", "renovation").order_by("-opened_on", "-id")
    )


def case_get(user: Any, pk: int) -> Case:
    """One case of the user's subtree with everything its page shows, or 404 (out of scope looks like absent)."""
    case = (
        cases_visible(user)
        .select_related(
            "household", "house", "division__parent__parent", "appraisal", "appraisal_request", "responsible",
            "renovation__builder", "renovation__subsidy_rate",
        )
        .prefetch_related("signoffs", "visits__visitor", "photos", "transitional_housing", "payments")
        .filter(pk=pk)
        .first()
    )  # fmt: skip
    if case is None:
        raise Http404
    return case


def case_history(case: Case) -> QuerySet[Event]:
    """Every event of the case, oldest first: its moves, sign-offs, visits, payments, photos."""
    return Event.objects.filter(object_type="cases.case", object_id=str(case.pk)).order_by("id")
