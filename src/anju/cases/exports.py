"""The ledger (台账, P19) and the P1 rectification summary as .xlsx workbooks.

The ledger is written like the monitoring list, in the one export style (`anju.exchange.xlsx`, constant memory), by a
chunked `iterator()` over one `select_related` query, so the whole city takes the memory of one village. It filters
through `selectors.case_filter`, the filter of the ledger page and the API. ID numbers are masked unless the actor
may see them (`registry.view_id`) and asked for them; how many full numbers left is on record (PIPL).

The summary (P1: reported to the same-level rural-revitalisation department and the upper housing department) has
one row per child division; each family of counts is one GROUP BY on the child's code prefix, not one per row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core import idnumber
from anju.core.scope import PREFIX_LENGTH
from anju.divisions.models import Division, Level
from anju.exchange import xlsx
from anju.registry.models import Grade, Structure

from .models import Case, CaseSource, CaseState, HouseholdType, RenovationMethod
from .selectors import DUE_SOON_DAYS, CaseFilters, case_filter, cases_visible, due_soon_q, is_late, late_q
from .services.cases import PROBLEM_LIST_TYPES

CHUNK = 2000
#: The level of the rows of a summary of a division at each level (a village is its own single row).
CHILD_LEVEL = {
    Level.PROVINCE: Level.CITY,
    Level.CITY: Level.COUNTY,
    Level.COUNTY: Level.TOWN,
    Level.TOWN: Level.VILLAGE,
}

Output = xlsx.Output
Progress = Callable[[int], None] | None


# -- the ledger -------------------------------------------------------------------------------------------------


def ledger_columns() -> list[tuple[str, int]]:
    """The columns a county reports upward (issue 4), in this order, with their widths."""
    return [
        (_("序号"), 7),
        (_("县"), 10),
        (_("乡镇"), 12),
        (_("村"), 14),
        (_("户主姓名"), 10),
        (_("身份证号码"), 21),
        (_("户类型"), 14),
        (_("房屋结构"), 10),
        (_("鉴定等级"), 9),
        (_("鉴定日期"), 11),
        (_("问题来源"), 10),
        (_("整改措施"), 40),
        (_("改造方式"), 18),
        (_("完成时限"), 11),
        (_("开工日期"), 11),
        (_("竣工日期"), 11),
        (_("验收日期"), 11),
        (_("补助资金"), 12),
        (_("状态"), 10),
        (_("是否逾期"), 9),
        (_("销号日期"), 11),
    ]


def _labels() -> dict[str, dict[str, str]]:
    """Choice labels translated once per export, not once per cell."""
    return {
        "household_type": {k: str(v) for k, v in HouseholdType.choices},
        "structure": {k: str(v) for k, v in Structure.choices},
        "grade": {k: str(v) for k, v in Grade.choices},
        "source": {k: str(v) for k, v in CaseSource.choices},
        "method": {k: str(v) for k, v in RenovationMethod.choices},
        "state": {k: str(v) for k, v in CaseState.choices},
        "late": {True: _("是"), False: _("否")},
    }


def _places(division: Division) -> tuple[str, str, str]:
    """County, town and village names from the case's division up (loaded by `select_related`, no query)."""
    names: dict[str, str] = {}
    node: Division | None = division
    for _step in range(3):
        if node is None:
            break
        names[node.level] = node.name
        if node.level not in (Level.TOWN, Level.VILLAGE):
            break
        node = node.parent
    return names.get(Level.COUNTY, ""), names.get(Level.TOWN, ""), names.get(Level.VILLAGE, "")


def ledger_cases(*, actor: Any, filters: CaseFilters, today: dt.date | None = None) -> QuerySet[Case]:
    """The cases of the export: the actor's subtree (everything for the system actor) under the ledger's filters,
    village by village, with every column in one query."""
    qs = Case.objects.all() if actor is None else cases_visible(actor)
    return (
        case_filter(qs, filters, today)
        .select_related("household", "house", "division__parent__parent", "renovation")
        .order_by("division_id", "opened_on", "id")
    )


def ledger_row(
    number: int, case: Case, labels: dict[str, dict[Any, str]], today: dt.date, *, full_id: bool = False
) -> list[Any]:
    """One row: text, dates (`dt.date`), money (`Decimal`) and None for an empty cell."""
    county, town, village = _places(case.division)
    household, house = case.household, case.house
    renovation = getattr(case, "renovation", None)
    return [
        number,
        county,
        town,
        village,
        household.head_name,
        idnumber.decrypt(household.id_cipher) if full_id else household.id_masked,
        labels["household_type"].get(case.household_type, case.household_type),
        labels["structure"].get(house.structure, house.structure) if house else "",
        labels["grade"].get(case.grade, case.grade),
        case.appraised_on,
        labels["source"].get(case.source, case.source),
        case.measures,
        labels["method"].get(renovation.method, renovation.method) if renovation else "",
        case.due_on,
        renovation.started_on if renovation else None,
        renovation.completed_on if renovation else None,
        renovation.accepted_on if renovation else None,
        renovation.subsidy_amount if renovation else None,
        labels["state"].get(case.state, case.state),
        labels["late"][is_late(case, today)],
        case.closed_on,
    ]


def _scope_name(actor: Any, filters: CaseFilters) -> str:
    code = filters.division or getattr(actor, "division_id", None)
    division = Division.objects.filter(code=code).first() if code else None
    return division.name if division else _("全部")


def ledger_export(
    *,
    actor: Any,
    filters: CaseFilters,
    output: Output,
    full_id: bool = False,
    today: dt.date | None = None,
    progress: Progress = None,
) -> int:
    """Write the ledger in the actor's scope under `filters` to `output`; returns the rows written.

    `full_id` exports whole ID numbers and needs `registry.view_id` (PermissionDenied otherwise); the audit event
    says how many full numbers the file holds.
    """
    if full_id and not has_action(actor, "registry.view_id"):
        raise PermissionDenied(_("您的角色无权导出完整身份证号码"))
    today = today or dt.date.today()
    book, styles = xlsx.workbook(output, title=_("农村危房整改台账"))
    title = _("农村危房整改台账（{scope}，统计日期：{day}）").format(
        scope=_scope_name(actor, filters), day=today.isoformat()
    )
    table = xlsx.Table(book, styles, _("危房台账"), ledger_columns(), title=title)
    labels = _labels()
    for case in ledger_cases(actor=actor, filters=filters, today=today).iterator(chunk_size=CHUNK):
        table.add(ledger_row(table.rows + 1, case, labels, today, full_id=full_id))
        if progress and table.rows % CHUNK == 0:
            progress(CHUNK)
    rows = table.rows
    if progress and rows % CHUNK:
        progress(rows % CHUNK)
    table.close()
    book.close()
    # Names (and perhaps whole ID numbers) leave the system: who exported what, and how many full IDs, is on record.
    event_record(
        actor=actor,
        action=Action.LEDGER_EXPORTED,
        division_code=filters.division or getattr(actor, "division_id", "") or "",
        extra={
            "rows": rows,
            "full_ids": rows if full_id else 0,
            "filters": {k: v for k, v in vars(filters).items() if v},
        },
    )
    return rows


# -- the rectification summary (P1) -----------------------------------------------------------------------------


@dataclass
class SummaryRow:
    code: str
    name: str
    counts: Counter = field(default_factory=Counter)


@dataclass
class Summary:
    division: Division
    today: dt.date
    rows: list[SummaryRow]
    total: SummaryRow


def summary_columns() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(measure key, column title)]) in the order of the sheet."""
    return [
        (_("合计"), [("total", _("台账总数"))]),
        (_("问题来源"), [(f"source:{k}", str(v)) for k, v in CaseSource.choices]),
        (_("当前状态"), [(f"state:{k}", str(v)) for k, v in CaseState.choices]),
        (
            _("完成时限（P19）"),
            [
                ("late", _("逾期未完成")),
                ("due_soon", _("{days}天内到期").format(days=DUE_SOON_DAYS)),
                ("closed_this_year", _("本年销号")),
            ],
        ),
        (
            _("问题清单（按户类型）"),
            [(f"problem:{k}", str(HouseholdType(k).label)) for k in PROBLEM_LIST_TYPES] + [("problem", _("小计"))],
        ),
    ]


def rectification_summary(*, actor: Any, division: Division, today: dt.date | None = None) -> Summary:
    """P1: the counts of every child division of `division` (and a total) in the actor's scope.

    Cancelled cases (opened by mistake) count only under their state; late and due soon follow P19
    (`selectors.late_q`/`due_soon_q`, the ledger's own definitions).
    """
    today = today or dt.date.today()
    child_level = CHILD_LEVEL.get(division.level)
    children = list(Division.objects.filter(parent=division).order_by("code")) if child_level else []
    width = PREFIX_LENGTH[child_level] if child_level else 12
    if not children:
        children = [division]
    qs = Case.objects.all() if actor is None else cases_visible(actor)
    base = case_filter(qs, CaseFilters(division=division.code), today).annotate(unit=Substr("division_id", 1, width))
    live = base.exclude(state=CaseState.CANCELLED)
    year = Q(closed_on__gte=dt.date(today.year, 1, 1), closed_on__lte=dt.date(today.year, 12, 31))
    found: dict[str, Counter] = {}

    def add(unit: str, key: str, n: int) -> None:
        found.setdefault(unit, Counter())[key] += n

    for unit, source, n in live.values_list("unit", "source").annotate(n=Count("id")).order_by():
        add(unit, f"source:{source}", n)
        add(unit, "total", n)
    for unit, state, n in base.values_list("unit", "state").annotate(n=Count("id")).order_by():
        add(unit, f"state:{state}", n)
    deadlines = base.values_list("unit").annotate(
        late=Count("id", filter=late_q(today)),
        due_soon=Count("id", filter=due_soon_q(today)),
        closed=Count("id", filter=Q(state=CaseState.CLOSED) & year),
    )
    for unit, late, due_soon, closed in deadlines.order_by():
        add(unit, "late", late)
        add(unit, "due_soon", due_soon)
        add(unit, "closed_this_year", closed)
    problems = live.filter(source=CaseSource.PROBLEM_LIST).values_list("unit", "household_type")
    for unit, household_type, n in problems.annotate(n=Count("id")).order_by():
        add(unit, f"problem:{household_type}", n)
        add(unit, "problem", n)

    rows = [SummaryRow(child.code, child.name, found.pop(child.code[:width], Counter())) for child in children]
    stray = sum(found.values(), Counter())
    if +stray:  # cases recorded at the division itself, not at one of its children
        rows.append(SummaryRow(division.code, _("{name}本级").format(name=division.name), stray))
    total = SummaryRow("", _("合计"), sum((r.counts for r in rows), Counter()))
    return Summary(division=division, today=today, rows=rows, total=total)


def rectification_export(
    *, actor: Any, division: Division, output: Output, today: dt.date | None = None, progress: Progress = None
) -> int:
    """Write the P1 summary of `division` to `output` with a sheet of definitions; returns the division rows."""
    summary = rectification_summary(actor=actor, division=division, today=today)
    book, styles = xlsx.workbook(output, title=_("农村危房问题整改情况汇总"), constant_memory=False)
    title = _("农村危房问题整改情况汇总（{name}，统计日期：{day}）").format(
        name=division.name, day=summary.today.isoformat()
    )
    labels = [(_("区划代码"), 14), (_("区划名称"), 16)]
    sheet, keys = xlsx.summary_sheet(book, styles, _("整改情况汇总"), title, summary_columns(), labels)
    for line, row in enumerate([*summary.rows, summary.total], start=xlsx.SUMMARY_FIRST_ROW):
        xlsx.summary_line(sheet, styles, line, [row.code, row.name], row.counts, keys, total=row is summary.total)
        if progress:
            progress(1)
    xlsx.write_definitions(book.add_worksheet(_("说明")), styles, definitions(summary))
    book.close()
    event_record(
        actor=actor,
        action=Action.RECTIFICATION_EXPORTED,
        division_code=division.code,
        extra={"rows": len(summary.rows), "total": summary.total.counts["total"], "today": summary.today},
    )
    return len(summary.rows)


def definitions(summary: Summary) -> list[tuple[str, str]]:
    """What each measure counts, for the readers in the rural-revitalisation and upper housing departments (P1)."""
    return [
        (
            _("统计范围"),
            _("{name}辖区内的全部台账，按下级区划分行，末行为合计；统计日期 {day}").format(
                name=summary.division.name, day=summary.today.isoformat()
            ),
        ),
        (_("台账总数"), _("登记的住房安全问题台账数（已撤销的误登记台账不计入，问题来源和户类型同）")),
        (_("问题来源"), _("年度核查、疑似上报、问题清单、灾害、信访、督导、重新申请，各来源台账数")),
        (_("当前状态"), _("统计日各状态的台账数，含已撤销（各状态之和 = 台账总数 + 已撤销）")),
        (
            _("逾期未完成"),
            _(
                "P19：已过完成时限（1–6月鉴定为危房的，当年11月30日；7–12月鉴定的，次年5月31日）"
                "且改造尚未竣工（未竣工、未验收、未通过其他方式保障安全、未销号）"
            ),
        ),
        (
            _("{days}天内到期").format(days=DUE_SOON_DAYS),
            _("P19：完成时限在统计日起{days}天内且改造尚未竣工").format(days=DUE_SOON_DAYS),
        ),
        (_("本年销号"), _("销号日期在统计日所在年度（{year}年）的台账").format(year=summary.today.year)),
        (
            _("问题清单（按户类型）"),
            _("P1：乡村振兴部门移交的问题清单台账，按脱贫不稳定户、边缘易致贫户、突发严重困难户、其他建档立卡户分类"),
        ),
        (_("报送"), _("P1：整改情况报同级乡村振兴部门和上级住房城乡建设部门")),
    ]
