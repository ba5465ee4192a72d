"""P4: supervision of project funds (项目资金监管). The payment service refuses a payment before the acceptance or
above the case's approved subsidy; these rules find such payments anyway — rows carried over from earlier systems,
a subsidy lowered after a payment, an acceptance date corrected later — so the fund supervisors see every one."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Count, F, Min, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.cases.models import Renovation, SubsidyPayment
from anju.cases.selectors import paid_total

from . import Context, Finding, rule


def money(value: Decimal | int | float) -> str:
    """Yuan with two places whatever the database's SUM returns (SQLite drops trailing zeros)."""
    return f"{Decimal(value):.2f}"


@rule(
    id="P4.payment_before_acceptance",
    policy_ids=("P4",),
    severity="critical",
    title=gettext_lazy("补助资金在竣工验收前拨付"),
)
def payment_before_acceptance(context: Context) -> Iterator[Finding]:
    """P4: a case with payments dated before its joint acceptance (or paid while not accepted at all); one alert
    per case, on its ledger page."""
    early = Q(case__renovation__accepted_on__isnull=True) | Q(paid_on__lt=F("case__renovation__accepted_on"))
    rows = context.limit(SubsidyPayment.objects.filter(early), "case__household_id").order_by()
    rows = rows.values("case_id", "division_id", "case__household_id", "case__renovation__accepted_on").annotate(
        count=Count("pk"), first=Min("paid_on"), total=Sum("amount")
    )
    for row in context.rows(
        rows.values_list(
            "case_id", "division_id", "case__household_id", "case__renovation__accepted_on", "count", "first", "total"
        )
    ):
        case_id, division, household, accepted_on, count, first, total = row
        accepted = accepted_on.isoformat() if accepted_on else _("尚未验收")
        yield Finding(
            object_type="cases.case",
            object_id=case_id,
            household_id=household,
            division_code=division,
            message=_(
                "台账#{case}有{count}笔补助共{total}元在竣工验收前拨付（最早{first}；验收日期：{accepted}）"
            ).format(case=case_id, count=count, total=money(total), first=first.isoformat(), accepted=accepted),
        )


@rule(
    id="P4.payment_over_subsidy",
    policy_ids=("P4",),
    severity="critical",
    title=gettext_lazy("补助资金拨付超过核定标准"),
)
def payment_over_subsidy(context: Context) -> Iterator[Finding]:
    """P4: a case whose payments add up to more than its approved subsidy (from the year's rate, P21)."""
    rows = context.limit(
        Renovation.objects.filter(case__payments__isnull=False).distinct(), "case__household_id"
    ).annotate(paid=paid_total())
    rows = rows.filter(Q(subsidy_amount__isnull=True) | Q(paid__gt=F("subsidy_amount")))
    rows = rows.order_by().values_list("case_id", "division_id", "case__household_id", "paid", "subsidy_amount")
    for case_id, division, household, paid, subsidy in context.rows(rows):
        yield Finding(
            object_type="cases.case",
            object_id=case_id,
            household_id=household,
            division_code=division,
            message=_("台账#{case}累计拨付{paid}元，超过核定补助{subsidy}元").format(
                case=case_id, paid=money(paid), subsidy=money(subsidy) if subsidy is not None else _("（未核定）")
            ),
        )
