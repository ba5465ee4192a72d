"""Reads of the ledger, always scoped. The ledger page, the API and the exports filter through `case_filter`, so
"late" or "due soon" means the same everywhere (P19)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear, Substr
from django.http import Http404

from anju.audit.models import Event
from anju.core.scope import code_prefix, scope_q
from anju.divisions.services import level_of_code

from .models import RENOVATION_DONE_STATES, Case, CaseSource, CaseState, Renovation, SubsidyPayment

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


# -- funds (P4) ----------------------------------------------------------------------------------------------------
MONEY = DecimalField(max_digits=14, decimal_places=2)


def paid_total() -> Coalesce:
    """A renovation's payments in total (0 when none), as a correlated subquery: one query for all cases. The
    funds page and the P4 over-subsidy rule both use it."""
    payments = (
        SubsidyPayment.objects.filter(case_id=OuterRef("case_id"))
        .order_by()
        .values("case_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(payments, output_field=MONEY), Value(Decimal(0)), output_field=MONEY)


@dataclass
class FundsRow:
    """One county's subsidy money in one year: approved when the case entered the plan, paid when paid, and what
    the cases accepted that year are still owed."""

    county: str
    year: int
    planned: int = 0
    approved: Decimal = Decimal(0)
    payments: int = 0
    paid: Decimal = Decimal(0)
    accepted: int = 0
    owed: Decimal = Decimal(0)
    name: str = ""


def funds_summary(user: Any, *, year: int | None = None) -> list[FundsRow]:
    """P4: subsidy totals per county and year in the user's scope, in three grouped queries (any number of cases).

    Approved = the subsidies of renovations planned that year; paid = payments made that year; owed = approved
    minus paid for the renovations accepted that year (money due to households that finished)."""
    from anju.divisions.models import Division

    county = Substr("division_id", 1, 6)
    rows: dict[tuple[str, int], FundsRow] = {}

    def group(qs: QuerySet, date_field: str, **measures: Any) -> None:
        qs = qs.annotate(county=county, year=ExtractYear(date_field)).filter(**{f"{date_field}__isnull": False})
        if year is not None:
            qs = qs.filter(**{f"{date_field}__year": year})
        for found in qs.order_by().values("county", "year").annotate(**measures):
            row = rows.setdefault((found["county"], found["year"]), FundsRow(found["county"], found["year"]))
            for name in measures:
                setattr(row, name, found[name] or 0)

    planned = Renovation.objects.visible_to(user).filter(subsidy_amount__isnull=False)
    group(planned, "planned_on", planned=Count("pk"), approved=Sum("subsidy_amount"))
    group(SubsidyPayment.objects.visible_to(user), "paid_on", payments=Count("pk"), paid=Sum("amount"))
    accepted = planned.annotate(paid_so_far=paid_total())
    group(accepted, "accepted_on", accepted=Count("pk"), owed=Sum(F("subsidy_amount") - F("paid_so_far")))
    names = dict(Division.objects.filter(code__in=[c.ljust(12, "0") for c, _y in rows]).values_list("code", "name"))
    for row in rows.values():
        row.name = names.get(row.county.ljust(12, "0"), row.county)
    return sorted(rows.values(), key=lambda r: (-r.year, r.county))
