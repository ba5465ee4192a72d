"""P10 alert: a household confirmed in writing that it wants its house renovated, and no ledger case has been opened
for it. The condition is the list filter's (`selectors.stalled_q`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.policy.rules import Context, Finding, rule

from .models import Tracking
from .selectors import REAPPLICATION_DAYS, stalled_q


@rule(
    id="P10.reapplication_stalled",
    policy_ids=("P10",),
    severity="warning",
    title=gettext_lazy("重新申请已确认改造意愿但未纳入台账"),
)
def reapplication_stalled(context: Context) -> Iterator[Finding]:
    """P10: once the household confirms its wish, the county puts it into the plan. Confirmed on day 0, the case is
    due by day 30 (`REAPPLICATION_DAYS`) and the alert is raised from day 31."""
    template = _("{name}户已于{day}签字确认改造意愿（签字人：{signer}），{days}天内应登记台账纳入改造计划，至今未登记")
    rows = (
        context.limit(Tracking.objects.filter(stalled_q(context.today)))
        .order_by()
        .values_list("pk", "division_id", "household_id", "household__head_name", "wish_confirmed_on", "wish_signed_by")
    )
    for pk, division, household, name, confirmed_on, signer in context.rows(rows):
        yield Finding(
            object_type="returns.tracking",
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=confirmed_on + dt.timedelta(days=REAPPLICATION_DAYS),
            message=template.format(name=name, day=confirmed_on.isoformat(), signer=signer, days=REAPPLICATION_DAYS),
        )
