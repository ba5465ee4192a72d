"""P7: the dynamic monitoring list (动态监测对象) — computed from the registry and the checks, never typed.

One finding per household and reason, so the list says why each household is on it. The object is the
household (`registry.household`); `inspections.selectors.MONITORING_RULE` names this rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.inspections.models import HouseFinding, SiteHazard
from anju.registry.models import EARTH_STRUCTURES, Grade, GradeRecord, House, HouseholdCategory, Structure

from . import Context, Finding, rule

RULE_ID = "P7.monitoring"

#: Reason codes in the order of priority they are shown in (P7: B-grade earth houses before other B houses).
REASONS = {
    "category": gettext_lazy("重点对象"),
    "grade_b_earth": gettext_lazy("B级土木/生土/窑洞房屋"),
    "grade_b": gettext_lazy("B级房屋"),
    "reinforced": gettext_lazy("危房加固后"),
    "site_hazard": gettext_lazy("场地隐患"),
}
REASON_ORDER = {code: i for i, code in enumerate(REASONS)}

STRUCTURE_LABELS = dict(Structure.choices)
HAZARD_LABELS = dict(SiteHazard.choices)
HOUSEHOLD = "registry.household"


def _by_household(context: Context, rows) -> Iterator[tuple[int, list[tuple]]]:
    """Rows ordered by household id (first column), grouped: (household id, [rows])."""
    for household_id, group in itertools.groupby(context.rows(rows), key=lambda row: row[0]):
        yield household_id, list(group)


def _finding(household_id: int, division: str, reason: str, message: str) -> Finding:
    return Finding(
        object_type=HOUSEHOLD,
        object_id=household_id,
        household_id=household_id,
        division_code=division,
        message=message,
        reason=reason,
    )


def _categories(context: Context) -> Iterator[Finding]:
    """People (P7): households in any active target category (低保, 低保边缘, 脱贫户 …)."""
    rows = (
        context.limit(HouseholdCategory.objects.filter(ended_on__isnull=True, category__is_active=True))
        .order_by("household_id", "category__sort_order", "category_id")
        .values_list("household_id", "division_id", "category__name")
    )
    template = _("重点对象：{names}")  # translated once per refresh, not once per household
    for household_id, group in _by_household(context, rows):
        names = "、".join(dict.fromkeys(name for _h, _d, name in group))
        yield _finding(household_id, group[0][1], "category", template.format(names=names))


def _grade_b(context: Context) -> Iterator[Finding]:
    """Houses (P7): B-grade houses, earth-wood, raw-earth and cave dwellings first (reason grade_b_earth)."""
    rows = (
        context.limit(House.objects.filter(grade=Grade.B))
        .order_by("household_id", "id")
        .values_list("household_id", "division_id", "structure")
    )
    said: dict[tuple[str, ...], tuple[str, str]] = {}  # a few structure mixes, translated once each

    def say(structures: tuple[str, ...]) -> tuple[str, str]:
        labels = "、".join(str(STRUCTURE_LABELS.get(s, s)) for s in structures)
        if any(s in EARTH_STRUCTURES for s in structures):
            return "grade_b_earth", _("B级房屋（{structures}），土木、生土、窑洞优先关注").format(structures=labels)
        return "grade_b", _("B级房屋（{structures}）").format(structures=labels)

    for household_id, group in _by_household(context, rows):
        structures = tuple(dict.fromkeys(structure for _h, _d, structure in group))
        reason, message = said.get(structures) or said.setdefault(structures, say(structures))
        yield _finding(household_id, group[0][1], reason, message)


def _reinforced(context: Context) -> Iterator[Finding]:
    """Houses (P7): once graded C or D, now A or B — made safe by reinforcement. Until the renovation ledger
    exists, the grade history is how we know."""
    dangerous = GradeRecord.objects.filter(grade__in=[Grade.C, Grade.D])
    last = dangerous.filter(house_id=OuterRef("pk")).order_by("-graded_on", "-id")
    ever_dangerous = context.limit(dangerous, "house__household_id").values("house_id")  # narrowed too: no scan
    rows = (
        context.limit(House.objects.filter(grade__in=[Grade.A, Grade.B], pk__in=ever_dangerous))
        .annotate(was=Subquery(last.values("grade")[:1]), was_on=Subquery(last.values("graded_on")[:1]))
        .order_by("household_id", "id")
        .values_list("household_id", "division_id", "was", "was_on", "grade")
    )
    part, whole = _("曾于{was_on}鉴定为{was}级，现为{now}级"), _("房屋{details}（修缮加固后）")
    for household_id, group in _by_household(context, rows):
        details = "；".join(part.format(was_on=was_on, was=was, now=now) for _h, _d, was, was_on, now in group)
        yield _finding(household_id, group[0][1], "reinforced", whole.format(details=details))


def _site_hazard(context: Context) -> Iterator[Finding]:
    """Houses (P7, P9): the latest check of the house found a site hazard (landslide, flood, subsidence …).
    "Latest" is the check date, then the check record id; a later check without the hazard takes it off."""
    newer = HouseFinding.objects.filter(house_id=OuterRef("house_id")).filter(
        Q(check_record__checked_on__gt=OuterRef("check_record__checked_on"))
        | Q(
            check_record__checked_on=OuterRef("check_record__checked_on"),
            check_record_id__gt=OuterRef("check_record_id"),
        )
    )
    rows = (
        context.limit(HouseFinding.objects.exclude(site_hazard=""), "house__household_id")
        .filter(~Exists(newer))
        .order_by("house__household_id", "house_id")
        .values_list("house__household_id", "house__division_id", "site_hazard", "check_record__checked_on")
    )
    hazards = {code: str(label) for code, label in HAZARD_LABELS.items()}
    part, whole = _("{on}核查发现{hazard}"), _("场地隐患：{details}")
    for household_id, group in _by_household(context, rows):
        details = dict.fromkeys(part.format(on=on, hazard=hazards.get(hazard, hazard)) for _h, _d, hazard, on in group)
        yield _finding(household_id, group[0][1], "site_hazard", whole.format(details="；".join(details)))


@rule(id=RULE_ID, policy_ids=("P7",), severity="info", title=gettext_lazy("动态监测对象"))
def monitoring(context: Context) -> Iterator[Finding]:
    """P7: people in any target category; B-grade houses (土木, 生土, 窑洞 first); houses once C/D made safe by
    reinforcement; houses whose latest check found a site hazard. One finding per household and reason."""
    yield from _categories(context)
    yield from _grade_b(context)
    yield from _reinforced(context)
    yield from _site_hazard(context)
