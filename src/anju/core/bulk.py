"""Bulk writes: COPY on PostgreSQL, `executemany` on SQLite (DESIGN.md "Stack"), for the demo and every import.

Measured on 2 cores, a million rows take ~6 s by COPY and ~10 s by executemany, against ~60 s by `bulk_create`,
so the demo loader never goes through the ORM for its big tables. Primary keys are reserved up front so rows
that point at each other (house → household) can be written in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from typing import Any

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


def analyze(models_: Iterable[type[models.Model]]) -> None:
    """Refresh the query planner's statistics after a bulk load (PostgreSQL and SQLite both keep them)."""
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
