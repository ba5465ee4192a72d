"""P9 and P23: plans before the seasons, resettlement first, and damaged houses appraised at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.core.scope import scope_q
from anju.divisions.models import Division, Level
from anju.inspections.models import Appraisal
from anju.policy.rules import Context, Finding, rule
from anju.registry.models import Household

from .models import SERIOUS_LEVELS, DamageReport, EmergencyPlan, Resettlement, Season
from .services import PLAN_LEAD_DAYS, season_occurrence, window_of, windows_all

#: P9.plan_missing names no row (the plan is missing): its object is the county, by its code, under its own type.
PLAN_DUE = "disasters.plan_due"
#: P9: a household that must be resettled has a place recorded within this many days of the report.
RESETTLEMENT_DAYS = 1
#: P23: a seriously damaged house is appraised within this many days of the report.
APPRAISAL_DAYS = 7


@rule(id="P9.plan_missing", policy_ids=("P9",), severity="warning", title=gettext_lazy("特殊时段应急预案未备案"))
def plan_missing(context: Context) -> Iterator[Finding]:
    """P9: plans are prepared in advance. From PLAN_LEAD_DAYS (15) days before a season starts until it ends, a
    county without that season's plan of the season's year is flagged (division = the county). Counties that
    keep no households in anju are not flagged. A county-wide rule: an incremental refresh has nothing to do."""
    if context.household_ids is not None:
        return
    windows = windows_all()
    labels = dict(Season.choices)
    filed = set(EmergencyPlan.objects.values_list("division_id", "season", "year"))
    counties = Division.objects.filter(level=Level.COUNTY).order_by("code").values_list("code", "name")
    for code, name in counties:
        if not Household.objects.filter(scope_q("division_id", code[:6])).exists():
            continue
        for season in Season.values:
            start, end = season_occurrence(window_of(code, season, windows), context.today)
            if context.today < start - dt.timedelta(days=PLAN_LEAD_DAYS) or (code, season, start.year) in filed:
                continue
            yield Finding(
                object_type=PLAN_DUE,
                object_id=int(code),
                division_code=code,
                due_on=start - dt.timedelta(days=PLAN_LEAD_DAYS),
                reason=season,
                message=_("{county}{year}年{season}（{start}至{end}）应急预案尚未备案").format(
                    county=name, year=start.year, season=labels[season], start=start.isoformat(), end=end.isoformat()
                ),
            )


@rule(
    id="P9.resettlement_missing",
    policy_ids=("P9",),
    severity="critical",
    title=gettext_lazy("受灾农户未落实过渡安置"),
)
def resettlement_missing(context: Context) -> Iterator[Finding]:
    """P9: damaged households are resettled first. A report that needs resettlement and has none recorded more
    than RESETTLEMENT_DAYS (1) day after it was made is flagged: reported on day D, flagged from D + 2."""
    deadline = context.today - dt.timedelta(days=RESETTLEMENT_DAYS)
    rows = context.limit(
        DamageReport.objects.filter(
            ~Exists(Resettlement.objects.filter(report_id=OuterRef("pk"))),
            needs_resettlement=True,
            reported_on__lt=deadline,
        )
    ).order_by()
    rows = rows.values_list("pk", "division_id", "household_id", "reported_on", "household__head_name", "event__name")
    template = _("{event}：{name}户{reported}上报需过渡安置，至今未登记安置情况")
    for pk, division, household, reported_on, name, event in context.rows(rows):
        yield Finding(
            object_type="disasters.damagereport",
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=reported_on + dt.timedelta(days=RESETTLEMENT_DAYS),
            message=template.format(event=event, name=name, reported=reported_on.isoformat()),
        )


@rule(
    id="P23.damage_not_appraised",
    policy_ids=("P23", "P9"),
    severity="critical",
    title=gettext_lazy("灾损房屋未及时鉴定"),
)
def damage_not_appraised(context: Context) -> Iterator[Finding]:
    """P23: houses made dangerous again by a disaster are found and fixed at once. A severe or collapsed report
    whose house has no appraisal dated on or after the report is flagged from the day after its 7-day limit:
    reported on day D, flagged from D + 8."""
    deadline = context.today - dt.timedelta(days=APPRAISAL_DAYS)
    appraised = Appraisal.objects.filter(house_id=OuterRef("house_id"), appraised_on__gte=OuterRef("reported_on"))
    rows = context.limit(
        DamageReport.objects.filter(~Exists(appraised), level__in=SERIOUS_LEVELS, reported_on__lt=deadline)
    ).order_by()
    rows = rows.values_list("pk", "division_id", "household_id", "reported_on", "level", "event__name")
    labels = {code: str(label) for code, label in DamageReport._meta.get_field("level").choices}
    template = _("{event}：房屋{level}受损，{reported}上报，超过{days}天仍未鉴定")
    for pk, division, household, reported_on, level, event in context.rows(rows):
        yield Finding(
            object_type="disasters.damagereport",
            object_id=pk,
            division_code=division,
            household_id=household,
            due_on=reported_on + dt.timedelta(days=APPRAISAL_DAYS),
            message=template.format(event=event, level=labels[level], reported=reported_on.isoformat(),
                                    days=APPRAISAL_DAYS),
        )  # fmt: skip
