"""Department comparison (P6): a department's list of certified people against the registry, column by column.

The list (DESIGN.md "Department lists": 姓名 身份证号码 类别 认定日期, optionally 县（市、区） 乡镇（街道） 行政村)
is read into columns: a plain CSV straight into polars under the header row the reader finds, a workbook or an
unusual CSV (quoted fields, blank lines) through the reader's rows. Each column is then normalised and validated as
a whole, because a million rows through a per-row parser cost a minute and a half: cells that repeat (categories,
dates, places, names) are parsed once per distinct value; ID numbers of the plain 18-character shape are checked
against GB 11643 with polars expressions (address code, birth date, check character), and only the others go
through the per-cell parser, which gives the exact Chinese reason; the valid numbers become keyed hashes in one
comprehension. All that runs in a second thread while this one reads the registry in scope as frames (keyed hash,
household, head name, village, worst unsafe house; the active memberships) through `anju.core.bulk`'s column
reads; the five result sets are then joins and anti-joins of those frames, nothing is compared pairwise. Findings
go to the database as frames (`bulk.insert_frame`: COPY / executemany) and the workbook is written afterwards from
the stored rows (docs/BENCHMARKS.md "导入与比对" has the timings). Only household heads can be matched:
members carry no ID number in the registry (registry.Member), so a member on the list is reported as not in the
registry.

**Rows in order.** The per-row rules keep their meaning: a person and category seen on an earlier row is a
duplicate, the house is reported on the person's first row, and every problem of a row is reported in the order
a reader of the row would meet it (name, place, category, date, ID), so the 问题行 sheet reads top to bottom.

**Likely typos.** GB 11643's MOD 11-2 check character catches every single wrong digit and every swap of two
neighbouring characters (each weight differs from its neighbour's mod 11). So a list ID one such slip away from a
registry ID never passes validation, and a valid list ID can never be one. Only the list IDs of the right shape
that fail validation are searched: each has at most 17×9+10 substitutions and 17 swaps, of which only those with a
correct check character (about one in eleven) are hashed and looked up. The work is proportional to the bad IDs,
needs no registry ID to be decrypted, and is never quadratic. A near miss whose household head has the same name
is reported as a likely typo (both IDs masked), not as a person missing from the registry.

**Scope.** Only households in the chosen division's subtree (the actor's by default) count as "in the registry".
A row whose place columns name a village outside the subtree is reported and not compared at all.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl
import xlsxwriter
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core import bulk, idnumber
from anju.core.errors import DomainError, ScopeError
from anju.core.scope import code_range, in_scope
from anju.divisions.models import Division, Level
from anju.registry.models import Department, Grade, House, Household, HouseholdCategory, TargetCategory

from .models import Comparison, ComparisonItem, ComparisonSet, RunStatus
from .places import PlaceResolver
from .reader import SNIFF_BYTES, Column, Table, csv_dialect, open_table, sha256_of
from .values import clean_text, parse_date, parse_id_number, split_multi

Cells = pl.Series | list[Any]

CHUNK = 2000
FETCH = 100_000
_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_NAME_NOISE = re.compile(r"[\s·•・.]")
#: characters Python counts as spaces and polars does not (a CSV with them goes through the reader)
_PY_ONLY_SPACES = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")
#: names that clean_text leaves as they are (CJK unified ideographs, ASCII letters and digits): no Python needed
_PLAIN_TEXT = r"^[\x{4E00}-\x{9FFF}0-9A-Za-z]+$"
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

#: column key → (header as DESIGN.md spells it, other spellings seen in department files)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("姓名", ("户主姓名", "名字", "申请人姓名", "对象姓名")),
    "id_number": ("身份证号码", ("身份证号", "身份证", "公民身份号码", "证件号码", "户主身份证号码")),
    "category": ("类别", ("类型", "对象类别", "对象类型", "重点对象类型", "救助类别")),
    "certified_on": ("认定日期", ("认定时间", "批准日期", "纳入日期")),
    "county": ("县（市、区）", ("县", "县区", "区县", "县市区")),
    "town": ("乡镇（街道）", ("乡镇", "乡镇街道", "镇", "乡", "街道")),
    "village": ("行政村", ("村", "村社区", "行政村社区", "村（社区）")),
}
REQUIRED = ("name", "id_number", "category")

#: the worst house decides: a D and an A house make a household with a dangerous house
_GRADE_RANK = {Grade.D: 0, Grade.C: 1, Grade.UNRATED: 2, Grade.B: 3, Grade.A: 4}
_UNKNOWN_RANK = 9
UNSAFE_GRADES = (Grade.D, Grade.C, Grade.UNRATED)

SOURCES = {
    "民政": Department.CIVIL_AFFAIRS,
    "民政部门": Department.CIVIL_AFFAIRS,
    "乡村振兴": Department.RURAL_REVITALISATION,
    "乡村振兴部门": Department.RURAL_REVITALISATION,
    "乡村振兴局": Department.RURAL_REVITALISATION,
    "农业农村": Department.RURAL_REVITALISATION,
    "其他": Department.OTHER,
    "其他部门": Department.OTHER,
} | {code: code for code in Department.values}


def set_definitions() -> dict[str, str]:
    """What each result set means, for the summary sheet and the web page."""
    return {
        ComparisonSet.NOT_IN_REGISTRY: _(
            "名单上有此人，但本辖区系统内没有以其身份证号码为户主的农户（系统只记录户主身份证号码）"
        ),
        ComparisonSet.CATEGORY_MISSING: _("名单上的人在系统内，但系统内该户没有名单所列类别的有效认定"),
        ComparisonSet.NO_LONGER_LISTED: _(
            "系统内该户有此类别的有效认定，但名单上已没有此人此类别（只比对名单中出现的类别）"
        ),
        ComparisonSet.NAME_DIFFERS: _("身份证号码相同，但名单姓名与系统户主姓名不同"),
        ComparisonSet.HOUSE_UNSAFE: _("名单上的人在系统内，其房屋为C级、D级、未鉴定，或尚未登记房屋"),
        ComparisonSet.LIKELY_TYPO: _(
            "名单上的身份证号码未通过校验，与系统内一位同名户主的号码只差一位数字或相邻两位颠倒"
        ),
    }


def parse_source(text: str) -> str:
    """民政 / 乡村振兴 / 其他 (or the department's code) → Department code; Chinese error otherwise."""
    code = SOURCES.get(clean_text(text))
    if code is None:
        raise DomainError(
            _("未知来源部门「{value}」，可选：民政、乡村振兴、其他").format(value=text),
            errors={"source": _("来源部门无效")},
        )
    return code


def near_misses(text: str) -> Iterator[str]:
    """Every well-formed ID one wrong character or one swap of neighbours away from `text` (see module doc).

    The weighted sum of the 17 digits is kept and only corrected for the changed digits, so each of the ~170
    candidates costs one lookup of the check character, not a recomputation of it.
    """
    digits = [int(c) for c in text[:17]]
    weights, table, check = idnumber.WEIGHTS, idnumber.CHECK_CHARS, text[17]
    total = sum(d * w for d, w in zip(digits, weights, strict=True))
    for i, (digit, weight) in enumerate(zip(digits, weights, strict=True)):
        for other in range(10):
            if other != digit and table[(total + (other - digit) * weight) % 11] == check:
                yield f"{text[:i]}{other}{text[i + 1 :]}"
    if table[total % 11] != check:  # the check character itself mistyped
        yield text[:17] + table[total % 11]
    for i in range(16):
        first, second = digits[i], digits[i + 1]
        if first != second and table[(total + (second - first) * (weights[i] - weights[i + 1])) % 11] == check:
            yield f"{text[:i]}{text[i + 1]}{text[i]}{text[i + 2 :]}"
    swapped_last = check != "X" and digits[16] != int(check)  # the last digit and the check character swapped
    if swapped_last and table[(total + (int(check) - digits[16]) * weights[16]) % 11] == text[16]:
        yield f"{text[:16]}{check}{text[16]}"


def name_key(name: str) -> str:
    """Names compared without spaces, middle dots or width differences (少数民族姓名 are written with · or ・)."""
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name or ""))


def _category_index() -> dict[str, TargetCategory]:
    index: dict[str, TargetCategory] = {}
    for category in TargetCategory.objects.all():
        for spelling in (category.name, category.code, *(category.short_names or [])):
            index[name_key(spelling).casefold()] = category
    return index


@dataclass(frozen=True)
class Issue:
    """A list row the comparison could not use, or used only in part (shown on the 问题行 sheet)."""

    row: int
    column: str
    value: str
    message: str
    compared: bool


@dataclass(frozen=True)
class Stage:
    """Where a running comparison is: a step's name and, where it is counted, how far (`total` 0: not counted) in
    what `unit` (steps when blank)."""

    label: str
    done: int = 0
    total: int = 0
    unit: str = ""


Progress = Callable[[Stage], None]
#: the comparisons running in this process (pk → Stage), for the web's status page: the findings are committed
#: (status DONE) before the workbook is written, and a million-row workbook takes ~20 s
LIVE_STAGES: dict[int, Stage] = {}


@dataclass
class Outcome:
    comparison: Comparison
    issues: list[Issue] = field(default_factory=list)


def list_columns() -> list[Column]:
    return [Column(key, header, aliases, required=key in REQUIRED) for key, (header, aliases) in COLUMNS.items()]


# -- reading the list into columns -----------------------------------------------------------------------------
def _read_list(path: Path) -> tuple[pl.Series, dict[str, Cells]]:
    """Spreadsheet row numbers and, per column the file has, its raw cells (reader.py's header and row rules)."""
    with open_table(path, list_columns()) as table:
        plain = _plain_csv(path, table)
        if plain is not None:
            return plain
        numbers: list[int] = []
        cells: dict[str, list[Any]] = {key: [] for key in table.positions}
        for number, row in table:
            numbers.append(number)
            for key, values in cells.items():
                values.append(row[key])
        return pl.Series("row", numbers, dtype=pl.UInt32), cells


def _plain_csv(path: Path, table: Table) -> tuple[pl.Series, dict[str, Cells]] | None:
    """A CSV whose lines are its rows (no quotes, no blank lines, no lone CR) read by polars, else None.

    Those conditions make line n of the file row n of the reader, so row numbers and blank-row skipping agree with
    the reader's; anything else is left to the reader, which also gives the exact message for a damaged file.
    """
    if path.suffix.lower() != ".csv":
        return None
    data = path.read_bytes()
    if data.startswith(_WORKBOOK_MAGIC):
        return None
    encoding, delimiter = csv_dialect(data[:SNIFF_BYTES])
    if encoding == "utf-8-sig":
        data = data[3:]
    elif encoding != "utf-8":
        try:
            data = data.decode(encoding).encode()
        except UnicodeDecodeError:
            return None
    if (  # each a memchr-speed scan of the bytes (a regular expression took 0.2 s on 57 MB)
        b'"' in data
        or b"\n\n" in data
        or data.startswith(b"\n")
        or any(space in data for space in _PY_ONLY_SPACES)
        or (
            b"\r" in data
            and (b"\n\r\n" in data or data.startswith(b"\r\n") or data.count(b"\r") != data.count(b"\r\n"))
        )
    ):
        return None
    start = 0
    for _line in range(table.header_row):
        start = data.find(b"\n", start) + 1
        if start == 0:
            start = len(data)
            break
    width = max(table.positions.values()) + 1
    try:
        frame = pl.read_csv(
            io.BytesIO(data[start:]),
            has_header=False,
            separator=delimiter,
            quote_char=None,
            schema={f"c{i}": pl.String for i in range(width)},
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None
    del data
    frame = frame.select(
        pl.int_range(table.header_row + 1, table.header_row + 1 + pl.len(), dtype=pl.UInt32).alias("row"),
        *(pl.col(f"c{i}").alias(key) for key, i in table.positions.items()),
    ).filter(pl.any_horizontal(pl.col(key).str.strip_chars() != "" for key in table.positions))
    if frame.height == 0:
        raise DomainError(_("文件只有表头，没有数据行"))
    return frame["row"], {key: frame[key] for key in table.positions}


def _per_value(cells: Cells, parse: Callable[[Any], Any]) -> tuple[pl.Series, list[Any]]:
    """`parse` once per distinct cell: (each row's index into the results, the results)."""
    if isinstance(cells, pl.Series):
        values = cells.unique(maintain_order=True)
        index = pl.DataFrame({"v": values, "i": pl.int_range(len(values), dtype=pl.UInt32, eager=True)})
        codes = cells.to_frame("v").join(index, on="v", how="left", nulls_equal=True, maintain_order="left")["i"]
        return codes, [parse(value) for value in values.to_list()]
    seen: dict[tuple[type, Any], int] = {}
    results: list[Any] = []
    positions = []
    for value in cells:
        key = (type(value), value)
        position = seen.get(key)
        if position is None:
            position = seen[key] = len(results)
            results.append(parse(value))
        positions.append(position)
    return pl.Series(positions, dtype=pl.UInt32), results


def _texts(cells: Cells) -> pl.Series:
    """clean_text of every cell (in Python only for the cells it could change, once per distinct value)."""
    if not isinstance(cells, pl.Series):
        codes, texts = _per_value(cells, clean_text)
        return pl.Series(texts, dtype=pl.String).gather(codes)
    others = (~cells.str.contains(_PLAIN_TEXT).fill_null(False)).arg_true()
    if not len(others):
        return cells
    codes, texts = _per_value(cells.gather(others), clean_text)
    return cells.clone().scatter(others, pl.Series(texts, dtype=pl.String).gather(codes))


def _pick(cells: Cells, positions: list[int]) -> list[Any]:
    if isinstance(cells, pl.Series):
        return cells.gather(positions).to_list()
    return [cells[i] for i in positions]


def _plain_ids(cells: Cells) -> pl.Series:
    """The cells that are 17 digits and a digit or X, as they are (others null): already normalised."""
    if not isinstance(cells, pl.Series):
        cells = pl.Series([v if type(v) is str else None for v in cells], dtype=pl.String)
    id_ = pl.col("id")
    return cells.to_frame("id").select(pl.when(id_.str.contains(r"^[0-9]{17}[0-9X]$")).then(id_))["id"]


def _valid_plain_ids(ids: pl.Series) -> pl.Series:
    """GB 11643 on plain IDs with polars: known address code, birth date 1880–today, check character (as validate)."""
    id_ = pl.col("id")
    born = id_.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    first17 = id_.str.slice(0, 17).cast(pl.UInt64)  # the digits by arithmetic: one parse instead of 17 slices
    total = sum((first17 // 10 ** (16 - i) % 10) * weight for i, weight in enumerate(idnumber.WEIGHTS))
    check = (total % 11).replace_strict(list(range(11)), list(idnumber.CHECK_CHARS), return_dtype=pl.String)
    valid = (
        id_.str.slice(0, 6).is_in(list(idnumber.known_address_codes()))
        & born.is_not_null()
        & (born.dt.year() >= 1880)
        & (born <= dt.date.today())
        & (id_.str.slice(17, 1) == check)
    )
    parts = [  # FETCH rows at a time: bounded memory for the intermediate columns
        ids.slice(start, FETCH).to_frame("id").select(valid.fill_null(False).alias("valid"))["valid"]
        for start in range(0, len(ids), FETCH)
    ]
    return pl.concat(parts, rechunk=False) if parts else pl.Series("valid", [], dtype=pl.Boolean)


def keyed_hashes(numbers: list[str]) -> list[str]:
    """idnumber.keyed_hash (hex, as stored) of many normalised numbers."""
    return [digest.hex() for digest in idnumber.keyed_digests(numbers)]


def _hashes(numbers: pl.Series) -> pl.Series:
    """idnumber.keyed_digests of a column, FETCH at a time (a million Python objects at once would double the peak).

    The frames carry the 32 raw bytes, not the 64 hex characters the database stores: a million of them on each
    side of the join are 60 MB less; findings turn them back into hex (_HEX) as they are written."""
    parts = [
        pl.Series(idnumber.keyed_digests(numbers.slice(start, FETCH).to_list()), dtype=pl.Binary)
        for start in range(0, len(numbers), FETCH)
    ]
    return pl.concat(parts, rechunk=False) if parts else pl.Series([], dtype=pl.Binary)


#: a frame's raw keyed hash as the database stores it
_HEX = pl.col("id_hash").bin.encode("hex")


# -- reading the registry as frames -----------------------------------------------------------------------------
def _within(prefix: str | None, column: str) -> tuple[str, list[str]]:
    """The scope as SQL (a range on the division code); none when the scope holds every row (prefix None): a
    range over the whole table makes SQLite walk the index and fetch each row, three times slower than a scan."""
    if prefix is None:
        return "1 = 1", []
    return f"{column} BETWEEN %s AND %s", list(code_range(prefix))


def _registry(prefix: str | None) -> pl.DataFrame:
    """The households in scope: keyed hash, pk, head name, village, the rank of the worst unsafe house (D, C or
    unrated; null: none) and whether it has a house at all.

    Three plain queries rather than one join with a grouped subquery (2.7 s at a million on SQLite): only the few
    unsafe houses are grouped, and the houseless households are an anti-join on the house index.
    """
    household, house = Household._meta.db_table, House._meta.db_table
    households, household_params = _within(prefix, "division_code")
    registry = bulk.table_frame(
        Household,
        {
            "id_hash": ("id_hash", pl.String),
            "pk": ("id", pl.Int64),
            "head_name": ("head_name", pl.String),
            "home": ("division_code", pl.String),
        },
        households,
        household_params,
    )
    rank = " ".join(f"WHEN '{grade}' THEN {_GRADE_RANK[grade]}" for grade in UNSAFE_GRADES)
    unsafe = bulk.query_frame(
        f"SELECT household_id, MIN(CASE grade {rank} END) FROM {house} "
        f"WHERE grade IN ({', '.join(['%s'] * len(UNSAFE_GRADES))}) AND {households} GROUP BY household_id",
        [*UNSAFE_GRADES, *household_params],
        {"pk": pl.Int64, "rank": pl.Int32},
    )
    scoped, scoped_params = _within(prefix, "h.division_code")
    houseless = bulk.query_frame(
        f"SELECT h.id FROM {household} h WHERE {scoped} AND NOT EXISTS "
        f"(SELECT 1 FROM {house} WHERE household_id = h.id AND {households})",
        scoped_params + household_params,
        {"pk": pl.Int64},
    )
    return registry.with_columns(  # new columns only: a join would copy the million rows
        pl.col("id_hash").str.decode("hex"),
        pl.col("head_name").fill_null(""),
        rank=pl.col("pk").replace_strict(unsafe["pk"], unsafe["rank"], default=None, return_dtype=pl.Int32),
        housed=~pl.col("pk").is_in(houseless["pk"].implode()),
    )


def _active(prefix: str | None, categories: set[int]) -> pl.DataFrame:
    """The registry's active memberships of the given categories in scope: (pk, category)."""
    schema = {"pk": pl.Int64, "category": pl.Int64}
    if not categories:
        return pl.DataFrame(schema=schema)
    within, params = _within(prefix, "division_code")
    marks = ", ".join(["%s"] * len(categories))
    sql = (
        f"SELECT household_id, category_id FROM {HouseholdCategory._meta.db_table} WHERE ended_on IS NULL "
        f"AND {within} AND category_id IN ({marks})"
    )
    return bulk.query_frame(sql, [*params, *sorted(categories)], schema)


def _match(valid: pl.DataFrame, registry: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The list rows whose keyed hash is in the registry (with the household's columns) and the others, in list
    order. The join is of the hashes and row positions only; the wide rows are then gathered by position: joining
    the wide frames took 400 MB more at a million rows (a keyed hash is unique in the registry)."""
    pairs = valid.select("id_hash", at=pl.int_range(pl.len(), dtype=pl.UInt32)).join(
        registry.select("id_hash", position=pl.int_range(pl.len(), dtype=pl.UInt32)),
        on="id_hash",
        how="inner",
        maintain_order="left",
    )
    matched = pl.concat(
        [valid[pairs["at"]], registry.drop("id_hash")[pairs["position"]]], how="horizontal", rechunk=False
    )
    unmatched = pl.repeat(True, valid.height, eager=True).scatter(pairs["at"], False)
    return matched, valid.filter(unmatched)


# -- the comparison --------------------------------------------------------------------------------------------
#: the columns of a finding after its comparison and result, as frames hold them
_ITEM_SCHEMA: dict[str, Any] = {
    "household": pl.Int64,
    "division": pl.String,
    "row": pl.Int64,
    "name": pl.String,
    "id_masked": pl.String,
    "id_hash": pl.String,
    "id_cipher": pl.String,
    "category_code": pl.String,
    "certified_on": pl.Date,
    "detail": pl.String,
}


def _item_exprs(
    *,
    household: str | pl.Expr,
    division: str | pl.Expr,
    id_cipher: str | pl.Expr = "",
    category_code: str | pl.Expr = "",
    certified_on: str | pl.Expr | None = None,
    detail: str | pl.Expr = "",
) -> list[pl.Expr]:
    """The columns of findings about list rows (row, name, masked ID, keyed hash from the row), in _ITEM_SCHEMA
    order; a str names a column, except the empty string (a blank value)."""

    def column(value: str | pl.Expr | None, dtype: Any = pl.String) -> pl.Expr:
        if isinstance(value, pl.Expr):
            return value
        return pl.col(value) if value else pl.lit(None if value is None else "", dtype=dtype)

    masked = pl.col("id").str.slice(0, 6) + pl.lit("*" * 8) + pl.col("id").str.slice(14)  # idnumber.mask
    return [
        column(household, pl.Int64).alias("household"),
        column(division).alias("division"),
        pl.col("row"),
        pl.col("name"),
        masked.alias("id_masked"),
        _HEX,
        column(id_cipher).alias("id_cipher"),
        column(category_code).alias("category_code"),
        column(certified_on, pl.Date).alias("certified_on"),
        column(detail).alias("detail"),
    ]


class _Run:
    """The comparison of one list: issues in row order, findings per result set in row order, then written."""

    def __init__(self, comparison: Comparison, scope: Division):
        self.comparison = comparison
        self.scope = scope
        self.prefix = scope.prefix
        self.categories = _category_index()
        self.by_pk = {c.pk: c for c in self.categories.values()}
        self.today = timezone.localdate()
        self.issues: list[tuple[int, int, int, Issue]] = []
        self.counts: dict[str, int] = dict.fromkeys(ComparisonSet.values, 0)
        self.rows: list[tuple[Any, ...]] = []
        self.frames: list[pl.DataFrame] = []
        self.listed_categories: set[int] = set()
        self.within: str | None = self.prefix  # None once the scope is known to hold every row
        self.total = 0

    # -- bookkeeping --------------------------------------------------------------------------------------------
    def pair_key(self) -> pl.Expr:
        """(household, category) as one integer, the category by its rank among all categories: hashing and
        joining one Int64 column takes a fraction of the memory of a two-column key at a million pairs."""
        ranks = {pk: rank for rank, pk in enumerate(sorted(self.by_pk))}
        category = pl.col("category").replace_strict(ranks, return_dtype=pl.Int64)
        return (pl.col("pk") * (len(ranks) + 1) + category).alias("key")

    def issue(self, row: int, step: int, column: str, value: str, message: str, compared: bool, order: int = 0) -> None:
        """A problem of `row`; (step, order) put it where the per-row reading meets it."""
        self.issues.append((row, step, order, Issue(row, COLUMNS[column][0], value, message, compared)))

    def add(self, result: str, household_id: int | None, division_id: str, **values: Any) -> None:
        self.counts[result] += 1
        self.rows.append(
            (
                result,
                household_id,
                division_id,
                values.get("row"),
                values.get("name", ""),
                values.get("id_masked", ""),
                values.get("id_hash", ""),
                values.get("id_cipher", ""),
                values.get("category_code", ""),
                values.get("certified_on"),
                values.get("detail", ""),
            )
        )

    def add_frame(self, result: str, items: pl.DataFrame) -> None:
        """Findings from a frame with the columns of _ITEM_SCHEMA."""
        self.counts[result] += items.height
        self.frames.append(items.select(pl.lit(result).alias("result"), *_ITEM_SCHEMA))

    def flush(self) -> None:
        """Write the findings of a stage (each set comes from one stage, in row order: their ids keep that order)."""
        if self.rows:
            schema = {"result": pl.String} | _ITEM_SCHEMA
            self.frames.insert(0, pl.DataFrame(self.rows, schema=schema, orient="row"))
        with bulk.bulk_session():
            for frame in self.frames:
                items = frame.cast(_ITEM_SCHEMA).select(pl.lit(self.comparison.pk).alias("comparison"), pl.all())
                bulk.insert_frame(ComparisonItem, items)
        self.rows, self.frames = [], []

    # -- the columns --------------------------------------------------------------------------------------------
    def run(self, path: Path, stage: Progress) -> None:
        """Read the list and the registry at the same time, then compute the sets stage by stage, writing each
        stage's findings as it ends.

        The list side (read, clean, check, hash: polars and Python) runs in a second thread while this one reads
        the registry (mostly the database's and polars' work, without the GIL): on two cores the two halves
        overlap. Only this thread uses the database connection; the list's thread gets the divisions it needs
        already read (PlaceResolver) and every category's memberships are read, the list's picked afterwards.
        `stage` is told of each step.
        """
        stage(Stage(_("读取名单和登记数据")))
        resolver = PlaceResolver()
        with ThreadPoolExecutor(max_workers=1) as pool:
            list_side = pool.submit(self._list, path, resolver, translation.get_language())
            self.within = self.prefix if self._outside() else None
            registry = _registry(self.within)
            active = _active(self.within, set(self.by_pk))
            valid, bad, bad_raws = list_side.result()
        steps = 4
        stage(Stage(_("比对"), 0, steps))
        active = active.filter(pl.col("category").is_in(sorted(self.listed_categories))).with_columns(self.pair_key())
        typo_pairs = self._bad_ids(bad, bad_raws, registry)
        matched, missing = _match(valid, registry)
        del valid, registry
        listed = self._matched(matched, typo_pairs, active)
        self.flush()
        stage(Stage(_("比对"), 1, steps))
        self._house(matched)
        del matched
        self.flush()
        stage(Stage(_("比对"), 2, steps))
        self._not_in_registry(missing)
        self.flush()
        stage(Stage(_("比对"), 3, steps))
        self._no_longer_listed(active, listed)
        self.flush()
        stage(Stage(_("比对"), steps, steps))

    def _list(self, path: Path, resolver: PlaceResolver, language: str) -> tuple[pl.DataFrame, pl.DataFrame, list[Any]]:
        """The list's rows with a valid ID (keyed hash added), those without, and the latter's raw ID cells."""
        with translation.override(language):
            rows, cells = _read_list(path)
            self.total = n = len(rows)
            blank = pl.Series([None] * n, dtype=pl.String)
            names = _texts(cells.get("name", blank))
            frame = pl.DataFrame({"idx": pl.int_range(n, dtype=pl.UInt32, eager=True), "row": rows, "name": names})
            for row in frame.filter(pl.col("name") == "")["row"].to_list():
                self.issue(row, 0, "name", "", _("姓名不能为空"), compared=False)
            frame = frame.with_columns(village=self._places(frame, cells, blank, resolver)).filter(
                (pl.col("name") != "") & pl.col("village").ne_missing("-")
            )
            frame = frame.with_columns(
                categories=self._categories(frame, cells.get("category", blank)),
                certified_on=self._dates(frame, cells.get("certified_on", blank)),
                id=self._ids(frame, cells.get("id_number", blank)),
            )
            valid = frame.filter(pl.col("id").is_not_null())
            bad = frame.filter(pl.col("id").is_null())
            bad_raws = _pick(cells.get("id_number", blank), bad["idx"].to_list())
            del cells, frame  # the raw cells and the unsplit rows: memory for the registry
            return valid.with_columns(id_hash=_hashes(valid["id"])), bad, bad_raws

    def _places(
        self, frame: pl.DataFrame, cells: dict[str, Cells], blank: pl.Series, resolver: PlaceResolver
    ) -> pl.Series:
        """Each row's village code: null if it names none (or one we cannot find), "-" if outside the scope."""
        villages = _texts(cells.get("village", blank)).gather(frame["idx"])
        named = (frame["name"] != "") & (villages != "")
        if not named.any():
            return pl.Series([None] * frame.height, dtype=pl.String)
        places = pl.DataFrame(
            {
                "idx": frame["idx"],
                "row": frame["row"],
                "county": _texts(cells.get("county", blank)).gather(frame["idx"]),
                "town": _texts(cells.get("town", blank)).gather(frame["idx"]),
                "village": villages,
            }
        )
        triples = places.filter(named).select("county", "town", "village").unique(maintain_order=True)
        codes, messages = [], []
        for county, town, village in triples.iter_rows():
            try:
                code = resolver.resolve(county, town, village)
            except ValueError as error:
                codes.append(None)
                messages.append(_("{reason}（已按身份证号码比对）").format(reason=error))
                continue
            if in_scope(code, self.prefix):
                codes.append(code)
                messages.append(None)
            else:
                codes.append("-")
                messages.append(_("不在本次比对范围（{scope}）内，未比对").format(scope=self.scope.name))
        triples = triples.with_columns(
            code=pl.Series(codes, dtype=pl.String), message=pl.Series(messages, dtype=pl.String)
        )
        places = places.filter(named).join(triples, on=["county", "town", "village"], how="left", maintain_order="left")
        for row, county, town, village, code, message in (
            places.filter(pl.col("message").is_not_null())
            .select("row", "county", "town", "village", "code", "message")
            .iter_rows()
        ):
            if code == "-":
                where = "".join(p for p in (county, town, village) if p)
                self.issue(row, 1, "village", where, message, compared=False)
            else:
                self.issue(row, 1, "village", village, message, compared=True)
        return frame.select("idx").join(places.select("idx", "code"), on="idx", how="left", maintain_order="left")[
            "code"
        ]

    def _parse_categories(self, raw: Any) -> tuple[list[int], list[str], bool]:
        found, unknown = [], []
        for text in split_multi(raw):
            category = self.categories.get(name_key(text).casefold())
            if category is None:
                unknown.append(text)
            else:
                found.append(category.pk)
        return found, unknown, not found and not clean_text(raw)

    def _categories(self, frame: pl.DataFrame, cells: Cells) -> pl.Series:
        """Each row's categories (pks, in the cell's order); unknown and empty cells reported."""
        codes, parsed = _per_value(cells, self._parse_categories)
        codes = codes.gather(frame["idx"])
        used = set(codes.unique().to_list())
        self.listed_categories = {pk for position in used for pk in parsed[position][0]}
        troubled = {position for position in used if parsed[position][1] or parsed[position][2]}
        if troubled:
            for row, position in zip(frame["row"], codes, strict=True):
                if position in troubled:
                    _found, unknown, empty = parsed[position]
                    for order, text in enumerate(unknown):
                        self.issue(row, 2, "category", text, _("未知类别，已忽略该类别"), True, order)
                    if empty:
                        self.issue(row, 2, "category", "", _("类别为空，只比对身份证号码和姓名"), compared=True)
        return pl.Series([found for found, _u, _e in parsed], dtype=pl.List(pl.Int64)).gather(codes)

    def _parse_date(self, raw: Any) -> tuple[dt.date | None, str, str]:
        text = clean_text(raw)
        if not text:
            return None, "", text
        try:
            return parse_date(raw, not_after=self.today), "", text
        except ValueError as error:
            return None, _("{reason}（认定日期未采用）").format(reason=error), text

    def _dates(self, frame: pl.DataFrame, cells: Cells) -> pl.Series:
        codes, parsed = _per_value(cells, self._parse_date)
        codes = codes.gather(frame["idx"])
        troubled = {position for position, (_day, message, _text) in enumerate(parsed) if message}
        if troubled:
            for row, position in zip(frame["row"], codes, strict=True):
                if position in troubled:
                    _day, message, text = parsed[position]
                    self.issue(row, 3, "certified_on", text, message, compared=True)
        return pl.Series([day for day, _m, _t in parsed], dtype=pl.Date).gather(codes)

    def _ids(self, frame: pl.DataFrame, cells: Cells) -> pl.Series:
        """Each row's normalised ID number (null if invalid): plain ones checked by polars, the rest by the parser."""
        plain = _plain_ids(cells).gather(frame["idx"])
        ok = _valid_plain_ids(plain)
        ids = pl.DataFrame({"id": plain, "ok": ok}).select(pl.when("ok").then("id"))["id"]
        others = (~ok).arg_true().to_list()
        if others:
            ids = ids.scatter(others, [_parsed_id(raw) for raw in _pick(cells, frame["idx"].gather(others).to_list())])
        return ids

    # -- the sets -----------------------------------------------------------------------------------------------
    def _bad_ids(self, bad: pl.DataFrame, raws: list[Any], registry: pl.DataFrame) -> list[tuple[int, int, int, int]]:
        """Likely typos (see the module docstring) and the problem rows of invalid IDs (`raws`: their ID cells); the
        typos' (idx, pos, pk, category), which count as listed."""
        if bad.is_empty():
            return []
        candidates: dict[int, list[str]] = {}
        for idx, raw in zip(bad["idx"], raws, strict=True):
            text = idnumber.normalize(clean_text(raw))
            if _ID_SHAPE.fullmatch(text):
                candidates[idx] = list(near_misses(text))
        numbers = [c for found in candidates.values() for c in found]
        hashes = dict(zip(numbers, idnumber.keyed_digests(numbers), strict=True))
        wanted = registry.filter(pl.col("id_hash").is_in(pl.Series(list(hashes.values()), dtype=pl.Binary).implode()))
        near = {
            h: (pk, name_key(head), home)
            for h, pk, head, home in wanted.select("id_hash", "pk", "head_name", "home").iter_rows()
        }
        pairs = []
        for (idx, row, name, categories, certified_on), raw in zip(
            bad.select("idx", "row", "name", "categories", "certified_on").iter_rows(), raws, strict=True
        ):
            raw_id = clean_text(raw)
            reason = _id_error(raw)
            text = idnumber.normalize(raw_id)
            key = name_key(name)
            for candidate in candidates.get(idx, []):
                found = near.get(hashes[candidate])
                if found is not None and found[1] == key:
                    pk, _name, home = found
                    # The department meant this household: its categories are on the list (no false "no longer").
                    pairs.extend((idx, order, pk, category) for order, category in enumerate(categories))
                    self.add(
                        ComparisonSet.LIKELY_TYPO,
                        pk,
                        home,
                        row=row,
                        name=name,
                        id_masked=idnumber.mask(text),
                        category_code="、".join(self.by_pk[c].code for c in categories)[:40],
                        certified_on=certified_on,
                        detail=_("系统内同名户主的身份证号码为{masked}；名单号码：{reason}").format(
                            masked=idnumber.mask(candidate), reason=reason
                        ),
                    )
                    break
            else:
                value = idnumber.mask(text) if len(text) == 18 else raw_id
                self.issue(row, 4, "id_number", value, reason, compared=False)
        return pairs

    def _matched(
        self, matched: pl.DataFrame, typo_pairs: list[tuple[int, int, int, int]], active: pl.DataFrame
    ) -> pl.Series:
        """姓名不同 per row, 类别缺失 per first (person, category); later repeats reported. Returns the listed pairs'
        keys (pair_key)."""
        for row, name, id_number, id_hash, pk, head, home in (
            matched.filter(pl.col("name") != pl.col("head_name"))
            .select("row", "name", "id", _HEX, "pk", "head_name", "home")
            .iter_rows()
        ):
            if name_key(name) != name_key(head):
                common = {"row": row, "name": name, "id_masked": idnumber.mask(id_number), "id_hash": id_hash}
                self.add(ComparisonSet.NAME_DIFFERS, pk, home, **common)
        # Pairs carry their row's position in `matched` (`at`; null for typos): rows are gathered back by position,
        # not joined back by idx, which would hash all of `matched` once more.
        schema = {"idx": pl.UInt32, "order": pl.Int64, "pk": pl.Int64, "category": pl.Int64, "at": pl.UInt32}
        listed = (
            matched.select(
                "idx",
                pl.int_ranges(pl.col("categories").list.len()).alias("order"),
                "pk",
                "categories",
                at=pl.int_range(pl.len(), dtype=pl.UInt32),
            )
            .explode("order", "categories")
            .drop_nulls("categories")
            .rename({"categories": "category"})
            .with_columns(pl.col("order").cast(pl.Int64))
        )
        typos = pl.DataFrame([(*pair, None) for pair in typo_pairs], schema=schema, orient="row")
        # both in row order already (typos are other rows): merged, not sorted
        pairs = listed.select(*schema).merge_sorted(typos.sort("idx", "order"), key="idx").with_columns(self.pair_key())
        pairs = pairs.with_columns(first=pl.col("key").is_first_distinct())
        repeats = pairs.filter(~pl.col("first") & pl.col("at").is_not_null())
        rows = matched["row"].gather(repeats["at"])
        for row, order, category in zip(rows, repeats["order"], repeats["category"], strict=True):
            name = self.by_pk[category].name
            self.issue(row, 4, "category", name, _("与前面的行重复（同一人同一类别）"), True, order)
        on_record = pl.col("key").is_in(active["key"].implode())
        gaps = pairs.filter(pl.col("first") & pl.col("at").is_not_null() & ~on_record)
        missing = pl.concat(
            [
                matched.select("row", "name", "id", _HEX, "home", "certified_on")[gaps["at"]],
                gaps.select("pk", "category"),
            ],
            how="horizontal",
        )
        for row, name, id_number, id_hash, pk, home, category, certified_on in missing.select(
            "row", "name", "id", "id_hash", "pk", "home", "category", "certified_on"
        ).iter_rows():
            self.add(
                ComparisonSet.CATEGORY_MISSING,
                pk,
                home,
                row=row,
                name=name,
                id_masked=idnumber.mask(id_number),
                id_hash=id_hash,
                category_code=self.by_pk[category].code,
                certified_on=certified_on,
            )
        return pairs["key"]

    def _house(self, matched: pl.DataFrame) -> None:
        """房屋不安全 on each household's first row: worst house D, C or unrated, or no house at all."""
        # the condition is the household's, so filtering first keeps each household's first row (a tenth to dedupe)
        unsafe = matched.filter(pl.col("rank").is_not_null() | ~pl.col("housed")).filter(
            pl.col("pk").is_first_distinct()
        )
        ranks = {rank: str(Grade(grade).label) for grade, rank in _GRADE_RANK.items()}
        detail = pl.col("rank").replace_strict(ranks, default=None, return_dtype=pl.String).fill_null(_("尚未登记房屋"))
        self.add_frame(
            ComparisonSet.HOUSE_UNSAFE, unsafe.select(*_item_exprs(household="pk", division="home", detail=detail))
        )

    def _not_in_registry(self, missing: pl.DataFrame) -> None:
        """One finding per (person, category) in row order; a person registered outside the scope gets a note."""
        rows = (
            missing.select(
                "idx",
                "row",
                "name",
                "id",
                "id_hash",
                "village",
                "certified_on",
                pl.when(pl.col("categories").list.len() > 0)
                .then(pl.col("categories"))
                .otherwise(pl.lit([0], dtype=pl.List(pl.Int64)))
                .alias("category"),
            )
            .with_columns(order=pl.int_ranges(pl.col("category").list.len()))
            .explode("category", "order")
            .with_columns(first=pl.struct("id_hash", "category").is_first_distinct())
        )
        for row, id_number, order in rows.filter(~pl.col("first")).select("row", "id", "order").iter_rows():
            self.issue(row, 4, "id_number", idnumber.mask(id_number), _("与前面的行重复"), True, order)
        rows = rows.filter("first")
        elsewhere = self._registered_elsewhere([h.hex() for h in rows["id_hash"].unique().to_list()])
        people = rows.unique("idx", keep="first", maintain_order=True).select("idx", "id")
        ciphers = people.select(
            "idx", id_cipher=pl.Series(idnumber.encrypt_many(people["id"].to_list()), dtype=pl.String)
        )
        codes = {pk: category.code for pk, category in self.by_pk.items()} | {0: ""}
        items = rows.join(ciphers, on="idx", how="left", maintain_order="left").select(
            *_item_exprs(
                household=pl.lit(None, dtype=pl.Int64),
                division=pl.col("village").fill_null(self.scope.code),
                id_cipher="id_cipher",
                category_code=pl.col("category").replace_strict(codes, return_dtype=pl.String),
                certified_on="certified_on",
                detail=pl.when(_HEX.is_in(list(elsewhere)))
                .then(pl.lit(_("已在本次比对范围以外登记，请核实户籍所在地")))
                .otherwise(pl.lit("")),
            )
        )
        self.add_frame(ComparisonSet.NOT_IN_REGISTRY, items)

    def _outside(self) -> bool:
        """Whether any household, house or membership lies outside the scope (if none, the scope is everything)."""
        low, high = code_range(self.prefix)
        outside = Q(division_id__lt=low) | Q(division_id__gt=high)
        return any(model.objects.filter(outside).exists() for model in (Household, House, HouseholdCategory))

    def _registered_elsewhere(self, hashes: list[str]) -> set[str]:
        low, high = code_range(self.prefix)
        outside = Household.objects.filter(Q(division_id__lt=low) | Q(division_id__gt=high))
        if not hashes or not outside.exists():
            return set()
        found: set[str] = set()
        for start in range(0, len(hashes), 500):
            found.update(outside.filter(id_hash__in=hashes[start : start + 500]).values_list("id_hash", flat=True))
        return found

    def _no_longer_listed(self, active: pl.DataFrame, listed: pl.Series) -> None:
        """Registry memberships of the list's categories that the list no longer has, by household and category
        (`listed`: the keys of the pairs on the list)."""
        gone = active.filter(~pl.col("key").is_in(listed.implode())).select("pk", "category")
        if gone.is_empty():
            return
        within, params = _within(self.within, "c.division_code")
        schema = {
            "pk": pl.Int64,
            "category": pl.Int64,
            "certified_on": pl.Date,
            "division": pl.String,
            "name": pl.String,
            "id_masked": pl.String,
            "id_hash": pl.String,
        }
        pks = gone["pk"].unique().sort().to_list()
        frames = []
        for start in range(0, len(pks), 20_000):
            numbers = ", ".join(str(int(pk)) for pk in pks[start : start + 20_000])  # keys read from the database
            sql = (
                "SELECT c.household_id, c.category_id, c.certified_on, c.division_code, h.head_name, h.id_masked, "
                f"h.id_hash FROM {HouseholdCategory._meta.db_table} c JOIN {Household._meta.db_table} h "
                f"ON h.id = c.household_id WHERE c.ended_on IS NULL AND {within} AND c.household_id IN ({numbers})"
            )
            frames.append(bulk.query_frame(sql, params, schema))
        codes = {pk: category.code for pk, category in self.by_pk.items()}
        items = pl.concat(frames).join(gone, on=["pk", "category"], how="semi").sort("pk", "category")
        self.add_frame(
            ComparisonSet.NO_LONGER_LISTED,
            items.select(
                pl.col("pk").alias("household"),
                "division",
                pl.lit(None, dtype=pl.Int64).alias("row"),
                "name",
                "id_masked",
                "id_hash",
                pl.lit("").alias("id_cipher"),
                pl.col("category").replace_strict(codes, return_dtype=pl.String).alias("category_code"),
                "certified_on",
                pl.lit("").alias("detail"),
            ),
        )

    def sorted_issues(self) -> list[Issue]:
        return [issue for *_key, issue in sorted(self.issues, key=lambda entry: entry[:3])]


def _parsed_id(raw: Any) -> str | None:
    try:
        return parse_id_number(raw)
    except ValueError:
        return None


def _id_error(raw: Any) -> str:
    try:
        parse_id_number(raw)
    except ValueError as error:
        return str(error)
    return ""


def comparison_scope(*, actor: Any, division_code: str | None) -> Division:
    """The division whose subtree is "the registry" for this comparison: the given one (within the actor's
    subtree) or the actor's own; the system actor must name one or compares against everything."""
    code = (division_code or "").strip()
    if not code:
        if actor is None:
            root = Division.objects.filter(parent__isnull=True).order_by("code").first()
            if root is None:
                raise DomainError(_("系统内还没有行政区划，请先导入"))
            return root
        return actor.division
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise DomainError(_("区划代码{code}不存在").format(code=code), errors={"division": _("区划代码不存在")})
    if actor is not None and not in_scope(division.code, actor.scope_prefix):
        raise ScopeError(_("「{name}」不在您的管辖范围内").format(name=division.name))
    return division


def comparison_run(
    *,
    actor: Any,
    path: Path,
    source: str,
    division_code: str | None = None,
    file_name: str = "",
    output: str | Path | IO[bytes] | None = None,
    progress: Progress | None = None,
    comparison: Comparison | None = None,
) -> Outcome:
    """Compare a department list with the registry in scope (P6), store the findings and write the workbook.

    All or nothing: a file that cannot be read stores nothing. One audit event (COMPARISON_RUN) with the counts
    and the file's SHA-256: the list holds personal data of many people (PIPL). `comparison`: the record a web
    job created (PENDING) for its page to follow; it is filled in instead of a new one. `output` (the workbook) is
    an export of the stored findings and may be left out (the web page writes it, the terminal asks for it).
    `progress` is told of each step (a Stage), and so is `LIVE_STAGES` while the comparison runs.
    """
    if actor is not None:
        require_action(actor, "exchange.compare")
    source = parse_source(source)
    scope = comparison_scope(actor=actor, division_code=division_code)
    path = Path(path)
    if not path.is_file():
        raise DomainError(_("文件不存在：{path}").format(path=path))
    comparison = comparison or Comparison()
    try:
        outcome = _compared(comparison, scope, actor, path, source, file_name, _stages(comparison, progress))
        if output is not None:
            try:
                comparison_report(outcome, output, stage=_stages(comparison, progress))
            except Exception as exc:  # the findings are committed: say so on the record, then fail as before
                message = _("比对结果已保存，但结果表生成失败：{error}").format(error=exc)[:1000]
                Comparison.objects.filter(pk=comparison.pk).update(message=message)
                raise
    finally:
        LIVE_STAGES.pop(comparison.pk, None)
    return outcome


def _stages(comparison: Comparison, progress: Progress | None) -> Progress:
    """A step of `comparison` to `LIVE_STAGES` (the web page) and to `progress` (the terminal)."""

    def stage(now: Stage) -> None:
        LIVE_STAGES[comparison.pk] = now
        if progress:
            progress(now)

    return stage


def _compared(
    comparison: Comparison,
    scope: Division,
    actor: Any,
    path: Path,
    source: str,
    file_name: str,
    stage: Progress,
) -> Outcome:
    """The comparison's findings, stored in one transaction with the record and its audit event."""
    with transaction.atomic():
        values = {
            "division": scope,
            "source": source,
            "file_name": (file_name or path.name)[:255],
            "file_sha256": sha256_of(path)[0],
            "status": RunStatus.RUNNING,
            "created_by": actor if getattr(actor, "pk", None) else None,
        }
        for name, value in values.items():
            setattr(comparison, name, value)
        comparison.save(update_fields=list(values) if comparison.pk else None)
        run = _Run(comparison, scope)
        run.run(path, stage)
        issues = run.sorted_issues()
        comparison.total = run.total
        comparison.counts = run.counts | {
            "issues": len(issues),
            "not_compared": sum(1 for i in issues if not i.compared),
        }
        comparison.status = RunStatus.DONE
        comparison.finished_at = timezone.now()
        comparison.save(update_fields=["total", "counts", "status", "finished_at"])
        event_record(
            actor=actor,
            action=Action.COMPARISON_RUN,
            obj=comparison,
            division_code=scope.code,
            extra={"source": source, "file_sha256": comparison.file_sha256, "rows": run.total} | comparison.counts,
        )
    return Outcome(comparison, issues)


# -- the workbook ----------------------------------------------------------------------------------------------
def _item_columns() -> list[tuple[str, int]]:
    return [
        (_("序号"), 7),
        (_("名单行号"), 9),
        (_("姓名"), 10),
        (_("身份证号码"), 21),
        (_("类别"), 16),
        (_("认定日期"), 12),
        (_("县（市、区）"), 12),
        (_("乡镇（街道）"), 14),
        (_("行政村"), 16),
        (_("系统户主姓名"), 12),
        (_("系统身份证号码"), 21),
        (_("房屋安全等级"), 12),
        (_("说明"), 50),
    ]


def worst_grades(household_ids: list[int]) -> dict[int, str]:
    worst: dict[int, str] = {}
    for pk, grade in House.objects.filter(household_id__in=household_ids).values_list("household_id", "grade"):
        known = worst.get(pk)
        if known is None or _GRADE_RANK.get(grade, _UNKNOWN_RANK) < _GRADE_RANK.get(known, _UNKNOWN_RANK):
            worst[pk] = grade
    return worst


def _place_names() -> dict[str, tuple[str, str, str]]:
    """Division code → (county, town, village) names; a finding may sit at a village or at the scope's level."""
    rows = {
        code: (name, level, parent)
        for code, name, level, parent in Division.objects.values_list("code", "name", "level", "parent_id")
    }
    order = {Level.COUNTY: 0, Level.TOWN: 1, Level.VILLAGE: 2}
    names = {}
    for code in rows:
        parts = ["", "", ""]
        current: str | None = code
        while current and current in rows:
            name, level, parent = rows[current]
            if level in order:
                parts[order[level]] = name
            current = parent
        names[code] = (parts[0], parts[1], parts[2])
    return names


def comparison_report(outcome: Outcome, output: str | Path | IO[bytes], stage: Progress | None = None) -> None:
    """汇总 + one sheet per result set + 问题行, masked IDs only; frozen header, widths, real dates.

    Written in constant memory from the stored findings (chunks of CHUNK rows), so the report of a million-row
    list takes the memory of one chunk. When `output` is a path, a copy is kept with the comparison (web page).
    `stage` follows it chunk by chunk.
    """
    comparison = outcome.comparison
    rows = sum(comparison.counts.get(result, 0) for result in ComparisonSet.values)
    step, unit = _("生成结果表"), _("行")
    if stage:
        stage(Stage(step, 0, rows, unit))
    book = xlsxwriter.Workbook(output, {"constant_memory": True, "strings_to_numbers": False})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    title = book.add_format({"bold": True, "font_size": 14})
    text = book.add_format({"num_format": "@"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    labels = {k: str(v) for k, v in ComparisonSet.choices}
    definitions = set_definitions()

    summary = book.add_worksheet(_("汇总"))
    summary.set_column(0, 0, 30)
    summary.set_column(1, 1, 14)
    summary.set_column(2, 2, 90)
    summary.write_string(0, 0, _("部门数据比对结果（P6）"), title)
    facts = [
        (_("来源部门"), comparison.get_source_display()),
        (_("文件"), comparison.file_name),
        (_("文件摘要（SHA-256）"), comparison.file_sha256),
        (_("比对范围"), comparison.division.name),
        (_("比对时间"), timezone.localtime(comparison.created_at).strftime("%Y-%m-%d %H:%M")),
        (_("名单数据行"), str(comparison.total)),
    ]
    for row, (label, value) in enumerate(facts, start=2):
        summary.write_string(row, 0, label, header)
        summary.write_string(row, 1, value, text)
    start = len(facts) + 3
    for col, label in enumerate((_("结果"), _("数量"), _("说明"))):
        summary.write_string(start, col, label, header)
    counts = comparison.counts
    for row, result in enumerate(ComparisonSet.values, start=start + 1):
        summary.write_string(row, 0, labels[result])
        summary.write_number(row, 1, counts.get(result, 0))
        summary.write_string(row, 2, definitions[result])
    row = start + 1 + len(ComparisonSet.values)
    summary.write_string(row, 0, _("问题行"))
    summary.write_number(row, 1, len(outcome.issues))
    summary.write_string(row, 2, _("名单中无法比对或只能部分比对的行（身份证号码无效、未知类别、不在比对范围内等）"))
    summary.freeze_panes(start + 1, 0)

    places = _place_names()
    grade_labels = {k: str(v) for k, v in Grade.choices}
    category_names = dict(TargetCategory.objects.values_list("code", "name"))
    columns = _item_columns()
    written = 0
    for result in ComparisonSet.values:
        sheet = book.add_worksheet(labels[result][:31].replace("/", "、"))
        for col, (label, width) in enumerate(columns):
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, label, header)
        sheet.freeze_panes(1, 0)
        items = (
            ComparisonItem.objects.filter(comparison=comparison, result=result)
            .order_by("id")
            .values_list(
                "row",
                "name",
                "id_masked",
                "category_code",
                "certified_on",
                "division_id",
                "household_id",
                "household__head_name",
                "household__id_masked",
                "detail",
            )
        )
        number = 0
        chunk: list[tuple[Any, ...]] = []

        def write(rows: list[tuple[Any, ...]], sheet: Any = sheet) -> None:
            nonlocal number
            grades = worst_grades([r[6] for r in rows if r[6]])
            for line, name, masked, category, certified, village, pk, head, head_masked, detail in rows:
                number += 1
                level_names = places.get(village, ("", "", ""))
                grade = grade_labels.get(grades.get(pk, ""), _("未登记房屋") if pk else "")
                category = "、".join(category_names.get(code, code) for code in category.split("、") if code)
                values = [number, line or "", name, masked, category, certified, *level_names]
                values += [head or "", head_masked or "", grade, detail]
                for col, value in enumerate(values):
                    if isinstance(value, int):
                        sheet.write_number(number, col, value)
                    elif isinstance(value, dt.date):
                        sheet.write_datetime(number, col, dt.datetime.combine(value, dt.time()), date)
                    else:
                        sheet.write_string(number, col, str(value), text)

        for values in items.iterator(chunk_size=CHUNK):
            chunk.append(values)
            if len(chunk) >= CHUNK:
                write(chunk)
                chunk = []
                if stage:
                    stage(Stage(step, written + number, rows, unit))
        if chunk:
            write(chunk)
        written += number
        if stage:
            stage(Stage(step, written, rows, unit))
        sheet.autofilter(0, 0, max(number, 1), len(columns) - 1)

    sheet = book.add_worksheet(_("问题行"))
    issue_columns = [(_("名单行号"), 9), (_("列"), 14), (_("值"), 24), (_("原因"), 60), (_("是否已比对"), 12)]
    for col, (label, width) in enumerate(issue_columns):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, label, header)
    sheet.freeze_panes(1, 0)
    for row, issue in enumerate(outcome.issues, start=1):
        sheet.write_number(row, 0, issue.row)
        sheet.write_string(row, 1, issue.column, text)
        sheet.write_string(row, 2, issue.value, text)
        sheet.write_string(row, 3, issue.message, text)
        sheet.write_string(row, 4, _("部分比对") if issue.compared else _("未比对"), text)
    book.set_properties({"title": _("部门数据比对结果")})
    book.close()
    if isinstance(output, str | Path):
        with Path(output).open("rb") as handle:
            comparison.report_file.save(f"comparison-{comparison.pk}.xlsx", File(handle), save=True)
