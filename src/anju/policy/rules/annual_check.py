"""P5: every household is checked once a year (March–April); one not checked by the deadline is late."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.inspections.models import Campaign, CampaignKind
from anju.inspections.selectors import campaign_unchecked

from . import Context, Finding, rule

#: Annual campaigns that ended longer ago than this are history: their late households no longer alert.
LOOKBACK = dt.timedelta(days=365)


def _deadline(day: dt.date) -> str:
    return _("{month}月{day}日").format(month=day.month, day=day.day)


@rule(
    id="P5.annual_check",
    policy_ids=("P5",),
    severity="warning",
    title=gettext_lazy("年度核查逾期未核查"),
)
def annual_check(context: Context) -> Iterator[Finding]:
    """P5: households targeted by an annual campaign whose deadline (`ends_on`, normally 30 April) has passed
    with no check record in it. On the deadline itself nothing is late yet; the day after, every unchecked
    household is. "Unchecked" is `inspections.selectors.campaign_unchecked`, the same definition the campaign
    progress uses. Only campaigns that ended within the last year count."""
    campaigns = Campaign.objects.filter(
        kind=CampaignKind.ANNUAL, ends_on__lt=context.today, ends_on__gte=context.today - LOOKBACK
    ).select_related("division")
    for campaign in campaigns.order_by("ends_on", "id"):
        message = _("{year}年度核查截止{deadline}，该户尚未核查").format(
            year=campaign.year, deadline=_deadline(campaign.ends_on)
        )
        reason = f"campaign:{campaign.pk}"
        late = context.limit(campaign_unchecked(campaign), "pk").order_by().values_list("pk", "division_id")
        for pk, division in context.rows(late):
            yield Finding(
                object_type="registry.household",
                object_id=pk,
                household_id=pk,
                division_code=division,
                due_on=campaign.ends_on,
                message=message,
                reason=reason,
            )
