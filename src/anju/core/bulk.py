"""Bulk writes: COPY on PostgreSQL, `executemany` on SQLite (DESIGN.md "Stack"), for the demo and every import.

Measured on 2 cores, a million rows take ~6 s by COPY and ~10 s by executemany, against ~60 s by `bulk_create`,
so the demo loader never goes through the ORM for its big tables. Primary keys are reserved up front so rows
that point at each other (house → household) can be written in one pass.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from django.db import connection, models
from django.db.models import NOT_PROVIDED


def columns_for(model: type[models.Model], given: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
    """Database columns for the `given` fields, plus any other concrete field filled with its default.

    Fields another app adds later (with a default) then keep working without touching the loader.
    """
    names = list(given)
    extra: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.name in given or f.attname in given or f.primary_key:
            continue
        if f.has_default():
            extra.append(f.get_db_prep_save(f.get_default(), connection))
        elif f.null:
            extra.append(None)
        elif getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue
        else:
            raise ValueError(f"{model._meta.label}.{f.name} has no default; the demo loader must fill it")
        names.append(f.attname)
    columns = [model._meta.get_field(n).column if n != "id" else model._meta.pk.column for n in names]
    return columns, tuple(extra)


def reserve_ids(model: type[models.Model], count: int) -> int:
    """The first of `count` consecutive primary keys nobody else will be given.

    PostgreSQL: the sequence is moved past the range before the rows are written, so concurrent inserts draw
    ids above it (setval is not rolled back: an aborted run only leaves a gap). SQLite: the load holds the
    write lock (IMMEDIATE transactions), so max(id) and sqlite_sequence cannot move under us.
    """
    table = model._meta.db_table
    pk = model._meta.pk.column
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [qn(table), pk])
            (sequence,) = cursor.fetchone()
            cursor.execute(
                f"SELECT setval(%s::regclass, GREATEST(COALESCE((SELECT MAX({qn(pk)}) FROM {qn(table)}), 0),"
                f" COALESCE(pg_sequence_last_value(%s::regclass), 0)) + %s)",
                [sequence, sequence, max(count, 1)],
            )
            (last,) = cursor.fetchone()
            return last - max(count, 1) + 1
        cursor.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(table)}")
        (highest,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        return max(highest, row[0] if row else 0) + 1


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Append rows (values in `columns` order, already in database form) to the model's table."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def insert_frame(model: type[models.Model], frame: pl.DataFrame, rows_per_batch: int = 100_000) -> None:
    """Append a frame's rows to the model's table: columns named after fields, values in database form (null →
    NULL); the model's other fields get their defaults (columns_for).

    No Python object per value: PostgreSQL is fed the frame as CSV (polars writes it, quoting what needs quoting;
    an empty string is written quoted, a null as nothing, which is COPY's CSV NULL); SQLite's executemany reads
    the frame's rows, dates as ISO text. A batch at a time bounds the memory of the CSV text.
    """
    columns, extra = columns_for(model, frame.columns)
    frame = frame.with_columns(
        pl.lit(value).alias(column) for value, column in zip(extra, columns[frame.width :], strict=True)
    )
    qn = connection.ops.quote_name
    into = f"{qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)})"
    with connection.cursor() as cursor:
        for batch in frame.iter_slices(rows_per_batch):
            if connection.vendor == "postgresql":
                text = io.BytesIO()
                batch.write_csv(text, include_header=False, date_format="%Y-%m-%d")
                with cursor.copy(f"COPY {into} FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(text.getbuffer())
            else:
                dates = [name for name, dtype in batch.schema.items() if dtype == pl.Date]
                batch = batch.with_columns(pl.col(dates).dt.to_string("%Y-%m-%d"))
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {into} VALUES ({marks})", batch.iter_rows())


#: rows read at a time by query_frame / table_frame (bounded memory per step; the chunks are kept as they are,
#: not copied into one: a million-row read would briefly take twice its memory)
FETCH = 100_000
#: the ASCII unit separator between the values of a SQLite column read by table_frame
_UNIT = "\x1f"


def query_frame(sql: str, params: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """A query's rows as a frame (columns named and typed by `schema`, in the query's order).

    PostgreSQL sends them as CSV (COPY (query) TO STDOUT) for polars to parse: no Python object per value, and
    psycopg's COPY reads blocks, not rows. SQLite: FETCH rows at a time.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            text = io.BytesIO()
            with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                for block in copy:
                    text.write(block)
            if not text.tell():
                return pl.DataFrame(schema=schema)
            # COPY writes NULL as nothing and an empty string as "": polars reads them back as null and ""
            text.seek(0)
            return pl.read_csv(text, has_header=False, new_columns=list(schema), schema=schema)
        cursor.execute(sql, params)
        frames = []
        while rows := cursor.fetchmany(FETCH):
            frames.append(pl.DataFrame(rows, schema=schema, orient="row"))
        return pl.concat(frames, rechunk=False) if frames else pl.DataFrame(schema=schema)


def table_frame(
    model: type[models.Model], columns: dict[str, tuple[str, Any]], where: str = "1 = 1", params: Sequence[Any] = ()
) -> pl.DataFrame:
    """`SELECT <expressions> FROM <model's table> WHERE <where>` as a frame: name → (SQL expression, dtype).

    For the million-row reads of the comparison, FETCH primary keys at a time (a range of the key's index), so
    that no more than a chunk's text is held besides the frame. PostgreSQL: query_frame per chunk. SQLite hands
    rows to Python one tuple at a time (1.4 s for four columns of a million households, of which the scan is
    0.3 s), so it is asked for each column of a chunk as one string, the values joined by the unit separator, and
    polars splits them (0.6 s). The aggregates of one query see the rows in the same order, so the columns line
    up; a chunk whose parts do not add up to its row count (a NULL, which group_concat skips, or a value holding
    the separator) is read again as tuples.
    """
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    schema = {name: dtype for name, (_expression, dtype) in columns.items()}
    select = ", ".join(expression for expression, _dtype in columns.values())
    joined = ", ".join(f"group_concat({expression}, char(31))" for expression, _dtype in columns.values())
    between = f"FROM {table} WHERE {pk} BETWEEN %s AND %s AND ({where})"
    frames = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN({pk}), MAX({pk}) FROM {table}")
        low, high = cursor.fetchone()
        for start in range(low or 0, (high or -1) + 1, FETCH):
            bounds = [start, start + FETCH - 1, *params]
            if connection.vendor != "sqlite":
                frames.append(query_frame(f"SELECT {select} {between}", bounds, schema))
                continue
            cursor.execute(f"SELECT COUNT(*), {joined} {between}", bounds)
            count, *texts = cursor.fetchone()
            if not count:
                continue
            parts = [pl.Series([text or ""]).str.split(_UNIT).explode() for text in texts]
            if all(len(part) == count for part in parts):
                frame = pl.DataFrame(dict(zip(schema, parts, strict=True)))
                frames.append(frame.cast(schema))
            else:
                cursor.execute(f"SELECT {select} {between}", bounds)
                frames.append(pl.DataFrame(cursor.fetchall(), schema=schema, orient="row"))
    return pl.concat(frames, rechunk=False) if frames else pl.DataFrame(schema=schema)


@contextmanager
def bulk_session():
    """Engine settings for a long load on this connection, restored afterwards.

    SQLite's default page cache is 2 MB; random inserts into the unique id_hash index then thrash it. A 256 MB
    cache for the duration of the load keeps the index pages in memory (and bounds the cost).
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


@contextmanager
def key_probes():
    """Queries that look up a batch of keys (`key IN (2,000 values)`) probe the key's index, on PostgreSQL too.

    Its planner, costing a random page at 4 sequential ones, scans the whole table instead — 36 ms a batch at
    200,000 households and growing with the table, so an import of a million got slower with every batch. The
    setting is restored afterwards (and with the transaction if it fails: SET is transactional there)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")


def analyze(models_: Iterable[type[models.Model]]) -> None:
    """Refresh the query planner's statistics after a bulk load (PostgreSQL and SQLite both keep them)."""
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
