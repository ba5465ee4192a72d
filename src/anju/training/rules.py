"""P17: people who check, appraise or build and have no training this year, once the check season has begun."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.accounts.models import User
from anju.cases.models import Craftsman
from anju.policy.rules import Context, Finding, rule

from .selectors import TRAINED_ROLES, trained_exists

#: P5, P17: the annual check (年度排查) starts in spring, and nobody untrained may take part in it, so from 1 March
#: (month, day) everyone who checks, appraises or builds should have this year's training. Before that, last
#: year's training is still how people work through the winter and nobody is flagged.
SEASON_START = (3, 1)


def season_start(year: int) -> dt.date:
    return dt.date(year, *SEASON_START)


@rule(id="P17.untrained", policy_ids=("P17",), severity="warning", title=gettext_lazy("未参加本年度培训"))
def untrained(context: Context) -> Iterator[Finding]:
    """P17: an active staff user of a role that checks, appraises or builds (`TRAINED_ROLES`), or an active
    craftsman (P22), with no signed-in training session this year, on or after 1 March. People, not households:
    an incremental (per-household) refresh has nothing to say about them."""
    if context.household_ids is not None:
        return
    start = season_start(context.today.year)
    if context.today < start:
        return
    year = context.today.year
    roles = {str(r) for r in TRAINED_ROLES}
    users = (
        User.objects.filter(is_active=True, division_id__isnull=False)
        .exclude(trained_exists(year))
        .order_by()
        .values_list("pk", "division_id", "full_name", "username", "roles")
    )
    for pk, division, full_name, username, user_roles in context.rows(users):
        if roles.isdisjoint(user_roles or []):
            continue
        yield Finding(
            object_type="accounts.user",
            object_id=pk,
            division_code=division,
            due_on=start,
            message=_("{name}尚未参加{year}年度培训，不能参与核查、鉴定（P17）").format(
                name=full_name or username, year=year
            ),
        )
    template = _("建筑工匠{name}尚未参加{year}年度培训，不能承揽农房改造（P17、P22）")
    craftsmen = (
        Craftsman.objects.filter(is_active=True)
        .exclude(trained_exists(year, "craftsman"))
        .order_by()
        .values_list("pk", "division_id", "name")
    )
    for pk, division, name in context.rows(craftsmen):
        yield Finding(
            object_type="cases.craftsman",
            object_id=pk,
            division_code=division,
            due_on=start,
            message=template.format(name=name, year=year),
        )
