"""The one import engine: every kind of file (households, problem lists, divisions …) goes through `run_import`.

    result = run_import(
        kind="households",            # a key of `importers.IMPORTERS`
        path=Path("file.xlsx"),       # .xlsx/.xls/.csv, read by `reader.open_table` (streamed)
        actor=user,                   # None = the system (terminal without --as): no role or scope limits
        dry_run=False,                # validate and count, write nothing
        mode=ImportMode.ALL_OR_NOTHING,  # or ImportMode.SKIP_INVALID: write the good rows, report the rest
        errors_path=Path("errors.xlsx"),  # every bad row as a workbook (行号, 列, 值, 原因 + the row's cells)
        store_errors=False,           # True: also keep that workbook in run.errors_file (the web's download)
        progress=callback,            # callback(phase, rows): phase "check" (pass 1) or "write" (pass 2)
        run=None,                     # an ImportRun made beforehand (the web's upload, status PENDING), or None
        file_name=None,               # the name to record (an upload's original name); default path.name
    )
    result.run      # the ImportRun, saved: status, counts (total/created/updated/unchanged/invalid), sha256 …
    result.errors   # the first ERRORS_KEPT RowError (row, column, value, message in Chinese), row order
    result.error_count, result.refused, result.written

How a run goes (DESIGN.md "Spreadsheets"; issue 5 deliver 1):
1. The actor's roles are checked (`Importer.permissions`; PermissionDenied otherwise), the file's SHA-256 taken and
   the ImportRun saved as RUNNING (committed at once: the history and the web's progress see it).
2. Pass 1 streams the file in batches of `BATCH` rows: each cell is parsed by its `Column.parse` (blank required
   cells are errors, blank optional cells are None), the row's key (e.g. the head's ID hash) is checked against
   the earlier rows (every later occurrence is an error naming the first row), then `Importer.validate(rows)`
   checks the batch with a few queries (never one per row) and classifies each good row as created / updated /
   unchanged with the payload its write needs. Good rows are spooled to a temporary file, bad rows to the error
   log (the first `ERRORS_KEPT` kept in memory, all of them on disk for the workbook). `run.progress_done`
   follows pass 1 in the database; the callback follows both passes.
3. `Importer.complete()` may add errors that need the whole file (a division's parent further down).
4. Dry run, or errors in ALL_OR_NOTHING mode: nothing is written (status DONE or REFUSED; no audit event — the
   ImportRun is the record). Else pass 2 reads the spool back and `Importer.write(batches)` loads it in bulk
   (COPY on PostgreSQL, executemany on SQLite) inside ONE transaction, with one audit event for the run (counts
   and the file's SHA-256) and the run's final state: a killed import leaves the database as it was (the run
   stays RUNNING in the history). Unchanged rows are not written at all, so importing a file again changes nothing.

A file that cannot be read as a whole (wrong type, damaged, empty, header only, a required column missing) raises
`DomainError` after the run is saved as REFUSED with the message. An unexpected failure marks the run FAILED.

An importer (one per kind, `exchange/importers/`) provides `spec` (its columns), `permissions`, `key(row)`,
`validate(rows)`, `complete()` and `write(batches)`; see `Importer`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import ConflictError, DomainError
from anju.divisions.models import Division

from .models import ImportMode, ImportRun, RunStatus
from .reader import Column, Table, open_table, sha256_of
from .rows import RowError

BATCH = 2000
#: errors kept in memory for the screen and the web preview (the workbook has all of them)
ERRORS_KEPT = 200

Progress = Callable[[str, int], None]

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def cell_text(value: Any) -> str:
    """A raw cell as the user typed it, for error reports (3.0 → '3', a date → 2021-05-14)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return str(value).strip()


@dataclass
class Row:
    """One data row on its way through pass 1."""

    number: int
    raw: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    key: str | None = None
    outcome: str = ""
    payload: Any = None

    def fail(self, column: Column | str, message: str, value: Any = None) -> None:
        """Report a bad cell (`column` a Column, or a header text for messages about several cells)."""
        if isinstance(column, Column):
            header = column.header
            value = self.raw.get(column.key) if value is None else value
        else:
            header = column
        self.errors.append(RowError(self.number, header, cell_text(value), message))

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Spec:
    """The columns of one kind of file; `one_of` lists alternatives (区划代码, or 县+乡镇+行政村)."""

    columns: tuple[Column, ...]
    one_of: tuple[tuple[tuple[str, ...], ...], ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def missing(self, present: set[str]) -> list[str]:
        """Why the header is unusable: required columns absent, or none of an alternative's groups complete."""
        problems = [
            _("缺少必填列「{header}」").format(header=c.header)
            for c in self.columns
            if c.required and c.key not in present
        ]
        for groups in self.one_of:
            if not any(set(group) <= present for group in groups):
                options = _("，或").join("、".join(f"「{self.column(k).header}」" for k in group) for group in groups)
                problems.append(_("须有{options}列").format(options=options))
        return problems


@dataclass
class Context:
    """What an importer gets besides its rows: who imports, how, and the run."""

    actor: Any
    run: ImportRun
    dry_run: bool
    mode: str
    present: set[str]
    today: dt.date = field(default_factory=timezone.localdate)


class Importer(Protocol):
    """One kind of file. Instances live for one run and may keep reference data loaded in `start`."""

    kind: ClassVar[str]
    spec: ClassVar[Spec]
    #: roles the actor needs (checked before the file is read; the system actor needs none)
    permissions: ClassVar[tuple[str, ...]]
    #: the audit action of a run that wrote
    action: ClassVar[Action]

    def start(self, ctx: Context) -> None:
        """Load what validation needs once (reference data, the division tree)."""

    def key(self, row: Row) -> str | None:
        """The row's identity in the file (duplicates are errors), or None when it cannot be told."""

    def validate(self, rows: list[Row], ctx: Context) -> None:
        """Add errors to any row; give every row left without errors its outcome and payload. A few queries per
        batch, never one per row."""

    def complete(self, ctx: Context) -> list[RowError]:
        """Errors that need the whole file (after pass 1); most kinds return []."""

    def write(self, batches: Iterator[list[tuple[int, str, Any]]], ctx: Context) -> dict[str, Any]:
        """Load the spooled (row number, outcome, payload) batches in bulk, inside the run's transaction.
        Returns details for the audit event."""


class _Spool:
    """Pickled batches on a temporary file: pass 2 reads back what pass 1 decided, in constant memory."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="anju-import-")  # noqa: SIM115 closed by close()

    def add(self, items: list[Any]) -> None:
        if items:
            pickle.dump(items, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def __iter__(self) -> Iterator[list[Any]]:
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)
            except EOFError:
                return

    def close(self) -> None:
        self.file.close()


class _ErrorLog:
    """Every bad row: the first few kept for the screen, all spooled for the workbook."""

    def __init__(self) -> None:
        self.kept: list[RowError] = []
        self.count = 0
        self.rows: set[int] = set()
        self.spool = _Spool()
        self.late: list[RowError] = []

    def add(self, number: int, errors: Sequence[RowError], raw: dict[str, Any]) -> None:
        self.count += len(errors)
        self.rows.add(number)
        room = ERRORS_KEPT - len(self.kept)
        if room > 0:
            self.kept.extend(errors[:room])
        self.spool.add([(number, list(errors), {k: cell_text(v) for k, v in raw.items()})])

    def add_late(self, errors: Sequence[RowError]) -> None:
        """Errors found after pass 1 (whole-file checks); the row's cells are not at hand any more."""
        self.late = sorted(errors, key=lambda e: e.row)
        self.count += len(errors)
        self.rows.update(e.row for e in errors)
        self.kept = sorted([*self.kept, *self.late], key=lambda e: e.row)[:ERRORS_KEPT]

    def entries(self) -> Iterator[tuple[int, list[RowError], dict[str, str]]]:
        """Every bad row in row order: pass 1's spool merged with the late errors."""
        spooled = (entry for items in self.spool for entry in items)
        late = ((e.row, [e], {}) for e in self.late)
        return heapq.merge(spooled, late, key=lambda entry: entry[0])


@dataclass
class ImportResult:
    run: ImportRun
    errors: list[RowError]
    error_count: int

    @property
    def refused(self) -> bool:
        return self.run.status == RunStatus.REFUSED

    @property
    def written(self) -> bool:
        return self.run.status == RunStatus.DONE and not self.run.dry_run


def importer_for(kind: str) -> Importer:
    from .importers import IMPORTERS

    if kind not in IMPORTERS:
        raise DomainError(_("未知的导入类型「{kind}」").format(kind=kind))
    return IMPORTERS[kind]()


def _save(run: ImportRun, actor: Any) -> None:
    """Runs belong to the actor's division, the system's to the top of the tree; the very first import of the
    division tree has none yet, so its run is saved once the tree is written."""
    if not run.division_id:
        if actor is not None and actor.division_id:
            run.division_id = actor.division_id
        else:
            root = Division.objects.filter(parent__isnull=True).order_by("code").values_list("code", flat=True)
            run.division_id = root.first()
    if run.division_id:
        run.save()


def run_import(
    *,
    kind: str,
    path: Path | str,
    actor: Any,
    dry_run: bool = False,
    mode: str = ImportMode.ALL_OR_NOTHING,
    errors_path: Path | str | None = None,
    store_errors: bool = False,
    progress: Progress | None = None,
    run: ImportRun | None = None,
    file_name: str | None = None,
) -> ImportResult:
    """Import one file; see the module docstring."""
    importer = importer_for(kind)
    if actor is not None:
        for permission in importer.permissions:
            require_action(actor, permission)
    if mode not in ImportMode.values:
        raise DomainError(_("未知的导入方式「{mode}」").format(mode=mode))
    path = Path(path)
    try:
        sha256, size = sha256_of(path)
    except OSError as exc:
        raise DomainError(_("无法打开文件：{error}").format(error=exc.strerror or exc)) from exc
    run = run or ImportRun()
    run.kind, run.dry_run, run.mode, run.status = kind, dry_run, mode, RunStatus.RUNNING
    run.file_name = (file_name or run.file_name or path.name)[:255]
    run.file_size, run.file_sha256 = size, sha256
    run.started_by = run.started_by or (actor if getattr(actor, "pk", None) else None)
    _save(run, actor)

    log = _ErrorLog()
    spool = _Spool()
    try:
        with open_table(path, importer.spec.columns) as table:
            ctx = Context(actor=actor, run=run, dry_run=dry_run, mode=mode, present=table.keys)
            problems = importer.spec.missing(table.keys)
            if problems:
                raise DomainError(_("表头不符合要求：{problems}").format(problems="；".join(problems)))
            importer.start(ctx)
            counts = _check(importer, table, ctx, log, spool, progress)
        late = importer.complete(ctx)
        if late:
            log.add_late(late)
            counts = _recount(spool, log.rows)
        run.total = counts[CREATED] + counts[UPDATED] + counts[UNCHANGED] + len(log.rows)
        run.created, run.updated, run.unchanged, run.invalid = (
            counts[CREATED],
            counts[UPDATED],
            counts[UNCHANGED],
            len(log.rows),
        )
        log.kept.sort(key=lambda e: e.row)
        if errors_path is not None and log.count:
            write_errors_workbook(log, table, importer.spec, errors_path)
        if store_errors and log.count:
            _store_errors(log, table, importer.spec, run)
        if dry_run or (log.count and mode == ImportMode.ALL_OR_NOTHING):
            _finish(run, refused=bool(log.count) and not dry_run, errors=log.count)
            _save(run, actor)
            return ImportResult(run=run, errors=log.kept, error_count=log.count)
        _write(importer, spool, log.rows, ctx, progress)
        return ImportResult(run=run, errors=log.kept, error_count=log.count)
    except DomainError as exc:
        run.status, run.message, run.finished_at = RunStatus.REFUSED, exc.message[:1000], timezone.now()
        _save(run, actor)
        raise
    except BaseException:
        run.status, run.message, run.finished_at = (
            RunStatus.FAILED,
            _("导入失败（系统错误），未写入任何数据"),
            timezone.now(),
        )
        run.save()
        raise
    finally:
        spool.close()
        log.spool.close()


def _check(
    importer: Importer, table: Table, ctx: Context, log: _ErrorLog, spool: _Spool, progress: Progress | None
) -> dict[str, int]:
    """Pass 1: parse, find duplicates, validate and classify, batch by batch."""
    counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0}
    first_seen: dict[bytes, int] = {}
    columns = [c for c in importer.spec.columns if c.key in ctx.present]
    batch: list[Row] = []

    def flush() -> None:
        for row in batch:
            key = importer.key(row)
            if key is None:
                continue
            digest = hashlib.blake2b(key.encode(), digest_size=12).digest()  # 1M keys in ~100 MB
            first = first_seen.setdefault(digest, row.number)
            if first != row.number:
                row.key = key
                row.fail(_key_column(importer, row), _("与第{row}行重复（同一文件中只能出现一次）").format(row=first))
        importer.validate(batch, ctx)
        good = []
        for row in batch:
            if row.errors:
                log.add(row.number, row.errors, row.raw)
            else:
                counts[row.outcome] += 1
                good.append((row.number, row.outcome, row.payload))
        spool.add(good)
        ctx.run.progress_done += len(batch)
        if ctx.run.pk:
            ImportRun.objects.filter(pk=ctx.run.pk).update(progress_done=ctx.run.progress_done)
        if progress:
            progress("check", len(batch))
        batch.clear()

    for number, raw in table:
        row = Row(number=number, raw=raw)
        for column in columns:
            value = raw.get(column.key)
            if value is None or (isinstance(value, str) and not value.strip()):
                if column.required:
                    row.fail(column, _("不能为空"), "")
                row.values[column.key] = None
                continue
            try:
                row.values[column.key] = column.parse(value) if column.parse else value
            except ValueError as exc:
                row.fail(column, str(exc))
                row.values[column.key] = None
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return counts


def _key_column(importer: Importer, row: Row) -> Column | str:
    key_column = getattr(importer, "key_column", None)
    return importer.spec.column(key_column) if key_column else ""


def _recount(spool: _Spool, bad: set[int]) -> dict[str, int]:
    counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0}
    for items in spool:
        for number, outcome, _payload in items:
            if number not in bad:
                counts[outcome] += 1
    return counts


def _finish(run: ImportRun, *, refused: bool, errors: int) -> None:
    run.finished_at = timezone.now()
    if refused:
        run.status = RunStatus.REFUSED
        run.message = _("共 {count} 处错误，未写入任何数据").format(count=errors)
    else:
        run.status = RunStatus.DONE
        run.message = _("校验通过（未写入）") if run.dry_run and not errors else run.message
        if run.dry_run and errors:
            run.message = _("校验发现 {count} 处错误（未写入）").format(count=errors)
        elif errors:
            run.message = _("已跳过 {rows} 行错误数据（{count} 处错误）").format(rows=run.invalid, count=errors)


def _write(importer: Importer, spool: _Spool, bad: set[int], ctx: Context, progress: Progress | None) -> None:
    """Pass 2: the spool into the database in one transaction, with the run's audit event and final state."""
    run = ctx.run

    def batches() -> Iterator[list[tuple[int, str, Any]]]:
        for items in spool:
            chosen = [item for item in items if item[1] != UNCHANGED and item[0] not in bad]
            if chosen:
                yield chosen
                if progress:
                    progress("write", len(chosen))

    try:
        with transaction.atomic():
            details = importer.write(batches(), ctx)
            run.status, run.finished_at = RunStatus.DONE, timezone.now()
            if bad:
                run.message = _("已写入正确的数据行，跳过 {rows} 行错误数据").format(rows=len(bad))
            _save(run, ctx.actor)
            event_record(
                actor=ctx.actor,
                action=importer.action,
                obj=run,
                extra={
                    "file": run.file_name,
                    "sha256": run.file_sha256,
                    "size": run.file_size,
                    "mode": run.mode,
                    "total": run.total,
                    "created": run.created,
                    "updated": run.updated,
                    "unchanged": run.unchanged,
                    "invalid": run.invalid,
                }
                | (details or {}),
            )
    except IntegrityError as exc:
        raise ConflictError(_("导入期间数据被他人修改（如同一户被同时登记），未写入任何数据，请重新导入")) from exc


def _error_headers(table: Table, spec: Spec) -> list[tuple[str, str]]:
    return [(c.key, table.headers.get(c.key, c.header)) for c in spec.columns if c.key in table.positions]


def write_errors_workbook(log: _ErrorLog, table: Table, spec: Spec, output: Path | str | IO[bytes]) -> int:
    """行号, 列, 值, 原因, then the row's own cells: one line per bad cell, in constant memory."""
    import xlsxwriter

    book = xlsxwriter.Workbook(output, {"constant_memory": True, "strings_to_numbers": False})
    try:
        sheet = book.add_worksheet(_("错误清单"))
        header = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        columns = _error_headers(table, spec)
        titles = [_("行号"), _("列"), _("值"), _("原因")] + [_("原表：{header}").format(header=h) for _k, h in columns]
        sheet.write_row(0, 0, titles, header)
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, 0, 8)
        sheet.set_column(1, 2, 16)
        sheet.set_column(3, 3, 48)
        sheet.set_column(4, 4 + len(columns), 14)
        line = 1
        for _number, errors, cells in log.entries():
            for error in errors:
                if error.row:
                    sheet.write_number(line, 0, error.row)
                sheet.write_string(line, 1, error.column)
                sheet.write_string(line, 2, error.value)
                sheet.write_string(line, 3, error.message)
                for i, (key, _header) in enumerate(columns):
                    sheet.write_string(line, 4 + i, cells.get(key, ""))
                line += 1
    finally:
        book.close()
    return line - 1


def _store_errors(log: _ErrorLog, table: Table, spec: Spec, run: ImportRun) -> None:
    with tempfile.TemporaryFile(prefix="anju-errors-") as handle:
        write_errors_workbook(log, table, spec, handle)
        handle.seek(0)
        stem = Path(run.file_name).stem or "import"
        run.errors_file.save(f"{stem}-errors.xlsx", File(handle), save=False)
