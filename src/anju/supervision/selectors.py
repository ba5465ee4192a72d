"""Reads of supervision, always scoped, and the annual county assessment (P24).

"Late" for a finding is one condition everywhere (`finding_late_q`), the same as the alert `P3.finding_late`.
The assessment is computed from the system's own figures in grouped queries per county — the number of queries
does not grow with households, cases or people, so it stays fast at a million households.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from anju.audit.models import Event
from anju.core.scope import code_prefix, scope_q
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code

from .models import (
    AssessmentWeights,
    Finding,
    FindingState,
    Measure,
    PlanFiling,
    PlanRound,
    Visit,
)

# -- findings ------------------------------------------------------------------------------------------------------


def finding_late_q(today: dt.date) -> Q:
    """P3: not rectified (accepted) and its deadline (visit end + 7 days) has passed; the deadline day is on time."""
    return Q(due_on__lt=today) & ~Q(state=FindingState.ACCEPTED)


def finding_on_time_q() -> Q:
    """P3: accepted, and the rectification accepted was done by the deadline."""
    return Q(state=FindingState.ACCEPTED, rectified_on__lte=F("due_on"))


@dataclass(frozen=True)
class FindingFilters:
    division: str = ""
    state: str = ""
    severity: str = ""
    visit: int | None = None
    late: bool = False
    open_only: bool = False


def _in_division(qs: QuerySet, code: str) -> QuerySet:
    return qs.filter(scope_q("division_id", code_prefix(code, level_of_code(code))))


def finding_list(user: Any, filters: FindingFilters | None = None, today: dt.date | None = None) -> QuerySet[Finding]:
    filters, today = filters or FindingFilters(), today or dt.date.today()
    qs = Finding.objects.visible_to(user)
    if filters.division:
        qs = _in_division(qs, filters.division)
    if filters.state in FindingState.values:
        qs = qs.filter(state=filters.state)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.visit:
        qs = qs.filter(visit_id=filters.visit)
    if filters.late:
        qs = qs.filter(finding_late_q(today))
    if filters.open_only:
        qs = qs.exclude(state=FindingState.ACCEPTED)
    return qs.select_related("division__parent", "visit", "household").order_by("-fed_back_on", "-id")


def finding_get(user: Any, pk: int) -> Finding:
    finding = (
        Finding.objects.visible_to(user)
        .select_related("division__parent__parent", "visit__division", "household", "case", "created_by")
        .prefetch_related("rectifications__submitted_by", "rectifications__reviewed_by")
        .filter(pk=pk)
        .first()
    )
    if finding is None:
        raise Http404
    return finding


def finding_history(finding: Finding) -> QuerySet[Event]:
    return Event.objects.filter(object_type="supervision.finding", object_id=str(finding.pk)).order_by("id")


# -- visits --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFilters:
    division: str = ""
    level: str = ""
    mode: str = ""
    year: int | None = None


def visit_list(user: Any, filters: VisitFilters | None = None, today: dt.date | None = None) -> QuerySet[Visit]:
    """Visits to the counties in the user's subtree, with their number of findings, open and late ones."""
    filters, today = filters or VisitFilters(), today or dt.date.today()
    qs = Visit.objects.visible_to(user)
    if filters.division:
        qs = _in_division(qs, filters.division)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.mode:
        qs = qs.filter(mode=filters.mode)
    if filters.year:
        qs = qs.filter(starts_on__year=filters.year)
    return (
        qs.select_related("division")
        .annotate(
            finding_count=Count("findings"),
            open_count=Count("findings", filter=~Q(findings__state=FindingState.ACCEPTED)),
            late_count=Count(
                "findings", filter=Q(findings__due_on__lt=today) & ~Q(findings__state=FindingState.ACCEPTED)
            ),
        )
        .order_by("-starts_on", "-id")
    )


def visit_get(user: Any, pk: int) -> Visit:
    visit = Visit.objects.visible_to(user).select_related("division", "created_by").filter(pk=pk).first()
    if visit is None:
        raise Http404
    return visit


def visit_findings(user: Any, visit: Visit) -> QuerySet[Finding]:
    """The visit's findings the user may see (a county sees all; the city, of course, too)."""
    return finding_list(user, FindingFilters(visit=visit.pk))


# -- P16 plans -----------------------------------------------------------------------------------------------------


def round_list(user: Any) -> QuerySet[PlanRound]:
    return PlanRound.objects.visible_to(user).order_by("-year", "-deadline", "-id")


def round_get(user: Any, pk: int) -> PlanRound:
    plan_round = PlanRound.objects.visible_to(user).filter(pk=pk).first()
    if plan_round is None:
        raise Http404
    return plan_round


@dataclass
class FilingRow:
    """One county of a round: its filing, if any, and whether it is late (P16)."""

    county: Division
    filing: PlanFiling | None
    late: bool


def round_counties(user: Any, plan_round: PlanRound, today: dt.date | None = None) -> list[FilingRow]:
    """P16: every county of the round's area in the user's subtree, with its filing (two queries)."""
    today = today or dt.date.today()
    prefix = code_prefix(plan_round.division_id, level_of_code(plan_round.division_id))
    counties = Division.objects.visible_to(user).filter(scope_q("code", prefix), level=Level.COUNTY).order_by("code")
    filings = {
        f.division_id: f
        for f in PlanFiling.objects.visible_to(user).filter(round=plan_round).select_related("filed_by", "reviewed_by")
    }
    overdue = today > plan_round.deadline
    return [FilingRow(c, filings.get(c.code), overdue and not _counts_as_filed(filings.get(c.code))) for c in counties]


def _counts_as_filed(filing: PlanFiling | None) -> bool:
    """P16: a returned plan must be filed again; until then the county has not filed."""
    return filing is not None and filing.status != "returned"


def filing_list(user: Any, *, plan_round: int | None = None, status: str = "") -> QuerySet[PlanFiling]:
    qs = PlanFiling.objects.visible_to(user)
    if plan_round:
        qs = qs.filter(round_id=plan_round)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("round", "division").order_by("-round__year", "round_id", "division_id")


def filing_get(user: Any, pk: int) -> PlanFiling:
    filing = PlanFiling.objects.visible_to(user).select_related("round", "division").filter(pk=pk).first()
    if filing is None:
        raise Http404
    return filing


# -- P24 interviews and accountability -----------------------------------------------------------------------------


def measure_list(user: Any, *, division: str = "", kind: str = "", year: int | None = None) -> QuerySet[Measure]:
    qs = Measure.objects.visible_to(user)
    if division:
        qs = _in_division(qs, division)
    if kind:
        qs = qs.filter(kind=kind)
    if year:
        qs = qs.filter(held_on__year=year)
    return qs.select_related("division").prefetch_related("findings").order_by("-held_on", "-id")


def measure_get(user: Any, pk: int) -> Measure:
    measure = (
        Measure.objects.visible_to(user)
        .select_related("division", "recorded_by")
        .prefetch_related("findings__division")
        .filter(pk=pk)
        .first()
    )
    if measure is None:
        raise Http404
    return measure


# -- P24 the annual county assessment ------------------------------------------------------------------------------

#: Used for a year without weights of its own or of an earlier year.
DEFAULT_WEIGHTS = {
    "check_coverage": 30,
    "cases_on_time": 30,
    "complaints_on_time": 10,
    "findings_on_time": 20,
    "training_coverage": 10,
}


@dataclass(frozen=True)
class MeasureDef:
    key: str
    label: str
    numerator: str
    denominator: str
    formula: str


def measure_defs() -> list[MeasureDef]:
    """Each measure of the assessment with its formula in words: the page and the workbook show these."""
    return [
        MeasureDef(
            "check_coverage",
            _("年度核查覆盖率"),
            _("已核查户数"),
            _("农户数"),
            _("本年度年度核查批次中有核查记录的农户数 ÷ 登记农户数"),
        ),
        MeasureDef(
            "cases_on_time",
            _("台账按期完成率"),
            _("按期户数"),
            _("到期台账数"),
            _(
                "1 − 逾期未完成台账数 ÷ 完成时限在本年度且截至考核日已到期的台账数"
                "（逾期：时限已过仍未竣工或保障安全，与台账“逾期”筛选相同，P19）"
            ),
        ),
        MeasureDef(
            "complaints_on_time",
            _("信访按期答复率"),
            _("按期件数"),
            _("到期信访件数"),
            _("1 − 逾期未答复件数 ÷ 本年度受理且答复期限截至考核日已到的信访件数（P14）"),
        ),
        MeasureDef(
            "findings_on_time",
            _("督导问题按期整改率"),
            _("按期整改数"),
            _("到期问题数"),
            _("督导结束后一周内整改并经验收的问题数 ÷ 整改期限在本年度且截至考核日已到的问题数（P3）"),
        ),
        MeasureDef(
            "training_coverage",
            _("培训覆盖率"),
            _("已培训人数"),
            _("应培训人数"),
            _("本年度签到参加培训的人数 ÷ 应培训人数（村、镇、县级人员，鉴定人员，在册建筑工匠，P17）"),
        ),
    ]


def weights_for(year: int) -> tuple[dict[str, int], AssessmentWeights | None]:
    """The year's weights: its own row, else the latest earlier year's, else `DEFAULT_WEIGHTS`."""
    row = AssessmentWeights.objects.filter(year__lte=year).order_by("-year").first()
    if row is None:
        return dict(DEFAULT_WEIGHTS), None
    return {key: getattr(row, key) for key in DEFAULT_WEIGHTS}, row


@dataclass
class Figure:
    numerator: int = 0
    denominator: int = 0

    @property
    def rate(self) -> float | None:
        """In percent with one decimal; None when there is nothing to measure."""
        if not self.denominator:
            return None
        return round(min(self.numerator, self.denominator) * 100 / self.denominator, 1)

    @property
    def shortfall(self) -> int:
        """What the rate misses: unchecked households, late cases, overdue complaints, late findings, untrained."""
        return max(self.denominator - self.numerator, 0)


@dataclass
class AssessmentRow:
    code: str
    name: str
    figures: dict[str, Figure] = field(default_factory=dict)
    score: float | None = None

    def cells(self, keys: list[str]) -> list[tuple[str, Figure]]:
        return [(key, self.figures[key]) for key in keys]


def assessment_as_of(year: int, today: dt.date | None = None) -> dt.date:
    """The day the figures are taken: today for the current year, 31 December for a past year."""
    today = today or dt.date.today()
    return min(today, dt.date(year, 12, 31))


def score_of(figures: dict[str, Figure], weights: dict[str, int]) -> float | None:
    """P24: Σ(weight × rate) ÷ Σ(weight) over the measures that have something to measure (a county without
    complaints is not marked down or up for them); None when no measure has data."""
    used = [(weights[k], f.rate) for k, f in figures.items() if f.rate is not None and weights.get(k)]
    total = sum(w for w, _r in used)
    if not total:
        return None
    return round(sum(w * r for w, r in used) / total, 1)


def assessment(user: Any, year: int, today: dt.date | None = None) -> dict[str, Any]:
    """P24: the annual assessment of every county in the user's subtree (a county sees its own row only; a town
    or village none), each measure as numerator / denominator / rate, and the weighted score.

    One grouped query per measure (a few more for training), whatever the number of households.
    """
    from anju.accounts.models import User
    from anju.cases.models import Case, Craftsman
    from anju.cases.selectors import late_q
    from anju.complaints.models import Complaint
    from anju.complaints.selectors import overdue_q
    from anju.inspections.models import CampaignKind, CheckRecord
    from anju.registry.models import Household
    from anju.training.selectors import TRAINED_ROLES, trained_exists

    as_of = assessment_as_of(year, today)
    defs = measure_defs()
    weights, weights_row = weights_for(year)
    counties = list(
        Division.objects.visible_to(user).filter(level=Level.COUNTY).order_by("code").values_list("code", "name")
    )
    rows = {code[:6]: AssessmentRow(code, name, {d.key: Figure() for d in defs}) for code, name in counties}
    result = {"year": year, "as_of": as_of, "defs": defs, "weights": weights, "weights_row": weights_row}
    if not rows or not user.division_id:
        return result | {"rows": []}
    where = scope_q("division_id", user.scope_prefix)

    def put(key: str, qs: QuerySet, **measures: Any) -> None:
        """Grouped by the rows' own division code (an index serves it), rolled up to the county in Python."""
        for found in qs.filter(where).order_by().values("division_id").annotate(**measures):
            row = rows.get(found["division_id"][:6])
            if row is not None:
                for name in measures:
                    setattr(row.figures[key], name, getattr(row.figures[key], name) + (found[name] or 0))

    # annual check coverage (P5): households with a check in the year's annual campaign(s) / households
    put("check_coverage", Household.objects.all(), denominator=Count("pk"))
    checks = CheckRecord.objects.filter(campaign__kind=CampaignKind.ANNUAL, campaign__year=year)
    put("check_coverage", checks, numerator=Count("household_id", distinct=True))
    # ledger cases due in the year and by the assessment day; late ones are `late_q` (P19)
    due_cases = Case.objects.filter(due_on__year=year, due_on__lt=as_of)
    put("cases_on_time", due_cases, numerator=Count("pk", filter=~late_q(as_of)), denominator=Count("pk"))
    # complaints received in the year whose reply was due by the assessment day; overdue ones are `overdue_q` (P14)
    due_complaints = Complaint.objects.filter(received_on__year=year, reply_due_on__lt=as_of)
    put("complaints_on_time", due_complaints, numerator=Count("pk", filter=~overdue_q(as_of)), denominator=Count("pk"))
    # supervision findings due in the year by the assessment day (P3)
    due_findings = Finding.objects.filter(due_on__year=year, due_on__lt=as_of)
    put("findings_on_time", due_findings, numerator=Count("pk", filter=finding_on_time_q()), denominator=Count("pk"))
    # training (P17): staff of the trained roles (roles are a list per user: counted here, a few thousand people)
    # and active craftsmen, trained in the year
    staff = (
        User.objects.filter(where, is_active=True)
        .annotate(trained=trained_exists(year))
        .values_list("division_id", "roles", "trained")
    )
    wanted = {str(r) for r in TRAINED_ROLES}
    for code, roles, trained in staff.iterator(chunk_size=2000):
        row = rows.get(code[:6])
        if row is not None and wanted.intersection(roles or []):
            row.figures["training_coverage"].denominator += 1
            row.figures["training_coverage"].numerator += int(bool(trained))
    craftsmen = Craftsman.objects.filter(is_active=True)
    put(
        "training_coverage",
        craftsmen.filter(trained_exists(year, "craftsman")),
        numerator=Count("pk"),
    )
    put("training_coverage", craftsmen, denominator=Count("pk"))
    for row in rows.values():
        row.score = score_of(row.figures, weights)
    return result | {"rows": sorted(rows.values(), key=lambda r: r.code)}
