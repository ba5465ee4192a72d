"""P16 and P3: a county that has not filed its implementation plan after the round's deadline, and a supervision
finding not rectified within one week after the visit ended."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.core.scope import code_prefix, scope_q
from anju.divisions.models import Division, Level
from anju.divisions.services import level_of_code
from anju.policy.rules import Context, Finding, rule

from .models import FilingStatus, PlanFiling, PlanRound
from .models import Finding as SupervisionFinding
from .selectors import finding_late_q

ROUND = "supervision.planround"
FINDING = "supervision.finding"


@rule(id="P16.plan_not_filed", policy_ids=("P16",), severity="warning", title=gettext_lazy("实施方案逾期未备案"))
def plan_not_filed(context: Context) -> Iterator[Finding]:
    """P16: after a round's deadline (the deadline day itself is not late), each county of the round's area that
    has no filing, or whose plan the city returned and that has not filed again. One alert per round and county
    (`reason` is the county code). No household is involved: an incremental refresh leaves it alone."""
    if context.household_ids is not None:
        return
    template = _("「{round}」要求{deadline}前报送实施方案，{county}尚未备案，已逾期{days}天")
    returned = _("「{round}」要求{deadline}前报送实施方案，{county}的方案已被退回，尚未重新报送，已逾期{days}天")
    for plan_round in PlanRound.objects.filter(deadline__lt=context.today).order_by("id"):
        prefix = code_prefix(plan_round.division_id, level_of_code(plan_round.division_id))
        statuses = dict(PlanFiling.objects.filter(round=plan_round).values_list("division_id", "status"))
        counties = Division.objects.filter(scope_q("code", prefix), level=Level.COUNTY).order_by("code")
        for code, name in counties.values_list("code", "name"):
            status = statuses.get(code)
            if status is not None and status != FilingStatus.RETURNED:
                continue
            yield Finding(
                object_type=ROUND,
                object_id=plan_round.pk,
                division_code=code,
                due_on=plan_round.deadline,
                reason=code,
                message=(returned if status else template).format(
                    round=plan_round.title,
                    deadline=plan_round.deadline.isoformat(),
                    county=name,
                    days=(context.today - plan_round.deadline).days,
                ),
            )


@rule(id="P3.finding_late", policy_ids=("P3",), severity="critical", title=gettext_lazy("督导问题逾期未整改"))
def finding_late(context: Context) -> Iterator[Finding]:
    """P3: a finding not rectified and accepted by its deadline, one week after the visit ended (day 7 is on time,
    day 8 late). A finding about a household is refreshed with that household; the others by a full refresh."""
    template = _("督导反馈问题应于{due}前整改到位，已逾期{days}天（{state}）：{text}")
    labels = {k: str(v) for k, v in SupervisionFinding._meta.get_field("state").choices}
    rows = context.limit(SupervisionFinding.objects.filter(finding_late_q(context.today))).order_by()
    columns = ("pk", "division_id", "household_id", "due_on", "state", "description")
    for pk, division, household, due_on, state, text in context.rows(rows.values_list(*columns)):
        yield Finding(
            object_type=FINDING,
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=due_on,
            message=template.format(
                due=due_on.isoformat(), days=(context.today - due_on).days, state=labels[state], text=text[:100]
            ),
        )
