"""The background job runner in real threads (committed data, the thread's own connection): an import job runs to
the end and its audit event carries the starting request's id; a failing job is finished as FAILED (logged) or
REFUSED with its Chinese message; a job is live while it runs, and a run left unfinished by a dead process shows
as interrupted."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection, connections
from django.utils import timezone

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import DomainError
from anju.core.middleware import new_request_id
from anju.exchange import jobs
from anju.exchange.models import ImportRun, RunStatus
from anju.exchange.tests.test_import_views import good_row, households_xlsx
from anju.exchange.views_imports import import_job
from anju.registry.models import Household
from anju.testing import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def threaded(settings, tmp_path):
    settings.ANJU_JOBS_SYNC = False
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def county():
    factories.village(factories.YUYANG_TOWN, 1, name="高家沟村")
    return factories.user("yy_jobs", factories.YUYANG, "county_manager")


def pending_run(user, *, dry_run: bool, content: bytes) -> ImportRun:
    run = ImportRun(
        kind="households", dry_run=dry_run, status=RunStatus.PENDING, file_name="农户.xlsx", started_by=user
    )
    run.division_id = user.division_id
    run.upload.save("upload.xlsx", ContentFile(content), save=False)
    run.save()
    return run


def test_an_import_job_runs_in_its_own_thread_and_connection(county):
    run = pending_run(county, dry_run=False, content=households_xlsx([good_row(1), good_row(2)]))
    request_id = new_request_id()
    seen = {}

    def job(pk: int) -> None:
        seen["thread"] = threading.current_thread()
        seen["connection"] = connections["default"]  # the thread's own DatabaseWrapper
        import_job(pk)

    thread = jobs.start("import", job, run.pk, record=run)
    assert thread is not None
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert seen["thread"] is thread and seen["thread"] is not threading.main_thread()
    assert seen["connection"] is not connections["default"]
    if connection.vendor == "postgresql":  # Django never closes an in-memory SQLite test database
        assert seen["connection"].connection is None  # closed at the end of the job
    run.refresh_from_db()
    assert (run.status, run.created, run.progress_done) == (RunStatus.DONE, 2, 2)
    assert Household.objects.count() == 2
    event = Event.objects.get(action=Action.HOUSEHOLDS_IMPORTED)
    assert event.request_id == request_id and event.actor_id == county.pk
    assert not jobs.is_live(run)


def test_an_unexpected_failure_marks_the_run_failed_and_is_logged(county, caplog):
    run = pending_run(county, dry_run=True, content=b"PK\x03\x04")

    def broken(pk: int) -> None:
        ImportRun.objects.filter(pk=pk).update(status=RunStatus.RUNNING)
        raise RuntimeError("disk on fire")

    with caplog.at_level(logging.ERROR, logger="anju.exchange.jobs"):
        jobs.start("import", broken, run.pk, record=run).join(timeout=30)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "系统错误" in run.message and run.finished_at
    assert "disk on fire" in caplog.text


def test_a_refusal_keeps_its_chinese_message_and_a_finished_record_is_left_alone(county):
    run = pending_run(county, dry_run=True, content=b"PK\x03\x04")

    def refuse(pk: int) -> None:
        raise DomainError("表头不符合要求：缺少必填列「户主姓名」")

    jobs.start("import", refuse, run.pk, record=run).join(timeout=30)
    run.refresh_from_db()
    assert (run.status, run.message) == (RunStatus.REFUSED, "表头不符合要求：缺少必填列「户主姓名」")

    def engine_like(pk: int) -> None:  # the engine saves its own final state before raising
        ImportRun.objects.filter(pk=pk).update(status=RunStatus.REFUSED, message="文件是空的")
        raise DomainError("文件是空的")

    other = pending_run(county, dry_run=True, content=b"")
    jobs.start("import", engine_like, other.pk, record=other).join(timeout=30)
    other.refresh_from_db()
    assert (other.status, other.message) == (RunStatus.REFUSED, "文件是空的")


def test_a_running_job_is_live_and_a_dead_ones_run_is_interrupted(county):
    run = pending_run(county, dry_run=True, content=b"PK\x03\x04")
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=3)
    )
    run.refresh_from_db()
    assert jobs.interrupted(run, run.started_at)  # nobody runs it: a restart killed it

    release = threading.Event()
    thread = jobs.start("import", lambda pk: release.wait(30), run.pk, record=run)
    try:
        assert jobs.is_live(run) and not jobs.interrupted(run, run.started_at)
    finally:
        release.set()
        thread.join(timeout=30)
    assert not jobs.is_live(run)
    fresh = ImportRun.objects.get(pk=run.pk)
    fresh.started_at = timezone.now()
    assert not jobs.interrupted(fresh, fresh.started_at)  # another process's recent job: not judged yet
