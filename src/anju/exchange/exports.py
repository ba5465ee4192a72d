"""The households workbook (the import columns, one row per house) and the statistics workbook by division.

Households are exported in the columns of DESIGN "Spreadsheets" → Households, so an exported file can be edited and
imported again (a household is keyed by its head's ID number). They are selected by the household list page's own
filter (`registry.filters.filter_households`), read in chunks of households as plain tuples — their houses and
active categories one query per chunk — and written in constant memory (`xlsx.Table`), so a million households take
the memory of a few thousand. ID numbers are masked unless the actor may see them (`registry.view_id`) and asks;
every export is audited with how many full numbers left (PIPL).

The statistics workbook counts each family (households, target households per category, houses by grade and
structure, cases by state and late per P19) with one GROUP BY on the row's own village code, then adds the villages
up to every division of the subtree in Python: five queries whatever the size of the subtree.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.cases.models import Case, CaseState
from anju.cases.selectors import cases_visible, late_q
from anju.core import idnumber
from anju.core.scope import PREFIX_LENGTH, scope_q
from anju.divisions.models import LEVEL_ORDER, Division, Level
from anju.registry.filters import filter_households
from anju.registry.models import (
    DANGEROUS_GRADES,
    Grade,
    House,
    Household,
    HouseholdCategory,
    SecurityMethod,
    Structure,
    TargetCategory,
)

from . import xlsx

CHUNK = 2000
Progress = Callable[[int], None] | None

# -- households ---------------------------------------------------------------------------------------------------


def household_columns() -> list[tuple[str, float]]:
    """DESIGN "Spreadsheets" → Households: the headers `anju import households` reads, in this order."""
    return [
        (_("区划代码"), 14),
        (_("县（市、区）"), 10),
        (_("乡镇（街道）"), 12),
        (_("行政村"), 14),
        (_("村民小组"), 9),
        (_("户主姓名"), 10),
        (_("身份证号码"), 21),
        (_("联系电话"), 13),
        (_("家庭人口"), 9),
        (_("重点对象类型"), 24),
        (_("房屋结构"), 9),
        (_("建造年份"), 9),
        (_("层数"), 6),
        (_("建筑面积"), 10),
        (_("安全等级"), 9),
        (_("鉴定日期"), 11),
        (_("住房保障方式"), 12),
        (_("是否闲置"), 9),
        (_("经度"), 12),
        (_("纬度"), 11),
        (_("备注"), 30),
    ]


HOUSEHOLD_FIELDS = (
    "id", "division_id", "group_name", "head_name", "id_masked", "phone", "size", "security_method", "note",
)  # fmt: skip
HOUSE_FIELDS = (
    "household_id",
    "structure",
    "build_year",
    "storeys",
    "floor_area",
    "grade",
    "graded_on",
    "is_idle",
    "longitude",
    "latitude",
)


def export_households(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    """The households of the export: the actor's subtree (everything for the system actor) under the household list
    page's filters (the cleaned data of `HouseholdFilterForm`), village by village."""
    base = Household.objects.all() if actor is None else Household.objects.visible_to(actor)
    return filter_households(base, filters or {}).order_by("division_id", "id")


def _place_names(prefix: str) -> dict[str, tuple[str, str, str]]:
    """Code → (county, town, village) names of every division under `prefix`, in one query."""
    nodes = {
        code: (name, level, parent)
        for code, name, level, parent in Division.objects.filter(scope_q("code", prefix)).values_list(
            "code", "name", "level", "parent_id"
        )
    }
    places = {}
    for code in nodes:
        names = {}
        node = code
        while node in nodes:
            name, level, parent = nodes[node]
            names[level] = name
            node = parent
        places[code] = (names.get(Level.COUNTY, ""), names.get(Level.TOWN, ""), names.get(Level.VILLAGE, ""))
    return places


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _household_lines(
    chunk: list[tuple],
    places: dict[str, tuple[str, str, str]],
    category_names: dict[int, str],
    full_id: bool,
) -> Iterator[list[Any]]:
    """The rows of a chunk of households: one per house, or one with empty house columns for a household without."""
    ids = [row[0] for row in chunk]
    houses: dict[int, list[tuple]] = {}
    for house in House.objects.filter(household_id__in=ids).order_by("household_id", "id").values_list(*HOUSE_FIELDS):
        houses.setdefault(house[0], []).append(house)
    categories: dict[int, list[int]] = {}
    active = HouseholdCategory.objects.filter(household_id__in=ids, ended_on__isnull=True)
    for household_id, category_id in active.values_list("household_id", "category_id"):
        categories.setdefault(household_id, []).append(category_id)
    order = list(category_names)
    structures = {k: str(v) for k, v in Structure.choices}
    methods = {k: str(v) for k, v in SecurityMethod.choices}
    yes, no = _("是"), _("否")
    for pk, code, group, name, id_value, phone, size, method, note in chunk:
        county, town, village = places.get(code, ("", "", ""))
        names = "、".join(category_names[c] for c in sorted(categories.get(pk, ()), key=order.index))
        head = [
            code,
            county,
            town,
            village,
            group,
            name,
            idnumber.decrypt(id_value) if full_id else id_value,
            phone,
            size,
            names,
        ]
        tail = [methods.get(method, method)]
        if pk not in houses:
            yield [*head, None, None, None, None, None, None, *tail, None, None, None, note]
            continue
        for _hid, structure, year, storeys, area, grade, graded_on, idle, lon, lat in houses[pk]:
            yield [
                *head,
                structures.get(structure, structure),
                year,
                storeys,
                xlsx.decimals(area, 2),
                "" if grade == Grade.UNRATED else grade,  # DESIGN: A B C D, blank = 未鉴定
                graded_on,
                *tail,
                yes if idle else no,
                xlsx.decimals(lon, 6),
                xlsx.decimals(lat, 6),
                note,
            ]


def households_export(
    *,
    actor: Any,
    filters: dict[str, Any] | None,
    output: xlsx.Output,
    full_id: bool = False,
    progress: Progress = None,
) -> int:
    """Write the households in the actor's scope under the list page's `filters`, one row per house; returns the
    households written. `full_id` needs `registry.view_id` (PermissionDenied otherwise) and is audited."""
    if full_id and not has_action(actor, "registry.view_id"):
        raise PermissionDenied(_("您的角色无权导出完整身份证号码"))
    filters = filters or {}
    division = filters.get("division")
    prefix = division.prefix if division else (getattr(actor, "scope_prefix", None) or "")
    places = _place_names(prefix)
    category_names = dict(TargetCategory.objects.order_by("sort_order", "code").values_list("id", "name"))
    book, styles = xlsx.workbook(output, title=_("农户与房屋"))
    table = xlsx.Table(book, styles, _("农户与房屋"), household_columns())
    fields = [("id_cipher" if full_id and f == "id_masked" else f) for f in HOUSEHOLD_FIELDS]
    rows = export_households(actor=actor, filters=filters).values_list(*fields).iterator(chunk_size=CHUNK)
    households = 0
    for chunk in _chunks(rows, CHUNK):
        for line in _household_lines(chunk, places, category_names, full_id):
            table.add(line)
        households += len(chunk)
        if progress:
            progress(len(chunk))
    table.close()
    book.close()
    # Names and phone numbers (perhaps whole ID numbers) leave the system: who exported what is on record (PIPL).
    event_record(
        actor=actor,
        action=Action.HOUSEHOLDS_EXPORTED,
        division_code=division.code if division else getattr(actor, "division_id", "") or "",
        extra={
            "households": households,
            "rows": table.rows,
            "full_ids": households if full_id else 0,
            "filters": {k: getattr(v, "code", v) for k, v in filters.items() if v},
        },
    )
    return households


# -- statistics by division ---------------------------------------------------------------------------------------


@dataclass
class StatRow:
    code: str
    name: str
    level: str
    counts: Counter = field(default_factory=Counter)


@dataclass
class Statistics:
    division: Division
    today: dt.date
    categories: list[tuple[int, str]]
    #: one row per child division (a village: itself), then divisions' own rows ("本级") if any
    rows: list[StatRow]
    total: StatRow
    #: every division of the subtree in tree order, the division itself first
    subtree: list[StatRow]


def statistics_columns(categories: list[tuple[int, str]]) -> xlsx.Groups:
    """The measures, grouped as on the sheet (`categories`: the target categories, (id, name) in order)."""
    return [
        (_("农户"), [("households", _("农户数"))]),
        (
            _("重点对象户"),
            [("target", _("合计"))] + [(f"category:{pk}", name) for pk, name in categories],
        ),
        (_("房屋安全等级"), [("houses", _("房屋数"))] + [(f"grade:{k}", str(v)) for k, v in Grade.choices]),
        (_("危房"), [("dangerous", _("C级、D级"))]),
        (_("房屋结构"), [(f"structure:{k}", str(v)) for k, v in Structure.choices]),
        (
            _("危房台账"),
            [("cases", _("台账数"))]
            + [(f"state:{k}", str(v)) for k, v in CaseState.choices]
            + [("late", _("逾期未完成"))],
        ),
    ]


def _visible(model: Any, actor: Any) -> QuerySet:
    return model.objects.all() if actor is None else model.objects.visible_to(actor)


def _grouped(actor: Any, division: Division, today: dt.date) -> Iterator[tuple[str, str, int]]:
    """(row's division code, measure key, count) from one GROUP BY per family, on the row's own code."""
    scope = scope_q("division_id", division.prefix)
    households = _visible(Household, actor).filter(scope).values_list("division_id")
    for code, n in households.annotate(n=Count("id")).order_by():
        yield code, "households", n
    active = _visible(HouseholdCategory, actor).filter(scope, ended_on__isnull=True)
    for code, n in active.values_list("division_id").annotate(n=Count("household_id", distinct=True)).order_by():
        yield code, "target", n
    for code, category, n in active.values_list("division_id", "category_id").annotate(n=Count("id")).order_by():
        yield code, f"category:{category}", n
    houses = _visible(House, actor).filter(scope).values_list("division_id", "grade", "structure")
    for code, grade, structure, n in houses.annotate(n=Count("id")).order_by():
        yield code, "houses", n
        yield code, f"grade:{grade}", n
        yield code, f"structure:{structure}", n
        if grade in DANGEROUS_GRADES:
            yield code, "dangerous", n
    cases = (Case.objects.all() if actor is None else cases_visible(actor)).filter(scope)
    by_state = cases.values_list("division_id", "state").annotate(n=Count("id"), late=Count("id", filter=late_q(today)))
    for code, state, n, late in by_state.order_by():
        yield code, f"state:{state}", n
        if state != CaseState.CANCELLED:
            yield code, "cases", n
        yield code, "late", late


def statistics(*, actor: Any, division: Division, today: dt.date | None = None) -> Statistics:
    """The counts of every division of `division`'s subtree in the actor's scope, and its child rows and total."""
    today = today or dt.date.today()
    counts: dict[str, Counter] = {}
    lengths = [n for n in PREFIX_LENGTH.values() if n >= len(division.prefix)]
    for code, key, n in _grouped(actor, division, today):
        for above in {code[:length].ljust(12, "0") for length in lengths}:  # the row's division and those above it
            counts.setdefault(above, Counter())[key] += n
    nodes = Division.objects.filter(scope_q("code", division.prefix)).order_by("code")
    subtree, children = [], []
    for code, name, level, parent in nodes.values_list("code", "name", "level", "parent_id"):
        subtree.append(StatRow(code, name, level, counts.get(code, Counter())))
        if parent == division.code:
            children.append(subtree[-1])
    own = counts.get(division.code, Counter()) - sum((row.counts for row in children), Counter())
    rows = children or [StatRow(division.code, division.name, division.level, counts.get(division.code, Counter()))]
    if children and +own:  # rows recorded at the division itself, not at one of its children
        rows.append(StatRow(division.code, _("{name}本级").format(name=division.name), division.level, +own))
    total = StatRow("", _("合计"), "", counts.get(division.code, Counter()))
    categories = list(
        TargetCategory.objects.filter(is_active=True).order_by("sort_order", "code").values_list("id", "name")
    )
    return Statistics(division, today, categories, rows, total, subtree)


def statistics_definitions(stats: Statistics) -> list[tuple[str, str]]:
    """What each measure counts (the "说明" sheet)."""
    return [
        (
            _("统计范围"),
            _("{name}辖区内您有权查看的数据，按下级区划分行，末行为合计；统计日期 {day}").format(
                name=stats.division.name, day=stats.today.isoformat()
            ),
        ),
        (_("农户数"), _("登记的农户户数（一户以户主身份证号码为准）")),
        (
            _("重点对象户"),
            _("合计：至少有一项有效（未终止）重点对象认定的农户户数；各类型：有该类型有效认定的户数（一户可属多类）"),
        ),
        (_("房屋安全等级"), _("登记房屋按当前安全等级计数；未鉴定为尚无鉴定结论的房屋")),
        (_("危房"), _("当前安全等级为C级或D级的房屋")),
        (_("房屋结构"), _("登记房屋按结构类型计数，各类之和 = 房屋数")),
        (_("台账数"), _("危房台账数（已撤销的误登记台账不计入）")),
        (_("台账状态"), _("统计日各状态的台账数，含已撤销（各状态之和 = 台账数 + 已撤销）")),
        (
            _("逾期未完成"),
            _(
                "P19：已过完成时限（1–6月鉴定为危房的，当年11月30日；7–12月鉴定的，次年5月31日）"
                "且改造尚未竣工（未竣工、未验收、未通过其他方式保障安全、未销号）"
            ),
        ),
        (_("全部下辖区划"), _("辖区内每一级区划（县、乡镇、村）的同口径统计，按区划代码排列")),
    ]


def statistics_export(
    *, actor: Any, division: Division, output: xlsx.Output, today: dt.date | None = None, progress: Progress = None
) -> int:
    """Write the statistics of `division` (child rows and total, every division of the subtree, a chart of houses
    by grade, the definitions) to `output`; returns the child rows."""
    stats = statistics(actor=actor, division=division, today=today)
    groups = statistics_columns(stats.categories)
    book, styles = xlsx.workbook(output, title=_("农村住房安全统计表"), constant_memory=False)
    title = _("农村住房安全统计表（{name}，统计日期：{day}）").format(name=division.name, day=stats.today.isoformat())
    labels = [(_("区划代码"), 14), (_("区划名称"), 16)]
    sheet, keys = xlsx.summary_sheet(book, styles, _("分区划统计"), title, groups, labels)
    line = xlsx.SUMMARY_FIRST_ROW
    for row in [*stats.rows, stats.total]:
        xlsx.summary_line(sheet, styles, line, [row.code, row.name], row.counts, keys, total=row is stats.total)
        line += 1
        if progress:
            progress(1)
    if len(stats.rows) > 1:
        _grade_chart(book, sheet, keys, stats, anchor=line + 1)

    whole, _keys = xlsx.summary_sheet(
        book,
        styles,
        _("全部下辖区划"),
        title,
        groups,
        [(_("区划代码"), 14), (_("区划名称"), 24), (_("级别"), 8)],
    )
    levels = dict(Level.choices)
    depth = LEVEL_ORDER.index(division.level)
    for line, row in enumerate(stats.subtree, start=xlsx.SUMMARY_FIRST_ROW):
        indent = "\u3000" * (LEVEL_ORDER.index(row.level) - depth)
        names = [row.code, indent + row.name, str(levels.get(row.level, row.level))]
        xlsx.summary_line(whole, styles, line, names, row.counts, keys, total=row.code == division.code)

    xlsx.write_definitions(book.add_worksheet(_("说明")), styles, statistics_definitions(stats))
    book.close()
    event_record(
        actor=actor,
        action=Action.STATISTICS_EXPORTED,
        division_code=division.code,
        extra={"rows": len(stats.rows), "households": stats.total.counts["households"], "today": stats.today},
    )
    return len(stats.rows)


def _grade_chart(book: Any, sheet: Any, keys: list[str], stats: Statistics, *, anchor: int) -> None:
    """A stacked column chart of houses by grade per child division, under the table."""
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    first, last = xlsx.SUMMARY_FIRST_ROW, xlsx.SUMMARY_FIRST_ROW + len(stats.rows) - 1
    colours = {"A": "#2E7D32", "B": "#9CCC65", "C": "#FB8C00", "D": "#C62828", "U": "#BDBDBD"}
    name = sheet.get_name()
    for grade, label in Grade.choices:
        col = keys.index(f"grade:{grade}") + 2
        chart.add_series(
            {
                "name": str(label),
                "categories": [name, first, 1, last, 1],
                "values": [name, first, col, last, col],
                "fill": {"color": colours[grade]},
            }
        )
    chart.set_title({"name": _("各区划房屋安全等级（栋）")})
    chart.set_size({"width": max(640, 48 * len(stats.rows)), "height": 360})
    sheet.insert_chart(anchor, 1, chart)
