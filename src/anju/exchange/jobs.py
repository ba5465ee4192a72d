"""Long web jobs (an import, a department comparison) in a background thread of the web process.

`make run` serves the site with waitress, one process with a pool of request threads; a job runs in a thread of
that process, so there is no worker or broker to install. The page that starts a job answers at once and the job
page polls the job's record (an ImportRun or a Comparison: `status`, `message`, `finished_at`) for progress.

    jobs.start("import", import_job, run.pk, record=run)       # the function gets (*args, **kwargs)
    jobs.start("compare", compare_job, comparison.pk, record=comparison)

- The thread has its own database connection and closes it at the end (a thread's connection is never closed by
  Django's request cycle) and carries the request id of the page that started it, so the job's audit event names
  that request.
- At most `ANJU_JOBS_MAX` (default 2) jobs run at once; the others wait (their record stays PENDING, 排队中).
- The function sets its record's final state itself (the import engine does). If it raises and left the record
  unfinished, the runner finishes it: a `DomainError` or `PermissionDenied` as REFUSED with its Chinese message,
  anything else as FAILED with a Chinese message, and the traceback is logged.
- `ANJU_JOBS_SYNC = True` runs the job inline in the calling thread (page tests inside one test transaction).

A job dies with its process (a restart, a crash). The import engine's single transaction means nothing was written,
but the record stays RUNNING; `interrupted()` tells the pages to show it as 中断.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.core.errors import DomainError

from .models import RunStatus

log = logging.getLogger(__name__)

FINAL = (RunStatus.DONE, RunStatus.REFUSED, RunStatus.FAILED)
#: a record left unfinished this long is taken as interrupted even if another process might still run it
STALE_AFTER = dt.timedelta(hours=2)

_PROCESS_STARTED = timezone.now()
_live: set[tuple[str, Any]] = set()
_live_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None


def _key(record: models.Model) -> tuple[str, Any]:
    return record._meta.label_lower, record.pk


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    with _live_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(getattr(settings, "ANJU_JOBS_MAX", 2))
        return _slots


def start(name: str, func: Callable[..., Any], *args: Any, record: models.Model | None = None, **kwargs: Any):
    """Run `func(*args, **kwargs)` as a background job; returns the thread (None when run inline)."""
    if record is not None:
        with _live_lock:
            _live.add(_key(record))
    if getattr(settings, "ANJU_JOBS_SYNC", False):
        _run(name, func, args, kwargs, record)
        return None
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(_in_thread, name, func, args, kwargs, record), name=f"anju-job-{name}", daemon=True
    )
    thread.start()
    return thread


def _in_thread(name: str, func: Callable[..., Any], args: tuple, kwargs: dict, record: models.Model | None) -> None:
    try:
        with _semaphore():
            _run(name, func, args, kwargs, record)
    finally:
        connection.close()


def _run(name: str, func: Callable[..., Any], args: tuple, kwargs: dict, record: models.Model | None) -> None:
    try:
        func(*args, **kwargs)
    except (DomainError, PermissionDenied) as exc:
        message = getattr(exc, "message", "") or str(exc) or _("您无权执行此操作")
        log.info("job %s refused: %s", name, message)
        _finish(record, RunStatus.REFUSED, message)
    except Exception:
        log.exception("job %s failed", name)
        _finish(record, RunStatus.FAILED, _("后台任务失败（系统错误），未写入任何数据，请稍后重试或联系管理员"))
    finally:
        if record is not None:
            with _live_lock:
                _live.discard(_key(record))


def _finish(record: models.Model | None, status: str, message: str) -> None:
    """Finish the record unless the job already did (the engine saves REFUSED/FAILED itself before raising)."""
    if record is None:
        return
    unfinished = type(record)._default_manager.filter(pk=record.pk).exclude(status__in=FINAL)
    unfinished.update(status=status, message=message[:1000], finished_at=timezone.now())


def is_live(record: models.Model) -> bool:
    """Whether this process runs (or queues) the job of `record`."""
    with _live_lock:
        return _key(record) in _live


def interrupted(record: models.Model, started: dt.datetime) -> bool:
    """An unfinished record whose job is not running here and that started before this process did (a restart
    killed it) or longer ago than STALE_AFTER (a job of another process that died)."""
    if record.status in FINAL or is_live(record):
        return False
    return started < _PROCESS_STARTED or started < timezone.now() - STALE_AFTER
