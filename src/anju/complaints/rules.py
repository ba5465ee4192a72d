"""P14 and P15 alerts: a complaint not answered by its deadline, a public-opinion incident not answered after a day.

"Overdue" is `selectors.overdue_q` and "unanswered" is `selectors.incident_unanswered_q`, the same conditions as
the list filters and the dashboard, so the page and the alert never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.policy.rules import Context, Finding, rule

from .models import Channel, Complaint, OpinionIncident
from .selectors import INCIDENT_RESPONSE_DAYS, incident_unanswered_q, overdue_q


@rule(id="P14.reply_overdue", policy_ids=("P14",), severity="warning", title=gettext_lazy("信访件逾期未答复"))
def reply_overdue(context: Context) -> Iterator[Finding]:
    """P14: the reply deadline (`Complaint.reply_due_on`) has passed and the complainant has not been answered.
    Due on day N means late from day N+1. An incremental refresh looks only at its households' complaints."""
    channels = {code: str(label) for code, label in Channel.choices}
    template = _("{channel}信访件（{received}受理，信访人{name}）应于{due}前答复，已逾期{days}天")
    rows = (
        context.limit(Complaint.objects.filter(overdue_q(context.today)))
        .order_by()
        .values_list("pk", "division_id", "household_id", "reply_due_on", "received_on", "channel", "complainant_name")
    )
    for pk, division, household, due_on, received_on, channel, name in context.rows(rows):
        yield Finding(
            object_type="complaints.complaint",
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=due_on,
            message=template.format(
                channel=channels[channel],
                received=received_on.isoformat(),
                name=name,
                due=due_on.isoformat(),
                days=(context.today - due_on).days,
            ),
        )


@rule(id="P15.opinion_unanswered", policy_ids=("P15",), severity="critical", title=gettext_lazy("舆情超过1天未回应"))
def opinion_unanswered(context: Context) -> Iterator[Finding]:
    """P15: a public-opinion incident found on day N and still unanswered on day N+2 (more than one day). Incidents
    belong to no household, so an incremental refresh (one household's) leaves them alone."""
    if context.household_ids is not None:
        return
    template = _("{found}发现的舆情尚未回应（应在{days}天内回应）：{summary}")
    rows = (
        OpinionIncident.objects.filter(incident_unanswered_q(context.today))
        .order_by()
        .values_list("pk", "division_id", "found_on", "summary")
    )
    for pk, division, found_on, summary in context.rows(rows):
        yield Finding(
            object_type="complaints.opinionincident",
            object_id=pk,
            division_code=division,
            due_on=found_on + dt.timedelta(days=INCIDENT_RESPONSE_DAYS),
            message=template.format(found=found_on.isoformat(), days=INCIDENT_RESPONSE_DAYS, summary=summary[:200]),
        )
