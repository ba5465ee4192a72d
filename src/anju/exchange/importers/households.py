"""`anju import households FILE`: the registry's households and their houses (DESIGN.md "Spreadsheets/Households").

A household is keyed by its head's ID number (its keyed hash, as the registry keys it):
- a new ID creates the household, one house, its target categories and, when a grade is given, the house's first
  grade record (source 导入);
- a known ID updates the household and its first house in place — only the fields that differ; a blank cell never
  erases what is stored (a file without phone numbers does not wipe them), categories are added, never ended (ending
  one is a decision the registry records with its date), a grade is added to the history unless already there;
- a row equal to what is stored is not written at all, so importing the same file again changes nothing.
Every row's village must lie in the actor's subtree, and so must the household a known ID belongs to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.audit.actions import Action
from anju.core import bulk, idnumber
from anju.core.scope import in_scope
from anju.policy.services import INCREMENTAL_MAX, alerts_refresh_on_commit
from anju.registry.models import (
    Grade,
    GradeRecord,
    GradeSource,
    House,
    Household,
    HouseholdCategory,
    SecurityMethod,
    Structure,
    TargetCategory,
)
from anju.registry.moves import move_household_rows
from anju.registry.services import PHONE_RE

from .. import values
from ..pipeline import CREATED, UNCHANGED, UPDATED, Column, Context, Row, Spec
from ..places import PlaceResolver

HOUSEHOLD_FIELDS = ("head_name", "phone", "size", "group_name", "security_method", "note")
HOUSE_FIELDS = ("structure", "build_year", "storeys", "floor_area", "longitude", "latitude", "is_idle")
NEW_HOUSEHOLD = [
    "id",
    "division",
    *HOUSEHOLD_FIELDS,
    "id_cipher",
    "id_hash",
    "id_masked",
    "is_sample",
    "created_at",
    "updated_at",
]
NEW_HOUSE = [
    "id",
    "household",
    "division",
    *HOUSE_FIELDS,
    "grade",
    "graded_on",
    "note",
    "is_sample",
    "created_at",
    "updated_at",
]
NEW_GRADE = ["house", "division", "grade", "graded_on", "source", "appraiser", "note", "recorded_by", "recorded_at"]
NEW_CATEGORY = ["household", "division", "category", "certified_on", "ended_on"]
#: households written by one run from which the planner's statistics are refreshed (ANALYZE) before commit
ANALYZE_AFTER = 20_000
ANALYZED = (Household, House, GradeRecord, HouseholdCategory)
HOUSEHOLD_DEFAULTS = {"phone": "", "group_name": "", "security_method": SecurityMethod.OWN.value, "note": ""}
HOUSE_DEFAULTS = {"storeys": 1, "is_idle": False}
STRUCTURE_ALIASES = {f"{label}结构": code for code, label in Structure.choices if not str(label).endswith("结构")} | {
    "砖混房": Structure.BRICK_CONCRETE,
    "钢混": Structure.FRAME,
    "钢筋混凝土": Structure.FRAME,
    "石窑": Structure.STONE_CAVE,
    "砖窑": Structure.BRICK_CAVE,
    "土窑": Structure.EARTH_CAVE,
}
#: the labels of range errors, translated only when a message is made (a gettext per cell cost ~1 s per 100,000 rows)
BUILD_YEAR, SIZE, STOREYS = gettext_lazy("建造年份"), gettext_lazy("家庭人口"), gettext_lazy("层数")
AREA, LONGITUDE, LATITUDE = gettext_lazy("建筑面积"), gettext_lazy("经度"), gettext_lazy("纬度")
#: built once: parse_choice caches its index by the identity of these maps (a fresh dict per row rebuilt it per row)
STRUCTURES = dict(Structure.choices)
SECURITY_METHODS = dict(SecurityMethod.choices)
GRADES = {"A": "A级", "B": "B级", "C": "C级", "D": "D级"}
GRADE_ALIASES = {"未鉴定": Grade.UNRATED.value, "未评定": Grade.UNRATED.value} | {f"{g}级": g for g in GRADES}


def _text(limit: int, label: str):
    def parse(cell: Any) -> str:
        text = values.clean_text(cell)
        if len(text) > limit:
            raise ValueError(_("{label}不能超过{limit}个字").format(label=label, limit=limit))
        return text

    return parse


def _phone(cell: Any) -> str:
    text = values.clean_text(cell).replace(" ", "")
    if not PHONE_RE.match(text):
        raise ValueError(_("联系电话只能包含数字，长度7到20位"))
    return text


def _grade(cell: Any) -> str | None:
    code = values.parse_choice(cell, GRADES, GRADE_ALIASES)
    return None if code == Grade.UNRATED else code


def _graded_on(cell: Any) -> dt.date:
    return values.parse_date(cell, not_after=timezone.localdate())


def _build_year(cell: Any) -> int:
    return values.parse_int(cell, 1900, timezone.localdate().year, BUILD_YEAR)


COLUMNS = (
    Column("division_code", "区划代码", aliases=("村代码", "行政区划代码", "区划编码", "村区划代码")),
    Column("county", "县（市、区）", aliases=("县市区", "县区", "区县", "县（区）", "县")),
    Column("town", "乡镇（街道）", aliases=("乡镇", "乡镇街道", "乡（镇）", "镇（乡）", "乡镇办")),
    Column("village", "行政村", aliases=("行政村（社区）", "村（社区）", "村", "社区", "村名")),
    Column("group_name", "村民小组", aliases=("组", "村组", "小组", "村民组"), parse=_text(32, "村民小组")),
    Column("head_name", "户主姓名", aliases=("户主", "姓名"), required=True, parse=_text(64, "户主姓名")),
    Column(
        "id_number",
        "身份证号码",
        aliases=("身份证号", "户主身份证号码", "户主身份证号", "公民身份号码", "身份证"),
        required=True,
        parse=values.parse_id_number,
    ),
    Column("phone", "联系电话", aliases=("电话", "手机号", "手机号码", "联系方式"), parse=_phone),
    Column(
        "size",
        "家庭人口",
        aliases=("家庭人口数", "人口", "人口数", "家庭人数"),
        required=True,
        parse=lambda cell: values.parse_int(cell, 1, 30, SIZE),
    ),
    Column("categories", "重点对象类型", aliases=("重点对象", "对象类型", "类别", "重点对象类别")),
    Column(
        "structure",
        "房屋结构",
        aliases=("结构", "结构类型", "房屋结构类型"),
        required=True,
        parse=lambda cell: values.parse_choice(cell, STRUCTURES, STRUCTURE_ALIASES),
    ),
    Column(
        "build_year", "建造年份", aliases=("建房年份", "建造年代", "建成年份", "建房时间", "年份"), parse=_build_year
    ),
    Column("storeys", "层数", aliases=("房屋层数",), parse=lambda cell: values.parse_int(cell, 1, 10, STOREYS)),
    Column(
        "floor_area",
        "建筑面积",
        aliases=("建筑面积（㎡）", "建筑面积（平方米）", "面积"),
        parse=lambda cell: values.parse_decimal(cell, Decimal("0.01"), Decimal("999999.99"), 2, AREA),
    ),
    Column("grade", "安全等级", aliases=("房屋安全等级", "鉴定等级", "等级", "危房等级"), parse=_grade),
    Column("graded_on", "鉴定日期", aliases=("鉴定时间",), parse=_graded_on),
    Column(
        "security_method",
        "住房保障方式",
        aliases=("保障方式",),
        parse=lambda cell: values.parse_choice(cell, SECURITY_METHODS),
    ),
    Column("is_idle", "是否闲置", aliases=("闲置",), parse=values.parse_yes_no),
    Column("longitude", "经度", parse=lambda cell: values.parse_decimal(cell, 73, 136, 6, LONGITUDE)),
    Column("latitude", "纬度", parse=lambda cell: values.parse_decimal(cell, 3, 54, 6, LATITUDE)),
    Column("note", "备注", aliases=("说明",), parse=_text(500, "备注")),
)


class HouseholdsImporter:
    kind: ClassVar[str] = "households"
    spec: ClassVar[Spec] = Spec(columns=COLUMNS, one_of=((("division_code",), ("county", "town", "village")),))
    permissions: ClassVar[tuple[str, ...]] = ("registry.add", "registry.change")
    action: ClassVar[Action] = Action.HOUSEHOLDS_IMPORTED
    key_column: ClassVar[str] = "id_number"
    #: each batch is written as soon as it is validated (pipeline `_check_and_write`): nothing is found late
    streams: ClassVar[bool] = True

    def start(self, ctx: Context) -> None:
        self.places = PlaceResolver()
        self.categories: dict[str, int] = {}
        self._category_cells: dict[Any, tuple[tuple[int, ...], list[str]]] = {}
        names: list[str] = []
        for pk, name, short_names in TargetCategory.objects.filter(is_active=True).values_list(
            "id", "name", "short_names"
        ):
            names.append(name)
            for alias in (name, *(short_names or [])):
                self.categories.setdefault(_category_key(alias), pk)
        self.category_names = "、".join(names)
        self.prefix = ctx.actor.scope_prefix if ctx.actor is not None else ""

    def keys(self, rows: list[Row]) -> list[str | None]:
        return head_keys(rows)

    # pass 1 ---------------------------------------------------------------------------------------------------

    def validate(self, rows: list[Row], ctx: Context) -> None:
        for row in rows:
            self._check_row(row, ctx)
        clean = [row for row in rows if row.ok]
        if not clean:
            return
        with bulk.key_probes():
            existing, houses, active, graded = self._stored([row.key for row in clean])
        created = []
        for row in clean:
            current = existing.get(row.key)
            if current is None:
                created.append(row)
            elif self.prefix and not in_scope(current["division_id"], self.prefix):
                row.fail(
                    self.spec.column("id_number"),
                    _("该身份证号码已登记为户主，所在村不在您的管辖范围内，请联系所在地核实"),
                    idnumber.mask(row.values["id_number"]),
                )
            else:
                self._update(row, current, houses.get(current["id"]), active[current["id"]], graded)
        self._create(created)

    def _stored(self, hashes: list[str]) -> tuple[dict, dict, dict, set]:
        """What the registry holds for a batch's ID hashes: households by hash, each one's first house, its active
        categories and the grade records of those houses."""
        existing = registered_households(hashes)
        houses: dict[int, dict[str, Any]] = {}
        for house in (
            House.objects.filter(household_id__in=[h["id"] for h in existing.values()])
            .order_by("household_id", "id")
            .values("id", "household_id", "grade", "graded_on", *HOUSE_FIELDS)
        ):
            houses.setdefault(house["household_id"], house)
        active: dict[int, set[int]] = defaultdict(set)
        for household_id, category_id in (
            HouseholdCategory.objects.filter(
                household_id__in=list(houses.keys() | {h["id"] for h in existing.values()}), ended_on__isnull=True
            )
            .order_by()
            .values_list("household_id", "category_id")
        ):
            active[household_id].add(category_id)
        graded: set[tuple[int, str, dt.date]] = set(
            GradeRecord.objects.filter(house_id__in=[h["id"] for h in houses.values()])
            .order_by()
            .values_list("house_id", "grade", "graded_on")
        )
        return existing, houses, active, graded

    def _check_row(self, row: Row, ctx: Context) -> None:
        """The place, the scope, the categories and the grade's date: everything one row can tell alone."""
        v = row.values
        column = self.spec.column
        check_place(row, ctx, self.spec, self.places, self.prefix)

        ids: tuple[int, ...] = ()
        if v.get("categories") is not None:
            ids, unknown = self._categories(v["categories"])
            if unknown:
                row.fail(
                    column("categories"),
                    _("未知的重点对象类型「{names}」，应为：{choices}（可写常用简称）").format(
                        names="、".join(unknown), choices=self.category_names
                    ),
                )
        v["category_ids"] = ids

        if v.get("grade") and _raw_blank(row, "graded_on"):
            row.fail(column("graded_on"), _("填写了安全等级时必须填写鉴定日期"), "")
        if v.get("graded_on") is not None and _raw_blank(row, "grade"):
            row.fail(column("grade"), _("填写了鉴定日期时必须填写安全等级"), "")

    def _categories(self, cell: Any) -> tuple[tuple[int, ...], list[str]]:
        """The category ids of a cell and its unknown parts, once per distinct cell (a few dozen in a file)."""
        memo_key = (cell.__class__, cell)
        found = self._category_cells.get(memo_key)
        if found is None:
            ids: list[int] = []
            unknown = []
            for part in values.split_multi(cell):
                pk = self.categories.get(_category_key(part))
                if pk is None:
                    unknown.append(part)
                elif pk not in ids:
                    ids.append(pk)
            found = (tuple(ids), unknown)
            if len(self._category_cells) < 10_000:
                self._category_cells[memo_key] = found
        return found

    def _create(self, rows: list[Row]) -> None:
        """The payloads of a batch's new households, built column by column (a million rows: per-row generators
        and one cipher call per number cost seconds)."""
        values = [row.values for row in rows]
        numbers = [v["id_number"] for v in values]
        # tuples in field order, not dicts: cheaper to build, spool and unpack for a million rows
        households = _tuples(values, HOUSEHOLD_FIELDS, HOUSEHOLD_DEFAULTS)
        houses = _tuples(values, HOUSE_FIELDS, HOUSE_DEFAULTS)
        ciphers = idnumber.encrypt_many(numbers)
        for row, v, household, house, cipher, number in zip(
            rows, values, households, houses, ciphers, numbers, strict=True
        ):
            row.outcome = CREATED
            row.payload = (
                "new",
                v["village_code"],
                household,
                (cipher, row.key, idnumber.mask(number)),
                house,
                (v["grade"], v["graded_on"]) if v.get("grade") else None,
                v["category_ids"],
            )

    def _update(
        self,
        row: Row,
        current: dict[str, Any],
        house: dict[str, Any] | None,
        active: set[int],
        graded: set[tuple[int, str, dt.date]],
    ) -> None:
        v = row.values
        household = {f: v[f] for f in HOUSEHOLD_FIELDS if v.get(f) is not None and v[f] != current[f]}
        moved_to = v["village_code"] if v["village_code"] != current["division_id"] else None
        new_house = None
        if house is None:  # registered without a house: the file's house becomes its first
            new_house = tuple(v[f] if v.get(f) is not None else HOUSE_DEFAULTS.get(f) for f in HOUSE_FIELDS)
            house_changes = {}
        else:
            house_changes = {f: v[f] for f in HOUSE_FIELDS if v.get(f) is not None and v[f] != house[f]}
        grade = None
        if v.get("grade"):
            mark = (v["grade"], v["graded_on"])
            if house is None or (house["id"], *mark) not in graded:
                grade = mark
                if house is not None and (house["graded_on"] is None or mark[1] >= house["graded_on"]):
                    house_changes |= {"grade": mark[0], "graded_on": mark[1]}
        categories = [pk for pk in v["category_ids"] if pk not in active]
        if not (household or moved_to or new_house or house_changes or grade or categories):
            row.outcome = UNCHANGED
            return
        row.outcome = UPDATED
        row.payload = (
            "update",
            current["id"],
            moved_to or current["division_id"],
            bool(moved_to),
            household,
            house["id"] if house else None,
            new_house or house_changes,
            grade,
            categories,
        )

    def complete(self, ctx: Context) -> list:
        return []

    # pass 2 ---------------------------------------------------------------------------------------------------

    def write(self, batches: Iterator[list[tuple[int, str, Any]]], ctx: Context) -> dict[str, Any]:
        layouts = {
            "household": bulk.columns_for(Household, NEW_HOUSEHOLD),
            "house": bulk.columns_for(House, NEW_HOUSE),
            "grade": bulk.columns_for(GradeRecord, NEW_GRADE),
            "category": bulk.columns_for(HouseholdCategory, NEW_CATEGORY),
        }
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        recorder = ctx.actor.pk if getattr(ctx.actor, "pk", None) else None
        touched: set[int] = set()
        totals = {"houses_created": 0, "grade_records": 0, "categories_added": 0, "moved": 0}
        analyze_at = ANALYZE_AFTER
        with bulk.bulk_session():
            for items in batches:
                news = [payload for _n, outcome, payload in items if outcome == CREATED]
                updates = [payload for _n, outcome, payload in items if outcome == UPDATED]
                writer = _Batch(layouts, now, recorder)
                writer.add_new(news)
                writer.add_updates(updates)
                writer.flush()
                touched |= writer.touched
                for key in totals:
                    totals[key] += writer.totals[key]
                if len(touched) >= analyze_at:
                    # The next batches are validated against the tables this run is growing (the pipeline streams
                    # households): their `id_hash IN (…)` lookups need the planner to know the size, see below.
                    bulk.analyze(ANALYZED)
                    analyze_at *= 10
        if len(touched) >= ANALYZE_AFTER:
            # Statistics of a registry ten times smaller made SQLite scan the whole household table for every
            # batch's `id_hash IN (…)` (re-importing 1,000,000 rows: 391 s); the planner must know the new size.
            bulk.analyze(ANALYZED)
        if len(touched) > INCREMENTAL_MAX:
            # P7: a city-wide import would refresh every alert of the city after its commit (30–90 s at 1,000,000
            # households, as long as the load itself); the daily `anju alerts refresh` or a background job does it.
            totals["alerts_deferred"] = len(touched)
        else:
            alerts_refresh_on_commit(household_ids=touched)  # P7: categories and grades put households on the list
        return totals


class _Batch:
    """The rows of one spool batch in database form, written with one statement per table and field set."""

    def __init__(self, layouts: dict[str, tuple[list[str], tuple]], now: Any, recorder: int | None):
        self.layouts = layouts
        self.now = now
        self.recorder = recorder
        self.households: list[tuple] = []
        self.houses: list[tuple] = []
        self.grades: list[tuple] = []
        self.categories: list[tuple] = []
        self.updates: dict[tuple[type, tuple[str, ...]], list[tuple]] = defaultdict(list)
        self.moves: list[tuple[int, str]] = []
        self.touched: set[int] = set()
        self.totals = {"houses_created": 0, "grade_records": 0, "categories_added": 0, "moved": 0}

    def _house(self, house_id: int, household_id: int, village: str, house: tuple, grade) -> None:
        """`house`: the HOUSE_FIELDS values in order."""
        extra = self.layouts["house"][1]
        mark = grade or (Grade.UNRATED.value, None)
        self.houses.append((house_id, household_id, village, *house, *mark, "", False, self.now, self.now, *extra))
        self.totals["houses_created"] += 1

    def _grade(self, house_id: int, village: str, grade: tuple[str, dt.date]) -> None:
        extra = self.layouts["grade"][1]
        self.grades.append(
            (house_id, village, grade[0], grade[1], GradeSource.IMPORT.value, "", "", self.recorder, self.now, *extra)
        )
        self.totals["grade_records"] += 1

    def _categories(self, household_id: int, village: str, ids: list[int]) -> None:
        extra = self.layouts["category"][1]
        self.categories += [(household_id, village, pk, None, None, *extra) for pk in ids]
        self.totals["categories_added"] += len(ids)

    def add_new(self, news: list[tuple]) -> None:
        if not news:
            return
        first_household = bulk.reserve_ids(Household, len(news))
        first_house = bulk.reserve_ids(House, len(news))
        extra = self.layouts["household"][1]
        for offset, (_op, village, household, ids, house, grade, categories) in enumerate(news):
            household_id, house_id = first_household + offset, first_house + offset
            self.households.append((household_id, village, *household, *ids, False, self.now, self.now, *extra))
            self._house(house_id, household_id, village, house, grade)
            if grade:
                self._grade(house_id, village, grade)
            self._categories(household_id, village, categories)
            self.touched.add(household_id)

    def add_updates(self, updates: list[tuple]) -> None:
        houseless = [u for u in updates if u[5] is None]
        next_house = bulk.reserve_ids(House, len(houseless)) if houseless else 0
        for _op, household_id, village, moved, household, house_id, house, grade, categories in updates:
            self.touched.add(household_id)
            if moved:
                household = household | {"division_id": village}
                self.moves.append((household_id, village))
            if household:
                self._update(Household, household_id, household)
            if house_id is None:
                house_id, next_house = next_house, next_house + 1
                self._house(house_id, household_id, village, house, grade)
            elif house:
                self._update(House, house_id, house)
            if grade:
                self._grade(house_id, village, grade)
            self._categories(household_id, village, categories)

    def _update(self, model: type, pk: int, changes: dict[str, Any]) -> None:
        fields = tuple(sorted(changes))
        self.updates[(model, fields)].append((*(changes[f] for f in fields), self.now, pk))

    def flush(self) -> None:
        bulk.insert_rows(Household, self.layouts["household"][0], self.households)
        bulk.insert_rows(House, self.layouts["house"][0], self.houses)
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            for (model, fields), rows in self.updates.items():
                columns = [model._meta.get_field(f).column for f in fields]
                assignments = ", ".join(f"{qn(c)} = %s" for c in [*columns, "updated_at"])
                cursor.executemany(f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE id = %s", rows)
        for household_id, village in self.moves:  # rare: a corrected village; the household's rows follow it
            move_household_rows(Household(pk=household_id), village)
            self.totals["moved"] += 1
        bulk.insert_rows(GradeRecord, self.layouts["grade"][0], self.grades)
        bulk.insert_rows(HouseholdCategory, self.layouts["category"][0], self.categories)


def registered_households(hashes: list[str]) -> dict[str, dict[str, Any]]:
    """The registered households of these ID hashes (id, id_hash, division_id and HOUSEHOLD_FIELDS, as `.values()`
    gives them), by hash: the households and problems importers' batch lookup. Plain SQL: Django's per-value
    handling of `id_hash__in` took 2–3 s of a million-row import. No ORDER BY either: the model's ordering made
    SQLite walk the division index instead of probing the id_hash one — a scan of the growing table for every batch
    (5 s of a 200,000-row import)."""
    fields = ("id", "id_hash", "division_id", *HOUSEHOLD_FIELDS)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(Household._meta.get_field(f).column) for f in fields)
    marks = ", ".join(["%s"] * len(hashes))
    with connection.cursor() as cursor:
        table, key = qn(Household._meta.db_table), qn(Household._meta.get_field("id_hash").column)
        cursor.execute(f"SELECT {columns} FROM {table} WHERE {key} IN ({marks})", hashes)
        return {found[1]: dict(zip(fields, found, strict=True)) for found in cursor.fetchall()}


def _tuples(values: list[dict[str, Any]], fields: tuple[str, ...], defaults: dict[str, Any]) -> list[tuple]:
    """Each row's `fields` in order, a blank (None) replaced by the field's default where it has one."""
    columns = []
    for name in fields:
        column = [v.get(name) for v in values]
        if name in defaults:
            default = defaults[name]
            column = [default if cell is None else cell for cell in column]
        columns.append(column)
    return list(zip(*columns, strict=True))


def _category_key(text: str) -> str:
    return values.clean_text(text).replace(" ", "").casefold()


def _raw_blank(row: Row, key: str) -> bool:
    value = row.raw.get(key)
    return value is None or (isinstance(value, str) and not value.strip())


def head_keys(rows: list[Row]) -> list[str | None]:
    """A household file's rows are keyed by the head's ID: its keyed hash, as the registry stores it (`Row.key`)."""
    numbers = [row.values.get("id_number") for row in rows]  # parse_id_number normalised them
    digests = iter(idnumber.keyed_digests([n for n in numbers if n is not None]))
    return [None if number is None else next(digests).hex() for number in numbers]


def check_place(row: Row, ctx: Context, spec: Any, places: Any, prefix: str) -> None:
    """The row's village — by 区划代码, else by the county/town/village names people type — must exist and lie in
    the actor's subtree (`prefix`, empty for the system); sets `row.values["village_code"]` (None when refused).
    Shared by every importer whose rows name a village."""
    v = row.values
    column = spec.column
    code = None
    if v.get("division_code") is not None:
        try:
            code = places.resolve_code(v["division_code"])
        except ValueError as exc:
            row.fail(column("division_code"), str(exc))
    elif not any(row.raw.get(k) not in (None, "") for k in ("county", "town", "village")):
        row.fail(column("village" if "village" in ctx.present else "division_code"), _("请填写所在行政村"), "")
    else:
        try:
            code = places.resolve(v.get("county"), v.get("town"), v.get("village"))
        except ValueError as exc:
            row.fail(column("village"), str(exc), _place_text(row))
    if code and prefix and not in_scope(code, prefix):
        row.fail(
            column("division_code" if v.get("division_code") is not None else "village"),
            _("「{name}」不在您的管辖范围内").format(name=places.names.get(code, code)),
        )
    v["village_code"] = code


def _place_text(row: Row) -> str:
    return "/".join(values.clean_text(row.raw.get(k)) for k in ("county", "town", "village") if row.raw.get(k))
