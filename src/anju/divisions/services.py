"""Writes to the division tree: NBS-format imports (the Yulin fixture is one such file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.scope import PREFIX_LENGTH, in_scope
from anju.exchange.rows import ImportReport, RowError, read_rows

from .models import LEVEL_ORDER, Division, Level

BASE_FILE = Path(__file__).parent / "data" / "yulin-divisions.csv"
COLUMNS = ["code", "name", "level", "parent_code"]
# Level names accepted in import files: the codes, the Chinese level names (file data, so not the translated
# labels of `Level`) and common short forms.
LEVEL_ALIASES = (
    {lv.value: lv.value for lv in Level}
    | {
        "省": "province",
        "市": "city",
        "县（市、区）": "county",
        "乡镇（街道）": "town",
        "行政村（社区）": "village",
    }
    | {
        "区县": "county",
        "县": "county",
        "乡镇": "town",
        "街道": "town",
        "村": "village",
        "社区": "village",
    }
)


@dataclass(frozen=True)
class DivisionRow:
    row: int
    code: str
    name: str
    level: str
    parent_code: str


def level_of_code(code: str) -> str:
    """The level a 12-digit NBS code denotes by its trailing zero groups."""
    if code[2:] == "0" * 10:
        return Level.PROVINCE
    if code[4:] == "0" * 8:
        return Level.CITY
    if code[6:] == "0" * 6:
        return Level.COUNTY
    if code[9:] == "000":
        return Level.TOWN
    return Level.VILLAGE


def parent_code_of(code: str, parent_level: str) -> str:
    return code[: PREFIX_LENGTH[parent_level]].ljust(12, "0")


def division_rows_check(rows: list[DivisionRow], existing: dict[str, str]) -> list[RowError]:
    """Check codes, levels, parents and cycles against the file and the database together."""
    errors: list[RowError] = []
    in_file: dict[str, DivisionRow] = {}
    bad_level: set[str] = set()
    for r in rows:
        if not (len(r.code) == 12 and r.code.isdigit()):
            errors.append(RowError(r.row, "code", r.code, _("区划代码必须是12位数字")))
            continue
        if r.code in in_file:
            errors.append(RowError(r.row, "code", r.code, _("区划代码与第{row}行重复").format(row=in_file[r.code].row)))
            continue
        in_file[r.code] = r
        if not r.name:
            errors.append(RowError(r.row, "name", "", _("名称不能为空")))
        if r.level not in LEVEL_ALIASES.values():
            errors.append(RowError(r.row, "level", r.level, _("级别应为 province/city/county/town/village 之一")))
            bad_level.add(r.code)
        elif level_of_code(r.code) != r.level:
            bad_level.add(r.code)
            label = Level(level_of_code(r.code)).label
            message = _("区划代码{code}按编码规则属于「{level}」级").format(code=r.code, level=label)
            errors.append(RowError(r.row, "level", r.level, message))

    levels = existing | {code: r.level for code, r in in_file.items()}
    parents = {code: r.parent_code for code, r in in_file.items()}
    for code, r in in_file.items():
        if code in bad_level or (r.level == Level.PROVINCE and not r.parent_code):
            continue
        if not r.parent_code:
            if r.level != Level.CITY:
                errors.append(RowError(r.row, "parent_code", "", _("只有省级或市级区划可以没有上级")))
            continue
        # A cycle is reported as such before any level check, so the user sees the real problem.
        seen, cursor = {code}, r.parent_code
        while cursor in parents:
            if cursor in seen:
                errors.append(RowError(r.row, "parent_code", r.parent_code, _("上级关系形成循环")))
                break
            seen.add(cursor)
            cursor = parents[cursor]
        else:
            if r.parent_code not in levels:
                errors.append(RowError(r.row, "parent_code", r.parent_code, _("上级区划不存在（文件和系统中都没有）")))
                continue
            parent_level = levels[r.parent_code]
            if parent_level not in LEVEL_ORDER or r.level not in LEVEL_ORDER:
                continue
            if LEVEL_ORDER.index(parent_level) >= LEVEL_ORDER.index(r.level) or not r.code.startswith(
                r.parent_code[: PREFIX_LENGTH[parent_level]]
            ):
                errors.append(
                    RowError(
                        r.row,
                        "parent_code",
                        r.parent_code,
                        _("{code}不是上级区划{parent}的下级代码").format(code=r.code, parent=r.parent_code),
                    )
                )
    return errors


def _parse(path: Path) -> list[DivisionRow]:
    out = []
    for number, cells in read_rows(path, COLUMNS):
        level = cells.get("level", "")
        out.append(
            DivisionRow(
                row=number,
                code=cells.get("code", ""),
                name=cells.get("name", ""),
                level=LEVEL_ALIASES.get(level, level),
                parent_code=cells.get("parent_code", ""),
            )
        )
    return out


@transaction.atomic
def division_import(*, actor, path: Path, dry_run: bool = False, is_sample: bool = False) -> ImportReport:
    """Load an NBS-format file (code,name,level,parent_code); all-or-nothing, every bad row reported.

    `actor=None` is the system (installation); a user may only add divisions inside their subtree.
    """
    if actor is not None:
        require_action(actor, "divisions.import")
    rows = _parse(Path(path))
    report = ImportReport(total=len(rows))
    existing = dict(Division.objects.values_list("code", "level"))
    report.errors = division_rows_check(rows, existing)
    if actor is not None:
        report.errors += [
            RowError(r.row, "code", r.code, _("不在您的管辖范围内"))
            for r in rows
            if len(r.code) == 12 and not in_scope(r.code, actor.scope_prefix)
        ]
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report

    names = dict(Division.objects.filter(code__in=[r.code for r in rows]).values_list("code", "name"))
    report.created = sum(1 for r in rows if r.code not in names)
    report.updated = sum(1 for r in rows if r.code in names and names[r.code] != r.name)
    report.unchanged = report.total - report.created - report.updated
    if dry_run:
        return report
    ordered = sorted(rows, key=lambda r: LEVEL_ORDER.index(r.level))
    Division.objects.bulk_create(
        [
            Division(code=r.code, name=r.name, level=r.level, parent_id=r.parent_code or None, is_sample=is_sample)
            for r in ordered
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "level", "parent", "is_sample"],
    )
    event_record(
        actor=actor,
        action=Action.DIVISIONS_IMPORTED,
        division_code=(actor.division_id if actor else ordered[0].code) if ordered else "",
        extra={"file": Path(path).name, "created": report.created, "updated": report.updated, "total": report.total},
    )
    return report


def division_load_base() -> ImportReport:
    """The bundled Yulin file (city, 12 counties, 184 towns) — for a new installation and the demo."""
    return division_import(actor=None, path=BASE_FILE)
