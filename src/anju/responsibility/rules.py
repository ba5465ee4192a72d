"""P18: every county, town and village with registered households has a named responsible person."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.core.scope import ancestor_codes
from anju.divisions.models import Division, Level
from anju.policy.rules import Context, Finding, rule
from anju.registry.models import Household

from .models import Assignment

DIVISION = "divisions.division"
LEVELS = (Level.COUNTY, Level.TOWN, Level.VILLAGE)


@rule(id="P18.unassigned", policy_ids=("P18",), severity="warning", title=gettext_lazy("未明确包抓责任人"))
def unassigned(context: Context) -> Iterator[Finding]:
    """P18 (市包县、县包镇、镇包村户): a county, town or village with households in the registry and no active
    responsible person. A division without any household answers for nobody yet and raises nothing. Evaluated
    by a full refresh and whenever the chain changes; an incremental (per-household) refresh leaves it alone:
    no household change names or un-names a person."""
    if context.household_ids is not None:
        return
    households: Counter[str] = Counter()
    for village, n in Household.objects.order_by().values_list("division_id").annotate(n=Count("id")):
        households[village] += n
        for code in ancestor_codes(village):
            households[code] += n
    named = set(Assignment.objects.active().of_divisions().values_list("division_id", flat=True))
    labels = {level.value: str(level.label) for level in LEVELS}
    template = _("{level}「{name}」尚未指定包抓责任人（辖区内已登记农户{count}户）")
    divisions = Division.objects.filter(level__in=labels).order_by("code").values_list("code", "name", "level")
    for code, name, level in divisions:
        if households[code] and code not in named:
            yield Finding(
                object_type=DIVISION,
                object_id=int(code),
                division_code=code,
                message=template.format(level=labels[level], name=name, count=households[code]),
            )
