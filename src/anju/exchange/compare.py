"""Department comparison (P6): a department's list of certified people against the registry, in one pass.

The list (DESIGN.md "Department lists": 姓名 身份证号码 类别 认定日期, optionally 县（市、区） 乡镇（街道） 行政村) is
streamed once. Each ID number is turned into its keyed hash and looked up in a dict of the households in scope
(keyed hash → household), so a million rows against a million households is two linear passes and a few dict
lookups per row; nothing is sorted or compared pairwise. Only household heads can be matched: members carry no ID
number in the registry (registry.Member), so a member on the list is reported as not in the registry.

Findings are written to the database as they are found (ComparisonItem, bulk inserts), so memory holds the
registry index, not the findings; the workbook is then written from the stored rows.

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
import hashlib
import hmac
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core import idnumber
from anju.core.errors import DomainError, ScopeError
from anju.core.scope import in_scope, scope_q
from anju.divisions.models import Division, Level
from anju.registry.models import Department, Grade, House, Household, HouseholdCategory, TargetCategory

from .models import Comparison, ComparisonItem, ComparisonSet, RunStatus
from .places import PlaceResolver
from .reader import Column, open_table, sha256_of
from .values import clean_text, parse_date, parse_id_number, split_multi

Progress = Callable[[int], None]

FLUSH = 5000
CHUNK = 2000
_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_NAME_NOISE = re.compile(r"[\s·•・.]")

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


def id_hasher() -> Callable[[str], str]:
    """idnumber.keyed_hash for already normalised numbers, with the HMAC key set up once (a million rows)."""
    base = hmac.new(bytes.fromhex(settings.ANJU_ID_HASH_KEY), digestmod=hashlib.sha256)

    def digest(value: str) -> str:
        mac = base.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    return digest


def near_misses(text: str) -> Iterator[str]:
    """Every well-formed ID one wrong character or one swap of neighbours away from `text` (see module doc)."""
    chars = list(text)
    for i in range(18):
        original = chars[i]
        for c in "0123456789X" if i == 17 else "0123456789":
            if c != original:
                chars[i] = c
                if idnumber.check_char("".join(chars[:17])) == chars[17]:
                    yield "".join(chars)
        chars[i] = original
    for i in range(17):
        if chars[i] != chars[i + 1] and (i < 16 or chars[17] != "X"):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            if idnumber.check_char("".join(chars[:17])) == chars[17]:
                yield "".join(chars)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]


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


@dataclass
class Outcome:
    comparison: Comparison
    issues: list[Issue] = field(default_factory=list)


class _Registry:
    """The households in scope, loaded once: keyed hash → (pk, name key, village), worst house grade, categories."""

    def __init__(self, prefix: str):
        villages: dict[str, str] = {}
        self.by_hash: dict[str, tuple[int, str, str]] = {}
        households = Household.objects.filter(scope_q("division_id", prefix)).order_by()
        for id_hash, pk, name, village in households.values_list("id_hash", "pk", "head_name", "division_id").iterator(
            chunk_size=20000
        ):
            self.by_hash[id_hash] = (pk, name_key(name), villages.setdefault(village, village))
        self.worst: dict[int, str] = {}
        houses = House.objects.filter(scope_q("division_id", prefix)).order_by()
        for pk, grade in houses.values_list("household_id", "grade").iterator(chunk_size=20000):
            known = self.worst.get(pk)
            if known is None or _GRADE_RANK.get(grade, 9) < _GRADE_RANK.get(known, 9):
                self.worst[pk] = grade
        active = HouseholdCategory.objects.filter(scope_q("division_id", prefix), ended_on__isnull=True).order_by()
        self.active: set[tuple[int, int]] = set(active.values_list("household_id", "category_id").iterator(20000))


def list_columns() -> list[Column]:
    return [Column(key, header, aliases, required=key in REQUIRED) for key, (header, aliases) in COLUMNS.items()]


class _Run:
    """One pass over the list; findings go to the database in batches of FLUSH rows."""

    def __init__(self, comparison: Comparison, scope: Division, registry: _Registry, progress: Progress | None):
        self.comparison = comparison
        self.scope = scope
        self.prefix = scope.prefix
        self.registry = registry
        self.progress = progress
        self.hash = id_hasher()
        self.categories = _category_index()
        self.resolver: Any = None
        self.today = timezone.localdate()
        self.issues: list[Issue] = []
        self.counts: dict[str, int] = dict.fromkeys(ComparisonSet.values, 0)
        self.pending: list[ComparisonItem] = []
        self.listed: set[tuple[int, int]] = set()
        self.listed_categories: set[int] = set()
        self.unmatched: set[tuple[str, int]] = set()
        self.unsafe_seen: set[int] = set()
        self.rows = 0

    # -- one row ------------------------------------------------------------------------------------------------
    def row(self, number: int, cells: dict[str, Any]) -> None:
        self.rows += 1
        name = clean_text(cells.get("name"))
        raw_id = clean_text(cells.get("id_number"))
        if not name:
            self._issue(number, "name", "", _("姓名不能为空"), compared=False)
            return
        village = self._place(number, cells)
        if village is False:
            return
        categories = self._categories(number, cells)
        certified_on = self._date(number, cells)
        try:
            id_number = parse_id_number(cells.get("id_number"))
        except ValueError as error:
            self._bad_id(number, name, raw_id, str(error), categories, certified_on)
            return
        id_hash = self.hash(id_number)
        found = self.registry.by_hash.get(id_hash)
        if found is None:
            self._not_in_registry(number, name, id_number, id_hash, categories, certified_on, village)
            return
        pk, registry_name, household_village = found
        common = {"row": number, "name": name, "id_masked": idnumber.mask(id_number), "id_hash": id_hash}
        if name_key(name) != registry_name:
            self._add(ComparisonSet.NAME_DIFFERS, pk, household_village, **common)
        for category in categories:
            pair = (pk, category.pk)
            if pair in self.listed:
                self._issue(number, "category", category.name, _("与前面的行重复（同一人同一类别）"), compared=True)
                continue
            self.listed.add(pair)
            if pair not in self.registry.active:
                self._add(
                    ComparisonSet.CATEGORY_MISSING,
                    pk,
                    household_village,
                    category_code=category.code,
                    certified_on=certified_on,
                    **common,
                )
        if pk not in self.unsafe_seen:
            self.unsafe_seen.add(pk)
            worst = self.registry.worst.get(pk)
            if worst is None or worst in UNSAFE_GRADES:
                detail = _("尚未登记房屋") if worst is None else Grade(worst).label
                self._add(ComparisonSet.HOUSE_UNSAFE, pk, household_village, detail=str(detail), **common)

    def _place(self, number: int, cells: dict[str, Any]) -> str | bool | None:
        """The village the row names (None if it names none or one we cannot find); False: outside the scope."""
        county, town, village = (clean_text(cells.get(k)) for k in ("county", "town", "village"))
        if not village:
            return None
        if self.resolver is None:
            self.resolver = PlaceResolver()
        try:
            code = self.resolver.resolve(county, town, village)
        except ValueError as error:
            self._issue(number, "village", village, _("{reason}（已按身份证号码比对）").format(reason=error), True)
            return None
        if not in_scope(code, self.prefix):
            where = "".join(p for p in (county, town, village) if p)
            self._issue(
                number,
                "village",
                where,
                _("不在本次比对范围（{scope}）内，未比对").format(scope=self.scope.name),
                compared=False,
            )
            return False
        return code

    def _categories(self, number: int, cells: dict[str, Any]) -> list[TargetCategory]:
        found = []
        for text in split_multi(cells.get("category")):
            category = self.categories.get(name_key(text).casefold())
            if category is None:
                self._issue(number, "category", text, _("未知类别，已忽略该类别"), compared=True)
            else:
                found.append(category)
                self.listed_categories.add(category.pk)
        if not found and not clean_text(cells.get("category")):
            self._issue(number, "category", "", _("类别为空，只比对身份证号码和姓名"), compared=True)
        return found

    def _date(self, number: int, cells: dict[str, Any]) -> dt.date | None:
        raw = cells.get("certified_on")
        if not clean_text(raw):
            return None
        try:
            return parse_date(raw, not_after=self.today)
        except ValueError as error:
            self._issue(
                number, "certified_on", clean_text(raw), _("{reason}（认定日期未采用）").format(reason=error), True
            )
            return None

    def _bad_id(
        self,
        number: int,
        name: str,
        raw_id: str,
        reason: str,
        categories: list[TargetCategory],
        certified_on: dt.date | None,
    ) -> None:
        text = idnumber.normalize(raw_id)
        if _ID_SHAPE.fullmatch(text):
            key = name_key(name)
            for candidate in near_misses(text):
                found = self.registry.by_hash.get(self.hash(candidate))
                if found is not None and found[1] == key:
                    pk, _name, village = found
                    # The department meant this household: its categories are on the list (no false "no longer").
                    self.listed.update((pk, category.pk) for category in categories)
                    self._add(
                        ComparisonSet.LIKELY_TYPO,
                        pk,
                        village,
                        row=number,
                        name=name,
                        id_masked=idnumber.mask(text),
                        category_code="、".join(c.code for c in categories)[:40],
                        certified_on=certified_on,
                        detail=_("系统内同名户主的身份证号码为{masked}；名单号码：{reason}").format(
                            masked=idnumber.mask(candidate), reason=reason
                        ),
                    )
                    return
        self._issue(number, "id_number", idnumber.mask(text) if len(text) == 18 else raw_id, reason, compared=False)

    def _not_in_registry(
        self,
        number: int,
        name: str,
        id_number: str,
        id_hash: str,
        categories: list[TargetCategory],
        certified_on: dt.date | None,
        village: str | None,
    ) -> None:
        cipher = idnumber.encrypt(id_number)
        for category in categories or [None]:
            key = (id_hash, category.pk if category else 0)
            if key in self.unmatched:
                self._issue(number, "id_number", idnumber.mask(id_number), _("与前面的行重复"), compared=True)
                continue
            self.unmatched.add(key)
            self._add(
                ComparisonSet.NOT_IN_REGISTRY,
                None,
                village or self.scope.code,
                row=number,
                name=name,
                id_masked=idnumber.mask(id_number),
                id_hash=id_hash,
                id_cipher=cipher,
                category_code=category.code if category else "",
                certified_on=certified_on,
            )

    # -- bookkeeping --------------------------------------------------------------------------------------------
    def _issue(self, row: int, column: str, value: str, message: str, compared: bool) -> None:
        self.issues.append(Issue(row, COLUMNS[column][0], value, message, compared))

    def _add(self, result: str, household_id: int | None, division_id: str, **values: Any) -> None:
        self.counts[result] += 1
        self.pending.append(
            ComparisonItem(
                comparison=self.comparison,
                result=result,
                household_id=household_id,
                division_id=division_id,
                **values,
            )
        )
        if len(self.pending) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        """Write the pending findings; people missing here but registered in another area get a note."""
        missing: dict[str, list[ComparisonItem]] = defaultdict(list)
        for item in self.pending:
            if item.result == ComparisonSet.NOT_IN_REGISTRY:
                missing[item.id_hash].append(item)
        hashes = list(missing)
        for start in range(0, len(hashes), 500):
            elsewhere = Household.objects.filter(id_hash__in=hashes[start : start + 500]).values_list(
                "id_hash", flat=True
            )
            for id_hash in elsewhere:
                for item in missing[id_hash]:
                    item.detail = _("已在本次比对范围以外登记，请核实户籍所在地")
        ComparisonItem.objects.bulk_create(self.pending, batch_size=1000)
        self.pending = []

    def finish(self) -> None:
        """Registry memberships of the list's categories that the list no longer has."""
        if self.listed_categories:
            memberships = (
                HouseholdCategory.objects.filter(
                    scope_q("division_id", self.prefix),
                    ended_on__isnull=True,
                    category_id__in=self.listed_categories,
                )
                .order_by("household_id", "category_id")
                .values_list(
                    "household_id",
                    "category_id",
                    "category__code",
                    "certified_on",
                    "division_id",
                    "household__head_name",
                    "household__id_masked",
                    "household__id_hash",
                )
            )
            for pk, category_id, code, certified_on, village, head, masked, id_hash in memberships.iterator(CHUNK):
                if (pk, category_id) not in self.listed:
                    self._add(
                        ComparisonSet.NO_LONGER_LISTED,
                        pk,
                        village,
                        name=head,
                        id_masked=masked,
                        id_hash=id_hash,
                        category_code=code,
                        certified_on=certified_on,
                    )
        self.flush()


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
    job created (PENDING) for its page to follow; it is filled in instead of a new one.
    """
    if actor is not None:
        require_action(actor, "exchange.compare")
    source = parse_source(source)
    scope = comparison_scope(actor=actor, division_code=division_code)
    path = Path(path)
    if not path.is_file():
        raise DomainError(_("文件不存在：{path}").format(path=path))
    with transaction.atomic():
        values = {
            "division": scope,
            "source": source,
            "file_name": (file_name or path.name)[:255],
            "file_sha256": sha256_of(path)[0],
            "status": RunStatus.RUNNING,
            "created_by": actor if getattr(actor, "pk", None) else None,
        }
        if comparison is None:
            comparison = Comparison.objects.create(**values)
        else:
            for name, value in values.items():
                setattr(comparison, name, value)
            comparison.save(update_fields=list(values))
        run = _Run(comparison, scope, _Registry(scope.prefix), progress)
        done = 0
        with open_table(path, list_columns()) as table:
            for number, cells in table:
                run.row(number, cells)
                done += 1
                if progress and done % CHUNK == 0:
                    progress(CHUNK)
        if progress and done % CHUNK:
            progress(done % CHUNK)
        run.finish()
        comparison.total = run.rows
        comparison.counts = run.counts | {
            "issues": len(run.issues),
            "not_compared": sum(1 for i in run.issues if not i.compared),
        }
        comparison.status = RunStatus.DONE
        comparison.finished_at = timezone.now()
        comparison.save(update_fields=["total", "counts", "status", "finished_at"])
        event_record(
            actor=actor,
            action=Action.COMPARISON_RUN,
            obj=comparison,
            division_code=scope.code,
            extra={"source": source, "file_sha256": comparison.file_sha256, "rows": run.rows} | comparison.counts,
        )
    outcome = Outcome(comparison, run.issues)
    if output is not None:
        comparison_report(outcome, output)
    return outcome


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
        if known is None or _GRADE_RANK.get(grade, 9) < _GRADE_RANK.get(known, 9):
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


def comparison_report(outcome: Outcome, output: str | Path | IO[bytes]) -> None:
    """汇总 + one sheet per result set + 问题行, masked IDs only; frozen header, widths, real dates.

    Written in constant memory from the stored findings (chunks of CHUNK rows), so the report of a million-row
    list takes the memory of one chunk. When `output` is a path, a copy is kept with the comparison (web page).
    """
    comparison = outcome.comparison
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
        if chunk:
            write(chunk)
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
