"""anju.core.bulk's frame reads and writes, on the engine under test: values come back exactly (nulls, empty
strings, quotes, separators, line breaks, dates), chunk by chunk."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from anju.core import bulk
from anju.exchange.models import Comparison, ComparisonItem
from anju.registry.models import Household
from anju.testing import factories as f

pytestmark = pytest.mark.django_db

AWKWARD = ["", '引号"在内', "逗号,分号;", "换\n行", "单元\x1f分隔", "\\N", "普通"]


def test_insert_frame_keeps_every_value():
    village = f.village(f.YUYANG_TOWN)
    comparison = Comparison.objects.create(division=village, source="civil_affairs", file_name="名单.csv")
    rows = len(AWKWARD)
    frame = pl.DataFrame(
        {
            "comparison": [comparison.pk] * rows,
            "result": ["not_in_registry"] * rows,
            "household": [None] * rows,
            "division": [village.code] * rows,
            "row": [None, *range(2, rows + 1)],
            "name": AWKWARD,
            "detail": list(reversed(AWKWARD)),
            "id_masked": [""] * rows,
            "id_hash": [""] * rows,
            "id_cipher": [""] * rows,
            "category_code": [""] * rows,
            "certified_on": [dt.date(2024, 3, 1), None] * (rows // 2) + [dt.date(1999, 12, 31)] * (rows % 2),
        },
        schema_overrides={"household": pl.Int64, "row": pl.Int64},
    )
    bulk.insert_frame(ComparisonItem, frame, rows_per_batch=3)  # three batches

    stored = list(
        ComparisonItem.objects.filter(comparison=comparison)
        .order_by("id")
        .values_list("row", "name", "detail", "certified_on", "household_id", "id_hash", "applied_at")
    )
    expected = [
        (row, name, detail, day, None, "", None)
        for row, name, detail, day in zip(
            frame["row"].to_list(), AWKWARD, reversed(AWKWARD), frame["certified_on"].to_list(), strict=True
        )
    ]
    assert stored == expected


def test_table_frame_lines_up_columns_across_chunks_and_falls_back_on_awkward_values(monkeypatch):
    """Three rows per chunk; one chunk holds a head name with the unit separator, read again as tuples."""
    monkeypatch.setattr(bulk, "FETCH", 3)
    village = f.village(f.YUYANG_TOWN)
    households = [f.household(village) for _ in range(8)]
    Household.objects.filter(pk=households[4].pk).update(head_name="单元\x1f分隔")
    Household.objects.filter(pk=households[6].pk).update(head_name="")
    columns = {"pk": ("id", pl.Int64), "head_name": ("head_name", pl.String), "home": ("division_code", pl.String)}

    frame = bulk.table_frame(Household, columns, "division_code = %s", [village.code]).sort("pk")

    expected = list(Household.objects.filter(division=village).order_by("id").values_list("id", "head_name"))
    assert frame.select("pk", "head_name").rows() == expected
    assert set(frame["home"]) == {village.code}
    assert "单元\x1f分隔" in frame["head_name"].to_list() and "" in frame["head_name"].to_list()


def test_table_frame_and_query_frame_of_nothing_have_the_schema():
    schema = {"pk": pl.Int64, "head_name": pl.String}
    empty = bulk.table_frame(Household, {"pk": ("id", pl.Int64), "head_name": ("head_name", pl.String)})
    assert empty.is_empty() and empty.schema == pl.Schema(schema)
    none = bulk.query_frame(f"SELECT id, head_name FROM {Household._meta.db_table} WHERE id < 0", [], schema)
    assert none.is_empty() and none.schema == pl.Schema(schema)


def test_query_frame_tells_null_from_empty():
    village = f.village(f.YUYANG_TOWN)
    owner = f.household(village, phone="")
    Household.objects.filter(pk=owner.pk).update(note='说"明",\n第二行')
    schema = {"phone": pl.String, "note": pl.String, "missing": pl.String}
    frame = bulk.query_frame(
        f"SELECT phone, note, NULL FROM {Household._meta.db_table} WHERE id = %s", [owner.pk], schema
    )
    assert frame.rows() == [("", '说"明",\n第二行', None)]


def test_key_probes_make_postgresql_probe_the_index_and_restore_the_setting():
    """A batch's `id_hash IN (…)` must probe the unique index: PostgreSQL's planner otherwise scans the table for
    every batch of an import (its cost of a random page). Nothing to do, and nothing done, on SQLite."""
    from django.db import connection

    hashes = [f"{n:064x}" for n in range(2000)]
    marks = ", ".join(["%s"] * len(hashes))
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            with bulk.key_probes():
                cursor.execute(f"SELECT id FROM registry_household WHERE id_hash IN ({marks})", hashes)
                assert cursor.fetchall() == []
            return
        with bulk.key_probes():
            cursor.execute("SHOW enable_seqscan")
            assert cursor.fetchone()[0] == "off"
            cursor.execute(f"EXPLAIN SELECT id FROM registry_household WHERE id_hash IN ({marks})", hashes)
            plan = " ".join(line for (line,) in cursor.fetchall())
            assert "Seq Scan" not in plan and "registry_household" in plan
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "on"
