"""P11 alerts on idle dangerous houses: a visit missed, a house not sealed or without a warning sign after the
grace period, and someone found living in one. One finding per open listing (`idle.idlehouse`); the conditions
are the list filters' (`selectors`), so the page and the alert never disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.policy.rules import Context, Finding, rule

from .models import IdleHouse
from .selectors import SECURE_GRACE_DAYS, not_secured_q, occupied_q, visit_missed_q

IDLE = "idle.idlehouse"


def _rows(context: Context, condition: Q, *columns: str):
    qs = context.limit(IdleHouse.objects.filter(condition)).order_by()
    return context.rows(qs.values_list("pk", "division_id", "household_id", "household__head_name", *columns))


@rule(id="P11.visit_missed", policy_ids=("P11",), severity="warning", title=gettext_lazy("闲置危房未按期巡查"))
def visit_missed(context: Context) -> Iterator[Finding]:
    """P11: the watcher checks the house regularly. With a monthly interval (30 days) and the last visit (or the
    listing) on day 0, the visit is due on day 30 and missed from day 31."""
    template = _(
        "{name}户闲置危房应每{interval}天巡查一次，上次巡查：{last}，应于{due}前巡查，已逾期{days}天（巡查人：{watcher}）"
    )
    rows = _rows(
        context,
        visit_missed_q(context.today),
        "next_visit_due_on",
        "visit_interval_days",
        "last_visited_on",
        "watcher_name",
    )
    for pk, division, household, name, due_on, interval, last, watcher in rows:
        yield Finding(
            object_type=IDLE,
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=due_on,
            message=template.format(
                name=name,
                interval=interval,
                last=last.isoformat() if last else _("列入后未巡查"),
                due=due_on.isoformat(),
                days=(context.today - due_on).days,
                watcher=watcher,
            ),
        )


@rule(id="P11.not_secured", policy_ids=("P11",), severity="warning", title=gettext_lazy("闲置危房未封存或未设警示标识"))
def not_secured(context: Context) -> Iterator[Finding]:
    """P11: sealed and a warning sign posted within 7 days of listing (`SECURE_GRACE_DAYS`): listed on day 0, still
    in time on day 7, alerted from day 8 while either is missing."""
    template = _("{name}户闲置危房{listed}列入名单，{days}天内应完成{missing}，至今未完成")
    rows = _rows(context, not_secured_q(context.today), "listed_on", "sealed_on", "sign_posted_on")
    for pk, division, household, name, listed_on, sealed_on, sign_on in rows:
        missing = [label for label, done in ((_("封存"), sealed_on), (_("张贴警示标识"), sign_on)) if not done]
        yield Finding(
            object_type=IDLE,
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=listed_on + dt.timedelta(days=SECURE_GRACE_DAYS),
            message=template.format(
                name=name, listed=listed_on.isoformat(), days=SECURE_GRACE_DAYS, missing="、".join(missing)
            ),
        )


@rule(id="P11.occupied", policy_ids=("P11",), severity="critical", title=gettext_lazy("闲置危房发现有人居住"))
def occupied(context: Context) -> Iterator[Finding]:
    """P11 "nobody lives there": the latest visit found someone living in the dangerous house. Critical until a
    later visit finds it empty again or the listing ends."""
    template = _("{name}户闲置危房{day}巡查发现有人居住，须立即劝离并确保人员安全")
    rows = _rows(context, occupied_q(), "last_visited_on")
    for pk, division, household, name, last in rows:
        yield Finding(
            object_type=IDLE,
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=last,
            message=template.format(name=name, day=last.isoformat() if last else ""),
        )
