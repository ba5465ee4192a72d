"""P19: the ledger's deadlines and transitional housing. One finding per case (`cases.case`).

"Late" and "due soon" are `cases.selectors.late_q` / `due_soon_q`, the same conditions as the ledger's 逾期 and
临期 filters, so the page and the alert never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.cases.models import Case, CaseState, TransitionalHousing
from anju.cases.selectors import DUE_SOON_DAYS, due_soon_q, late_q
from anju.registry.models import DANGEROUS_GRADES

from . import Context, Finding, rule

CASE = "cases.case"
STATE_LABELS = dict(CaseState.choices)
COLUMNS = ("pk", "division_id", "household_id", "due_on", "state", "appraised_on", "grade")


def _labels() -> dict[str, str]:
    """State labels translated once per refresh, not once per case."""
    return {code: str(label) for code, label in STATE_LABELS.items()}


def _cases(context: Context, condition: Q):
    return context.limit(Case.objects.filter(condition)).order_by().values_list(*COLUMNS)


@rule(id="P19.case_late", policy_ids=("P19",), severity="critical", title=gettext_lazy("危房改造逾期未竣工"))
def case_late(context: Context) -> Iterator[Finding]:
    """P19: the completion deadline (`Case.due_on`: appraised January–June → 30 November, July–December → 31 May
    next year) has passed and the works are not completed. Due 30 November means late from 1 December."""
    labels = _labels()
    template = _("{appraised}鉴定为{grade}级危房，应于{due}前完成改造，已逾期{days}天，台账状态：{state}")
    rows = _cases(context, late_q(context.today))
    for pk, division, household, due_on, state, appraised_on, grade in context.rows(rows):
        yield Finding(
            object_type=CASE,
            object_id=pk,
            household_id=household,
            division_code=division,
            due_on=due_on,
            message=template.format(
                appraised=appraised_on.isoformat() if appraised_on else "",
                grade=grade,
                due=due_on.isoformat(),
                days=(context.today - due_on).days,
                state=labels[state],
            ),
        )


@rule(id="P19.case_due_soon", policy_ids=("P19",), severity="warning", title=gettext_lazy("危房改造临近完成时限"))
def case_due_soon(context: Context) -> Iterator[Finding]:
    """P19: the completion deadline falls within the next 30 days (`DUE_SOON_DAYS`, the deadline day itself
    included) and the works are not completed. Once the deadline has passed, `P19.case_late` takes over."""
    labels = _labels()
    template = _("应于{due}前完成改造，距完成时限还有{days}天（{within}天内到期），台账状态：{state}")
    rows = _cases(context, due_soon_q(context.today))
    for pk, division, household, due_on, state, _on, _grade in context.rows(rows):
        yield Finding(
            object_type=CASE,
            object_id=pk,
            household_id=household,
            division_code=division,
            due_on=due_on,
            message=template.format(
                due=due_on.isoformat(), days=(due_on - context.today).days, within=DUE_SOON_DAYS, state=labels[state]
            ),
        )


def unsafe_transition_q(context: Context) -> Q:
    """P19: under construction, the household must move out, the house still C/D, and no transitional housing
    confirmed safe that covers `today` (from_on ≤ today ≤ to_on, an open end covering every later day)."""
    covering = TransitionalHousing.objects.filter(
        Q(to_on__isnull=True) | Q(to_on__gte=context.today),
        case_id=OuterRef("pk"),
        safety_confirmed=True,
        from_on__lte=context.today,
    )
    return Q(
        ~Exists(covering),
        state=CaseState.UNDER_CONSTRUCTION,
        renovation__must_move_out=True,
        house__grade__in=DANGEROUS_GRADES,
    )


@rule(
    id="P19.transitional_unsafe",
    policy_ids=("P19",),
    severity="critical",
    title=gettext_lazy("施工期间无安全过渡住房"),
)
def transitional_unsafe(context: Context) -> Iterator[Finding]:
    """P19: during the works the household must not live in the dangerous house. A case under construction whose
    household must move out, whose house is still graded C/D, and which has no transitional housing confirmed
    safe for today raises this alert; recording and confirming one resolves it."""
    rows = context.limit(Case.objects.filter(unsafe_transition_q(context))).order_by()
    rows = rows.values_list("pk", "division_id", "household_id", "due_on", "house__grade")
    template = _("施工期间需搬出，房屋仍为{grade}级危房，尚无经确认安全的过渡住房（完成时限{due}）")
    for pk, division, household, due_on, grade in context.rows(rows):
        yield Finding(
            object_type=CASE,
            object_id=pk,
            household_id=household,
            division_code=division,
            due_on=due_on,
            message=template.format(grade=grade, due=due_on.isoformat() if due_on else "—"),
        )
