"""The one import engine: every kind of file (households, problem lists, divisions …) goes through `run_import`.

    result = run_import(
        kind="households",            # a key of `importers.IMPORTERS`
        path=Path("file.xlsx"),       # .xlsx/.xls/.csv, read by `reader.open_table` (streamed)
        actor=user,                   # None = the system (terminal without --as): no role or scope limits
        dry_run=False,                # validate and count, write nothing
        mode=ImportMode.ALL_OR_NOTHING,  # or ImportMode.SKIP_INVALID: write the good rows, report the rest
        errors_path=Path("errors.xlsx"),  # every bad row as a workbook (行号, 列, 值, 原因 + the row's cells)
        store_errors=False,           # True: also keep that workbook in run.errors_file (the web's download)
        progress=callback,            # callback(phase, rows): "check" (pass 1) or "write" (pass 2, or a streamed
                                      #   batch checked and written)
        run=None,                     # an ImportRun made beforehand (the web's upload, status PENDING), or None
        file_name=None,               # the name to record (an upload's original name); default path.name
    )
    result.run      # the ImportRun, saved: status, counts (total/created/updated/unchanged/invalid), sha256 …
    result.errors   # the first ERRORS_KEPT RowError (row, column, value, message in Chinese), row order
    result.error_count, result.refused, result.written
    result.details  # what the importer's write reported (in the audit event too), e.g. {"alerts_deferred": n}

How a run goes (DESIGN.md "Spreadsheets"; issue 5 deliver 1):
1. The actor's roles are checked (`Importer.permissions`; PermissionDenied otherwise), the file's SHA-256 taken and
   the ImportRun saved as RUNNING (committed at once: the history and the web's progress see it).
2. Pass 1 streams the file in batches of `BATCH` rows: each cell is parsed by its `Column.parse` (blank required
   cells are errors, blank optional cells are None; each distinct cell once per column and run, see MEMO_MAX),
   the row's key (e.g. the head's ID hash) is checked against
   the earlier rows (every later occurrence is an error naming the first row), then `Importer.validate(rows)`
   checks the batch with a few queries (never one per row) and classifies each good row as created / updated /
   unchanged with the payload its write needs. Good rows are spooled to a temporary file, bad rows to the error
   log (the first `ERRORS_KEPT` kept in memory, all of them on disk for the workbook). `run.progress_done`
   follows pass 1 in the database (and `LIVE_PROGRESS` in this process); the callback follows both passes.
3. `Importer.complete()` may add errors that need the whole file (a division's parent further down).
4. Dry run, or errors in ALL_OR_NOTHING mode: nothing is written (status DONE or REFUSED; no audit event — the
   ImportRun is the record). Else pass 2 reads the spool back and `Importer.write(batches)` loads it in bulk
   (COPY on PostgreSQL, executemany on SQLite) inside ONE transaction, with one audit event for the run (counts
   and the file's SHA-256) and the run's final state: a killed import leaves the database as it was (the run
   stays RUNNING in the history). Unchanged rows are not written at all, so importing a file again changes nothing.

A streaming importer (`streams = True`: households, whose `complete()` never finds errors) is not spooled: outside a
dry run, pass 1 and pass 2 are one pass in that one transaction, each batch written as soon as it is validated, so
no spool is written and read back and PostgreSQL ingests one batch's COPY while the next is parsed. The outcome is
the same: errors in ALL_OR_NOTHING mode stop the writing and roll the transaction back, SKIP_INVALID writes the
good rows, a killed run commits nothing. (`run.progress_done` is then updated inside the transaction, hence
`LIVE_PROGRESS` for the web's progress page.)

A file of PARSE_APART_BYTES or more (a county's or a city's, not a village's upload) is read and parsed — cells,
keys, duplicates inside the file, none of it needing the database — by a forked child process, while this process
validates against the database and writes: the two halves of a million-row import run on two cores. The child
sends each batch through a pipe (at most a batch or two ahead), touches no database, and ends when this side stops
reading, killed or not. Not on a thread of the web (forking a threaded process is unsafe): small uploads there.

A file that cannot be read as a whole (wrong type, damaged, empty, header only, a required column missing) raises
`DomainError` after the run is saved as REFUSED with the message. An unexpected failure marks the run FAILED.

An importer (one per kind, `exchange/importers/`) provides `spec` (its columns), `permissions`, `key(row)`,
`validate(rows)`, `complete()` and `write(batches)`; see `Importer`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import heapq
import multiprocessing
import pickle
import sys
import tempfile
import threading
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
#: distinct cells memoised per column and run; a column stops being memoised (IDs, names, phones, coordinates: memory
#: for no hits) once its distinct cells pass a share of the rows read: 19/20 after the first MEMO_PROBES[0] rows (the
#: plainly unique ones, at once: a memo of 20,000 IDs is 3 MB), 4/5 after MEMO_PROBES[1] (dates need that long to
#: show they repeat)
MEMO_MAX = 50_000
MEMO_PROBES = ((2_000, 19, 20), (20_000, 4, 5))
#: files from this size on are parsed in a child process while this one validates and writes (`_apart`); smaller
#: ones (a village's upload) are parsed here — a fork costs more than it saves on a few thousand rows
PARSE_APART_BYTES = 2 << 20
#: rows checked so far by the runs of this process (run pk → rows): a streaming run updates its row inside its
#: transaction, invisible to the web's progress page until the commit, so the page reads this instead
LIVE_PROGRESS: dict[int, int] = {}

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


@dataclass(slots=True)
class Row:
    """One data row on its way through pass 1."""

    number: int
    raw: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    #: the row's identity in the file (`Importer.keys`), None when it cannot be told
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
    progress: Progress | None = None
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

    def keys(self, rows: list[Row]) -> list[str | None]:
        """Each row's identity in the file (duplicates are errors), or None when it cannot be told."""

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
    #: what the importer's write reported (also in the audit event), {} when nothing was written
    details: dict[str, Any] = field(default_factory=dict)

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
            ctx = Context(actor=actor, run=run, dry_run=dry_run, mode=mode, present=table.keys, progress=progress)
            problems = importer.spec.missing(table.keys)
            if problems:
                raise DomainError(_("表头不符合要求：{problems}").format(problems="；".join(problems)))
            importer.start(ctx)
            if getattr(importer, "streams", False) and not dry_run:

                def checked() -> None:
                    log.kept.sort(key=lambda e: e.row)
                    _errors_files(log, table, importer.spec, run, errors_path, store_errors)

                details = _check_and_write(importer, table, ctx, log, checked)
                if run.status != RunStatus.DONE:  # rolled back: errors in ALL_OR_NOTHING mode
                    _finish(run, refused=True, errors=log.count)
                    _save(run, actor)
                return ImportResult(run=run, errors=log.kept, error_count=log.count, details=details)
            counts = _no_counts()
            for good in _checked(importer, table, ctx, log, counts, "check"):
                spool.add(good)
        late = importer.complete(ctx)
        if late:
            log.add_late(late)
            counts = _recount(spool, log.rows)
        _count(run, counts, log)
        log.kept.sort(key=lambda e: e.row)
        _errors_files(log, table, importer.spec, run, errors_path, store_errors)
        if dry_run or (log.count and mode == ImportMode.ALL_OR_NOTHING):
            _finish(run, refused=bool(log.count) and not dry_run, errors=log.count)
            _save(run, actor)
            return ImportResult(run=run, errors=log.kept, error_count=log.count)
        details = _write(importer, spool, log.rows, ctx, progress)
        return ImportResult(run=run, errors=log.kept, error_count=log.count, details=details)
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
        LIVE_PROGRESS.pop(run.pk, None)
        spool.close()
        log.spool.close()


def _checked(
    importer: Importer, table: Table, ctx: Context, log: _ErrorLog, counts: dict[str, int], phase: str
) -> Iterator[list[tuple[int, str, Any]]]:
    """Pass 1: parse, find duplicates, validate and classify, batch by batch; yields each batch's good rows
    (row number, outcome, payload) and counts them in `counts`. `phase` names it for the progress callback.

    A file of PARSE_APART_BYTES or more is parsed in a child process (`_apart`) while this one validates and
    writes: the two halves of a city's import on two cores."""
    batches = _parsed_batches(importer, table, ctx.present)
    if _parse_apart(table):
        batches = _apart(batches, table.order)
    for rows in batches:
        importer.validate(rows, ctx)
        good = []
        for row in rows:
            if row.errors:
                log.add(row.number, row.errors, row.raw)
            else:
                counts[row.outcome] += 1
                good.append((row.number, row.outcome, row.payload))
        ctx.run.progress_done += len(rows)
        if ctx.run.pk:
            ImportRun.objects.filter(pk=ctx.run.pk).update(progress_done=ctx.run.progress_done)
        yield good
        _progress(ctx, phase, len(rows))


def _parsed_batches(importer: Importer, table: Table, present: set[str]) -> Iterator[list[Row]]:
    """The file's rows, BATCH at a time, parsed and keyed, a key seen before in the file an error of the later row.
    No database: this may run in a child process."""
    first_seen: dict[bytes, int] = {}
    order = table.order
    cells = [(_Cells(c), order.index(c.key)) for c in importer.spec.columns if c.key in present]
    batch: list[tuple[int, tuple[Any, ...]]] = []
    done = 0

    def keyed() -> list[Row]:
        rows = _parsed(batch, order, cells, done)
        batch.clear()  # the rows hold the cells now: one copy of the batch in memory, not two
        for row, key in zip(rows, importer.keys(rows), strict=True):
            if key is None:
                continue
            row.key = key
            digest = hashlib.blake2b(key.encode(), digest_size=12).digest()  # 1M keys in ~100 MB
            first = first_seen.setdefault(digest, row.number)
            if first != row.number:
                row.fail(_key_column(importer), _("与第{row}行重复（同一文件中只能出现一次）").format(row=first))
        return rows

    for item in table.tuples():
        batch.append(item)
        if len(batch) >= BATCH:
            rows = keyed()
            done += len(rows)
            yield rows
    if batch:
        yield keyed()


def _parse_apart(table: Table) -> bool:
    """Fork only where it is safe and pays: Linux, a large file, and no other thread in this process (a thread
    holding a lock at the fork would leave it held in the child; the web runs imports in worker threads)."""
    return sys.platform == "linux" and table.path.stat().st_size >= PARSE_APART_BYTES and threading.active_count() == 1


def _apart(batches: Iterator[list[Row]], order: list[str]) -> Iterator[list[Row]]:
    """`batches` run in a forked child process; what it yields is pickled through a pipe (at most a batch or two
    in flight: the pipe's buffer holds the child back). The child touches no database and leaves by `os._exit`
    (multiprocessing's fork does), so the connection it inherited is never used or closed there. When this side
    stops reading — finished, failed, or killed — the child's next write fails and it ends."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_produce, args=(batches, sender, receiver), name="anju-import-parse", daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise RuntimeError("the import's parsing process ended without its result") from None
            if kind == "end":
                return
            if kind == "error":
                raise payload
            yield _unpack(payload, order)
    finally:
        receiver.close()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()


def _pack(rows: list[Row]) -> tuple[list[str], list[tuple]]:
    """A batch for the pipe: cells and values as tuples (every row's values have the keys of the first, in its
    order: `_parsed` builds them so). Pickled Row objects cost 15 µs a row to load, these 4."""
    keys = list(rows[0].values)
    if any(len(row.values) != len(keys) for row in rows):
        raise AssertionError("an importer added values to some rows before validate: they would not line up")
    return keys, [
        (row.number, tuple(row.raw.values()), tuple(row.values.values()), row.key, row.errors or None) for row in rows
    ]


def _unpack(packed: tuple[list[str], list[tuple]], order: list[str]) -> list[Row]:
    keys, items = packed
    return [
        Row(number, dict(zip(order, cells, strict=False)), dict(zip(keys, values, strict=False)), errors or [], key)
        for number, cells, values, key, errors in items
    ]


def _produce(batches: Iterator[list[Row]], sender: Any, receiver: Any) -> None:
    """The child's side of `_apart`."""
    receiver.close()
    try:
        for rows in batches:
            sender.send(("rows", _pack(rows)))
        sender.send(("end", None))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent stopped reading
    except BaseException as exc:  # a DomainError of the reader (a damaged file), or a bug: raised in the parent
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sender.send(("error", exc))
    finally:
        sender.close()


class _Cells:
    """One column's parsing for a run, a batch of cells at a time.

    A million rows repeat the same few thousand villages, dates, numbers and choices: each distinct cell is parsed
    once per run (str and int 1 must not share an entry, hence the type in the key of a cell that is not text). A
    column of mostly distinct cells (IDs, names, phones, coordinates: see MEMO_PROBES) stops being memoised — memory
    for no hits — and is parsed once per distinct cell of a batch. Column by column rather than row by row: the
    loops that remain per cell are C's (set, map, zip)."""

    def __init__(self, column: Column):
        self.column = column
        self.memo: dict[Any, Any] | None = {}
        self.refused: set[Any] = set()  # the memo's keys whose outcome is a refusal

    def parse(self, raw: Sequence[Any], rows_before: int) -> tuple[list[Any], list[int]]:
        """The parsed value of each cell (None for a blank optional one, else a `_Refusal` when refused), and the
        positions of the refused ones."""
        keys = raw if set(map(type, raw)) == {str} else [c if c.__class__ is str else (c.__class__, c) for c in raw]
        distinct = set(keys)
        memo = self.memo
        if memo is None:
            found = {key: self._outcome(key) for key in distinct}
            refused = {key for key, outcome in found.items() if outcome.__class__ is _Refusal}
        else:
            found = memo
            new = distinct.difference(memo)
            if len(memo) + len(new) > MEMO_MAX:  # full: this batch's new cells are parsed, not kept
                found = dict.fromkeys(distinct)
                found.update((key, memo[key]) for key in distinct if key in memo)
            for key in new:
                found[key] = outcome = self._outcome(key)
                if outcome.__class__ is _Refusal:
                    self.refused.add(key)
            refused = self.refused
            if any(rows_before >= after and len(memo) * den > rows_before * num for after, num, den in MEMO_PROBES):
                self.memo, self.refused = None, set()
        parsed = list(map(found.__getitem__, keys))
        if refused.isdisjoint(distinct):
            return parsed, []
        return parsed, [i for i, key in enumerate(keys) if key in refused]

    def _outcome(self, key: Any) -> Any:
        """The parsed cell of a memo key; None for a blank optional cell, `_Refusal` when refused."""
        outcome = _parse_cell(key if key.__class__ is str else key[1], self.column.parse)
        return None if outcome is _BLANK and not self.column.required else outcome


def _parsed(
    batch: list[tuple[int, tuple[Any, ...]]], order: list[str], cells: list[tuple[_Cells, int]], before: int
) -> list[Row]:
    """The batch's rows with their parsed values (a refused cell is None and an error of its row). `cells`: each
    column's parser and its place in the table's `order`."""
    raw_columns = list(zip(*(picked for _number, picked in batch), strict=True))
    keys, columns, refused = [], [], []
    for column_cells, place in cells:
        parsed, bad = column_cells.parse(raw_columns[place], before)
        keys.append(column_cells.column.key)
        columns.append(parsed)
        if bad:
            refused.append((column_cells.column, parsed, bad))
    del raw_columns
    # positional and unchecked (the lengths agree by construction): a third of this line's cost at a million rows
    rows = [
        Row(number, dict(zip(order, picked, strict=False)), dict(zip(keys, values, strict=False)))
        for (number, picked), values in zip(batch, zip(*columns, strict=False), strict=False)
    ]
    for column, parsed, bad in refused:  # in column order: a row's errors read left to right
        for i in bad:
            row, outcome = rows[i], parsed[i]
            row.values[column.key] = None
            if outcome is _BLANK:
                row.fail(column, _("不能为空"), "")
            else:
                row.fail(column, str(outcome))
    return rows


def _progress(ctx: Context, phase: str, rows: int) -> None:
    if ctx.run.pk:
        LIVE_PROGRESS[ctx.run.pk] = ctx.run.progress_done
    if ctx.progress:
        ctx.progress(phase, rows)


def _check_and_write(
    importer: Importer, table: Table, ctx: Context, log: _ErrorLog, checked: Callable[[], None]
) -> dict[str, Any]:
    """One pass for a streaming importer: each batch is written into the run's one transaction as soon as it is
    validated — no spool written and read back, and on PostgreSQL the server ingests a batch's COPY while Python
    goes on. Errors in ALL_OR_NOTHING mode stop the writing, validation goes on to report every bad row, and the
    transaction is rolled back: the database is as before, as after a two-pass refusal."""
    counts = _no_counts()

    def batches() -> Iterator[list[tuple[int, str, Any]]]:
        for good in _checked(importer, table, ctx, log, counts, "write"):
            if log.count and ctx.mode == ImportMode.ALL_OR_NOTHING:
                continue
            chosen = [item for item in good if item[1] != UNCHANGED]
            if chosen:
                yield chosen

    try:
        with transaction.atomic():
            details = importer.write(batches(), ctx)
            _count(ctx.run, counts, log)
            checked()  # the error workbooks, before the run is saved with them
            if log.count and ctx.mode == ImportMode.ALL_OR_NOTHING:
                raise _RollBack
            if importer.complete(ctx):
                raise AssertionError(f"{importer.kind}: a streaming importer cannot find errors after pass 1")
            _done(importer, ctx, details, log.rows)
            return details or {}
    except _RollBack:
        return {}
    except IntegrityError as exc:
        raise ConflictError(_("导入期间数据被他人修改（如同一户被同时登记），未写入任何数据，请重新导入")) from exc


class _RollBack(Exception):
    """Leaves the one transaction of a streaming run without committing (errors in ALL_OR_NOTHING mode)."""


def _no_counts() -> dict[str, int]:
    return {CREATED: 0, UPDATED: 0, UNCHANGED: 0}


def _count(run: ImportRun, counts: dict[str, int], log: _ErrorLog) -> None:
    run.total = counts[CREATED] + counts[UPDATED] + counts[UNCHANGED] + len(log.rows)
    run.created, run.updated, run.unchanged, run.invalid = (
        counts[CREATED],
        counts[UPDATED],
        counts[UNCHANGED],
        len(log.rows),
    )


def _errors_files(
    log: _ErrorLog, table: Table, spec: Spec, run: ImportRun, errors_path: Path | str | None, store_errors: bool
) -> None:
    if errors_path is not None and log.count:
        write_errors_workbook(log, table, spec, errors_path)
    if store_errors and log.count:
        _store_errors(log, table, spec, run)


class _Refusal(str):
    """A cell's parse failure as memoised: its text is the reason (the blank cell has its own instance)."""


_BLANK = _Refusal()
_MISSING = object()


def _parse_cell(value: Any, parse: Callable[[Any], Any] | None) -> Any:
    """The cell's value, `_BLANK`, or a `_Refusal` with the parser's reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return _BLANK
    if parse is None:
        return value
    try:
        return parse(value)
    except ValueError as exc:
        return _Refusal(str(exc))


def _key_column(importer: Importer) -> Column | str:
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


def _write(importer: Importer, spool: _Spool, bad: set[int], ctx: Context, progress: Progress | None) -> dict[str, Any]:
    """Pass 2: the spool into the database in one transaction, with the run's audit event and final state."""

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
            _done(importer, ctx, details, bad)
            return details or {}
    except IntegrityError as exc:
        raise ConflictError(_("导入期间数据被他人修改（如同一户被同时登记），未写入任何数据，请重新导入")) from exc


def _done(importer: Importer, ctx: Context, details: dict[str, Any] | None, bad: set[int]) -> None:
    """The run's final state and its one audit event, inside the run's transaction."""
    run = ctx.run
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
