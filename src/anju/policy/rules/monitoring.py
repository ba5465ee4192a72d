"""P7: the dynamic monitoring list (动态监测对象) — computed from the registry and the checks, never typed.

One finding per household and reason, so the list says why each household is on it. The object is the
household (`registry.household`); `inspections.selectors.MONITORING_RULE` names this rule.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.cases.models import REINFORCING_METHODS, Case, CaseState, Renovation, RenovationMethod
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


def _reinforced_by_ledger(context: Context):
    """(household, division, text) of houses whose ledger case was accepted after a reinforcing renovation."""
    rows = (
        context.limit(
            Renovation.objects.filter(
                accepted_on__isnull=False,
                method__in=REINFORCING_METHODS,
                case__house__isnull=False,
                case__state__in=[CaseState.ACCEPTED, CaseState.CLOSED],
            ),
            "case__household_id",
        )
        .order_by("case__household_id", "case__house_id", "case_id")
        .values_list("case__household_id", "division_id", "case_id", "case__grade", "accepted_on", "method")
    )
    methods = {code: str(label) for code, label in RenovationMethod.choices}
    part = _("台账#{case}：{was}级危房经{method}，{on}竣工验收")
    for household_id, division, case_id, was, on, method in context.rows(rows):
        text = part.format(case=case_id, was=was or "-", method=methods.get(method, method), on=on)
        yield household_id, division, text


def _reinforced_by_history(context: Context):
    """(household, division, text) of houses the ledger does not know: once graded C or D, now A or B."""
    dangerous = GradeRecord.objects.filter(grade__in=[Grade.C, Grade.D])
    last = dangerous.filter(house_id=OuterRef("pk")).order_by("-graded_on", "-id")
    ever_dangerous = context.limit(dangerous, "house__household_id").values("house_id")  # narrowed too: no scan
    in_ledger = Case.objects.filter(house_id=OuterRef("pk"), grade__in=[Grade.C, Grade.D]).exclude(
        state=CaseState.CANCELLED
    )
    rows = (
        context.limit(House.objects.filter(grade__in=[Grade.A, Grade.B], pk__in=ever_dangerous))
        .filter(~Exists(in_ledger))
        .annotate(was=Subquery(last.values("grade")[:1]), was_on=Subquery(last.values("graded_on")[:1]))
        .order_by("household_id", "id")
        .values_list("household_id", "division_id", "was", "was_on", "grade")
    )
    part = _("曾于{was_on}鉴定为{was}级，现为{now}级")
    for household_id, division, was, was_on, now in context.rows(rows):
        yield household_id, division, part.format(was_on=was_on, was=was, now=now)


def _reinforced(context: Context) -> Iterator[Finding]:
    """Houses (P7): once graded C, made safe by reinforcement.

    Decision (issue 4): the ledger records how a dangerous house was made safe, so it decides. A case accepted
    (竣工验收, `accepted_on` set; state 已验收 or 已销号) after a renovation whose method keeps the house
    (`cases.models.REINFORCING_METHODS`: 加固改造, 修缮加固闲置房, 抗震改造) marks its house as reinforced; a
    rebuilt or relocated house is a new house, and a household made safe by other means left its house, so
    neither is. The grade history ("once C/D, now A/B") is kept only for houses the ledger does not know — no
    case graded C/D that was not cancelled — i.e. histories imported from before the ledger: for a house in the
    ledger it would also count a rebuilt house as reinforced. A household with several such houses gets one
    finding that names them all."""
    ledger, history = _reinforced_by_ledger(context), _reinforced_by_history(context)
    whole = _("房屋{details}（修缮加固后）")
    merged = heapq.merge(ledger, history, key=lambda row: row[0])
    for household_id, group in itertools.groupby(merged, key=lambda row: row[0]):
        group = list(group)
        details = "；".join(dict.fromkeys(text for _h, _d, text in group))
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
    reinforcement (the ledger's accepted reinforcing renovations; the grade history for houses not in it);
    houses whose latest check found a site hazard. One finding per household and reason."""
    yield from _categories(context)
    yield from _grade_b(context)
    yield from _reinforced(context)
    yield from _site_hazard(context)
