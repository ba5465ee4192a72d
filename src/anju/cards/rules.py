"""P13: after the round's deadline, every household that had a renovation and every staff member without a policy
card is an alert. The deadline day itself is not late."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.policy.rules import Context, Finding, rule

from .models import CardDistribution, CardRound
from .selectors import households_due, staff_in


@rule(id="P13.card_missing", policy_ids=("P13",), severity="warning", title=gettext_lazy("明白卡未发放"))
def card_missing(context: Context) -> Iterator[Finding]:
    """P13: the latest round whose deadline has passed; households due a card (renovated) and staff (housing roles)
    with no distribution record. An incremental refresh (some households) looks at those households only."""
    card_round = CardRound.objects.filter(deadline__lt=context.today).order_by("-deadline").first()
    if card_round is None:
        return
    deadline = card_round.deadline.isoformat()
    households = context.limit(households_due("").exclude(policy_card__isnull=False), "pk").order_by()
    household_text = _("已完成危房改造，{year}年度明白卡应于{deadline}前发放，尚未登记发放").format(
        year=card_round.year, deadline=deadline
    )
    for pk, division in context.rows(households.values_list("pk", "division_id")):
        yield Finding(
            object_type="registry.household",
            object_id=pk,
            household_id=pk,
            division_code=division,
            due_on=card_round.deadline,
            message=household_text,
        )
    if context.household_ids is not None:
        return
    covered = set(CardDistribution.objects.filter(person__isnull=False).values_list("person_id", flat=True))
    staff_text = _("{name}（{roles}）尚未领取{year}年度工作人员明白卡（应于{deadline}前发放）")
    for user in staff_in(""):
        if user.pk not in covered:
            yield Finding(
                object_type="accounts.user",
                object_id=user.pk,
                division_code=user.division_id,
                due_on=card_round.deadline,
                message=staff_text.format(
                    name=user.get_full_name(),
                    roles="、".join(user.role_labels),
                    year=card_round.year,
                    deadline=deadline,
                ),
            )
