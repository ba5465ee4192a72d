"""The engine's contract for its callers (terminal, web upload, benchmark): progress in both passes, the run's
history, the stored error workbook, file-level refusals recorded on the run."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from python_calamine import CalamineWorkbook

from anju.core import idnumber
from anju.core.errors import DomainError
from anju.exchange.models import ImportMode, ImportRun, RunStatus
from anju.exchange.pipeline import BATCH, LIVE_PROGRESS, run_import
from anju.registry.models import Household
from anju.testing import factories

pytestmark = pytest.mark.django_db


def households_file(path: Path, count: int, bad: set[int] = frozenset()) -> Path:
    village = factories.village(factories.YUYANG_TOWN, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["区划代码", "户主姓名", "身份证号码", "家庭人口", "房屋结构"])
        for n in range(count):
            number = idnumber.compose("610802", dt.date(1960, 1, 1) + dt.timedelta(days=n // 1000), n % 1000)
            writer.writerow([village.code, f"户{n}", number, "0" if n in bad else "3", "砖混"])
    return path


def test_progress_of_each_batch_and_the_run_history(tmp_path):
    """Households stream: each batch is checked and written in one step ("write"); a dry run only checks."""
    path = households_file(tmp_path / "h.csv", BATCH + 10)
    calls: list[tuple[str, int]] = []
    run_import(kind="households", path=path, actor=None, dry_run=True, progress=lambda *call: calls.append(call))
    assert calls == [("check", BATCH), ("check", 10)]
    calls.clear()
    result = run_import(kind="households", path=path, actor=None, progress=lambda phase, n: calls.append((phase, n)))
    assert calls == [("write", BATCH), ("write", 10)]
    run = ImportRun.objects.filter(dry_run=False).get()
    assert (run.status, run.progress_done, run.created, run.file_name) == ("done", BATCH + 10, BATCH + 10, "h.csv")
    assert result.written and Household.objects.count() == BATCH + 10


def test_web_run_keeps_its_error_workbook(tmp_path):
    """The web makes the run first (PENDING, its upload) and asks for the workbook in run.errors_file."""
    user = factories.user("xian", factories.YUYANG, "county_manager")
    run = ImportRun.objects.create(kind="households", file_name="上传.csv", division_id=user.division_id)
    path = households_file(tmp_path / "h.csv", 5, bad={1, 3})
    result = run_import(
        kind="households", path=path, actor=user, mode=ImportMode.SKIP_INVALID, store_errors=True, run=run
    )
    run.refresh_from_db()
    assert (run.status, run.created, run.invalid, run.file_name, run.started_by) == ("done", 3, 2, "上传.csv", user)
    assert [e.row for e in result.errors] == [3, 5]
    with run.errors_file.open("rb") as handle:
        rows = CalamineWorkbook.from_filelike(handle).get_sheet_by_index(0).to_python()
    assert [int(r[0]) for r in rows[1:]] == [3, 5] and rows[1][1] == "家庭人口"


def test_dry_run_counts_and_writes_nothing(tmp_path):
    result = run_import(kind="households", path=households_file(tmp_path / "h.csv", 3), actor=None, dry_run=True)
    assert (result.run.status, result.run.dry_run, result.run.created) == ("done", True, 3)
    assert not result.written and not Household.objects.exists()


def test_unreadable_file_is_refused_on_the_run(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("户主姓名,身份证号码\n", encoding="utf-8")
    with pytest.raises(DomainError):
        run_import(kind="households", path=path, actor=None)
    run = ImportRun.objects.get()
    assert run.status == RunStatus.REFUSED and run.message and run.finished_at


def test_roles_checked_before_reading(tmp_path):
    factories.user("dept", factories.YUYANG, "department")
    from anju.accounts.models import User

    with pytest.raises(PermissionDenied):
        run_import(kind="households", path=tmp_path / "none.csv", actor=User.objects.get(username="dept"))
    assert not ImportRun.objects.exists()


def test_unknown_kind(tmp_path):
    with pytest.raises(DomainError, match="未知的导入类型"):
        run_import(kind="nope", path=tmp_path / "x.csv", actor=None)


def test_a_streamed_run_refused_after_its_first_batch_was_written_leaves_nothing(tmp_path):
    """Households stream each batch into the run's transaction; an error in the second batch (all-or-nothing)
    rolls back the first batch too, and every bad row is still reported."""
    path = households_file(tmp_path / "h.csv", BATCH + 10, bad={5, BATCH + 5})
    result = run_import(kind="households", path=path, actor=None)
    assert result.refused and [e.row for e in result.errors] == [7, BATCH + 7]
    assert Household.objects.count() == 0
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.invalid, run.progress_done) == ("refused", BATCH + 8, 2, BATCH + 10)


def test_a_streamed_run_skipping_bad_rows_writes_every_other_batch_row(tmp_path):
    path = households_file(tmp_path / "h.csv", BATCH + 10, bad={5, BATCH + 5})
    result = run_import(kind="households", path=path, actor=None, mode=ImportMode.SKIP_INVALID)
    assert result.written and result.error_count == 2
    assert Household.objects.count() == BATCH + 8
    assert not Household.objects.filter(head_name__in=["户5", f"户{BATCH + 5}"]).exists()


def test_a_repeated_cell_is_parsed_once_but_reported_on_every_row(tmp_path):
    """Cells are memoised per column: the same bad value gives the same error on each of its rows."""
    path = households_file(tmp_path / "h.csv", 6, bad={1, 2, 4})
    result = run_import(kind="households", path=path, actor=None, dry_run=True)
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "家庭人口", "0"),
        (4, "家庭人口", "0"),
        (6, "家庭人口", "0"),
    ]
    assert len({e.message for e in result.errors}) == 1


def test_the_web_progress_of_a_writing_run_comes_from_its_process(client, tmp_path):
    """A streamed run's progress is inside its transaction: the page reads the count the run keeps in memory."""
    user = factories.user("xian", factories.YUYANG, "county_manager")
    client.force_login(user)
    client.get(reverse("exchange:import_list"))  # the web process is up before the run starts (else: interrupted)
    run = ImportRun.objects.create(
        kind="households", file_name="h.csv", division_id=user.division_id, status=RunStatus.RUNNING, started_by=user
    )
    LIVE_PROGRESS[run.pk] = 6000
    try:
        html = client.get(reverse("exchange:import_progress", args=[run.pk])).content.decode()
    finally:
        LIVE_PROGRESS.pop(run.pk)
    assert "已检查 6000 行" in html


def test_large_files_are_parsed_apart_only_where_forking_is_safe(tmp_path, monkeypatch):
    """A child process parses a city's file (PARSE_APART_BYTES and more) — never a small upload, and never while
    another thread runs (the web's import jobs): a lock held by that thread at the fork would stay held."""
    import threading

    from anju.exchange import pipeline
    from anju.exchange.reader import open_table

    path = households_file(tmp_path / "h.csv", 50)
    with open_table(path, pipeline.importer_for("households").spec.columns) as table:
        monkeypatch.setattr(pipeline, "PARSE_APART_BYTES", path.stat().st_size + 1)
        assert not pipeline._parse_apart(table)
        monkeypatch.setattr(pipeline, "PARSE_APART_BYTES", path.stat().st_size)
        monkeypatch.setattr(threading, "active_count", lambda: 1)
        assert pipeline._parse_apart(table)
        monkeypatch.setattr(threading, "active_count", lambda: 2)
        assert not pipeline._parse_apart(table)
