"""Every web export download goes through here (and the print of policy cards, a PDF: `Kind.small` decides for
it by its number of cards): a small export streams at once, a large one becomes a job.

DESIGN: long jobs show progress in the web page. Measured at a million households, the city's households export takes
about 5 minutes, the monitoring list 2 minutes, the ledger 9 seconds — far too long for one request. So a click
(`respond`) first asks whether the export is known to be small: a village, or fewer than `ANJU_EXPORT_DIRECT_ROWS`
(default 5,000) rows by a count that stops at that number (`LIMIT`, cheap whatever the size of the city). A small
export is written to a temporary file and streamed as before; anything larger becomes an `ExportJob` run by
`jobs.start` in a thread of the web process, and the click is redirected to the job's page, which polls the rows
written so far (the export functions' `progress` callback, kept in `LIVE_ROWS`) and then offers the download.

The parameters are kept as JSON (the filters as the view cleaned them, division codes, the day of the click), and
the job rebuilds the export's arguments from them (`KINDS`), so a job writes exactly the file the click would have
had. The export functions write their own audit event: one per export, whether direct or by a job; creating the
job and downloading its file add none.

Who gets the file (PIPL): its creator, or — when it holds no whole ID numbers — anyone whose scope covers the
creator's division and who may read that kind of data; a file with whole ID numbers only its creator. Files older
than `KEEP_FOR` (7 days) are deleted by `cleanup`, which runs whenever a job is created and whenever someone opens
the list of their exports (the job row stays as history).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.cards.printing import DIRECT_CARDS
from anju.cards.services import cards_print, print_recipients
from anju.cases.exports import ledger_cases, ledger_export, rectification_export
from anju.cases.selectors import CaseFilters, case_filter, cases_visible
from anju.core.errors import DomainError
from anju.core.scope import scope_q
from anju.divisions.models import Division, Level
from anju.policy.exports import monitoring_export
from anju.policy.selectors import monitoring_list
from anju.registry.models import Household

from . import exports, jobs
from .models import ExportJob, ExportKind, RunStatus
from .xlsx import Output

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DIRECT_ROWS = 5000
KEEP_FOR = dt.timedelta(days=7)
#: rows written so far by the jobs running in this process (job pk → rows), read by the job's page (see _Rows)
LIVE_ROWS: dict[int, int] = {}
Progress = Callable[[int], None] | None


# -- the parameters, as JSON and back ---------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """The view's cleaned arguments as JSON: a row as its key (a division as its code), a date as ISO text."""
    if isinstance(value, models.Model):
        return value.pk
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _division(code: str | None) -> Division | None:
    """A division named by the parameters; one removed since the click refuses the job (never widens it)."""
    if not code:
        return None
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise DomainError(_("区划{code}已不存在，请重新导出").format(code=code))
    return division


def _with_division(filters: dict[str, Any]) -> dict[str, Any]:
    return {**filters, "division": _division(filters.get("division"))}


def _today(params: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(params["today"]) if params.get("today") else timezone.localdate()


# -- the kinds ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    #: the role action that reads this data (the file of a masked export is shared with its holders in scope)
    permission: str
    #: the rows the export reads, counted up to the threshold to decide direct or job (None: `small` decides)
    rows: Callable[[Any, dict[str, Any]], QuerySet] | None
    #: write(actor, params, output, progress) -> what the export function returns
    write: Callable[[Any, dict[str, Any], Output, Progress], int]
    #: whether `rows` counts the units `progress` reports (then the job page shows n of total)
    counts_progress: bool = True
    #: small(actor, params): whether to answer at once, for a kind whose cost is not its rows (a PDF's pages)
    small: Callable[[Any, dict[str, Any]], bool] | None = None
    suffix: str = ".xlsx"
    content_type: str = XLSX
    #: opened in the browser (a PDF to print) rather than saved
    inline: bool = False


def _scope_households(actor: Any, params: dict[str, Any]) -> QuerySet:
    division = _division(params["division"])
    return Household.objects.visible_to(actor).filter(scope_q("division_id", division.prefix))


def _scope_cases(actor: Any, params: dict[str, Any]) -> QuerySet:
    return case_filter(cases_visible(actor), CaseFilters(division=params["division"]), _today(params))


KINDS: dict[str, Kind] = {
    ExportKind.HOUSEHOLDS: Kind(
        permission="registry.view",
        rows=lambda actor, p: exports.export_households(actor=actor, filters=_with_division(p["filters"])),
        write=lambda actor, p, output, progress: exports.households_export(
            actor=actor, filters=_with_division(p["filters"]), output=output, full_id=p["full_id"], progress=progress
        ),
    ),
    ExportKind.STATISTICS: Kind(
        permission="registry.view",
        rows=_scope_households,
        write=lambda actor, p, output, progress: exports.statistics_export(
            actor=actor, division=_division(p["division"]), output=output, today=_today(p), progress=progress
        ),
        counts_progress=False,
    ),
    ExportKind.LEDGER: Kind(
        permission="cases.view",
        rows=lambda actor, p: ledger_cases(actor=actor, filters=CaseFilters(**p["filters"]), today=_today(p)),
        write=lambda actor, p, output, progress: ledger_export(
            actor=actor,
            filters=CaseFilters(**p["filters"]),
            output=output,
            full_id=p["full_id"],
            today=_today(p),
            progress=progress,
        ),
    ),
    ExportKind.RECTIFICATION: Kind(
        permission="cases.view",
        rows=_scope_cases,
        write=lambda actor, p, output, progress: rectification_export(
            actor=actor, division=_division(p["division"]), output=output, today=_today(p), progress=progress
        ),
        counts_progress=False,
    ),
    ExportKind.MONITORING: Kind(
        permission="policy.view",
        rows=lambda actor, p: monitoring_list(actor=actor, filters=_with_division(p["filters"])),
        write=lambda actor, p, output, progress: monitoring_export(
            actor=actor, filters=_with_division(p["filters"]), output=output, progress=progress
        ),
    ),
    ExportKind.CARDS: Kind(
        permission="cards.distribute",
        rows=None,
        write=lambda actor, p, output, progress: cards_print(
            actor=actor,
            audience=p["audience"],
            division=_division(p["division"]),
            missing_only=p["missing"],
            output=output,
            progress=progress,
        ),
        counts_progress=False,
        small=lambda actor, p: (
            len(print_recipients(actor, p["audience"], _division(p["division"]), missing_only=p["missing"]))
            <= DIRECT_CARDS
        ),
        suffix=".pdf",
        content_type="application/pdf",
        inline=True,
    ),
}


# -- the click ------------------------------------------------------------------------------------------------------


def direct_rows() -> int:
    return getattr(settings, "ANJU_EXPORT_DIRECT_ROWS", DIRECT_ROWS)


def is_small(kind: str, actor: Any, params: dict[str, Any], division: Division | None) -> bool:
    """The kind's own measure if it has one; else a village's export, or fewer than `direct_rows()` rows (counted
    with LIMIT: cheap for the whole city)."""
    if KINDS[kind].small is not None:
        return KINDS[kind].small(actor, params)
    if division is not None and division.level == Level.VILLAGE:
        return True
    limit = direct_rows()
    return KINDS[kind].rows(actor, params).order_by()[:limit].count() < limit


def respond(
    request: HttpRequest, kind: str, params: dict[str, Any], *, filename: str, division: Division | None
) -> HttpResponse:
    """The answer to an export click, after the view checked roles and scope: the file at once when small,
    else a job and a redirect to its page. `params` are the export function's arguments (JSON-able after
    `plain`); `division` is what the export covers (a village is always small)."""
    actor = request.user
    params = plain(params)
    if not actor.division_id or is_small(kind, actor, params, division):
        spec = KINDS[kind]
        output = tempfile.TemporaryFile(suffix=spec.suffix)  # noqa: SIM115  (FileResponse closes it)
        spec.write(actor, params, output, None)
        output.seek(0)
        return FileResponse(output, as_attachment=not spec.inline, filename=filename, content_type=spec.content_type)
    job = _running_twin(actor, kind, params)
    if job is None:
        job = ExportJob.objects.create(
            kind=kind,
            parameters=params,
            full_id=bool(params.get("full_id")),
            file_name=filename[:255],
            created_by=actor,
            division_id=actor.division_id,
        )
        cleanup()
        jobs.start("export", export_job, job.pk, record=job)
    return redirect("exchange:export_job_detail", pk=job.pk)


def _running_twin(actor: Any, kind: str, params: dict[str, Any]) -> ExportJob | None:
    """The same export by the same person still queued or running (a second click follows it, not a new job)."""
    candidates = ExportJob.objects.filter(
        created_by=actor, kind=kind, status__in=(RunStatus.PENDING, RunStatus.RUNNING)
    ).order_by("-id")[:20]
    return next((job for job in candidates if job.parameters == params and not is_interrupted(job)), None)


def is_interrupted(job: ExportJob) -> bool:
    return jobs.interrupted(job, job.created_at)


# -- the job --------------------------------------------------------------------------------------------------------


class _Rows:
    """The progress callback: counts rows in `LIVE_ROWS`, for the job's page, and saves them on the job only
    before and after the export.

    Not while it runs: the export reads its rows through an open cursor (`iterator()`), and on SQLite a write on
    that connection then fails at once with "database is locked" if anyone else has written since the read began
    (the read's snapshot cannot become a write; busy_timeout does not apply) — any form saved during a city's
    five-minute export would have failed the export."""

    def __init__(self, pk: int):
        self.pk, self.done = pk, 0

    def __call__(self, n: int) -> None:
        self.done += n
        LIVE_ROWS[self.pk] = self.done

    def save(self, **fields: Any) -> None:
        ExportJob.objects.filter(pk=self.pk).update(rows_done=self.done, **fields)


def export_job(pk: int) -> None:
    """The background job: the export function as the person who clicked, into the job's file under MEDIA_ROOT."""
    job = ExportJob.objects.select_related("created_by").get(pk=pk)
    actor = job.created_by
    if actor is None:  # never the system actor (no scope limit) for a web export
        raise PermissionDenied(_("导出人账号已不存在"))
    kind = KINDS[job.kind]
    require_action(actor, kind.permission)  # roles may have changed since the click
    name = job.file.field.generate_filename(job, f"{uuid.uuid4().hex}{kind.suffix}")
    path = Path(job.file.storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    total = kind.rows(actor, job.parameters).order_by().count() if kind.counts_progress else None
    rows = _Rows(job.pk)
    rows.save(status=RunStatus.RUNNING, rows_total=total, file=name)
    try:
        kind.write(actor, job.parameters, path, rows)
        rows.save(status=RunStatus.DONE, finished_at=timezone.now())
    except BaseException:
        path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(file="", rows_done=rows.done)
        raise
    finally:
        LIVE_ROWS.pop(job.pk, None)  # only once the count is saved: the page never sees it fall back


# -- who gets what, and for how long ------------------------------------------------------------------------------


def may_view(user: Any, job: ExportJob) -> bool:
    """The creator, or a holder of the kind's read action whose scope covers the creator's division."""
    if job.created_by_id == user.pk:
        return True
    if not has_action(user, KINDS[job.kind].permission):
        return False
    return ExportJob.objects.visible_to(user).filter(pk=job.pk).exists()


def may_download(user: Any, job: ExportJob) -> bool:
    """Whole ID numbers: only the creator (still allowed to see them); masked files: whoever may view the job."""
    if not has_action(user, KINDS[job.kind].permission):
        return False
    if job.full_id:
        return job.created_by_id == user.pk and has_action(user, "registry.view_id")
    return may_view(user, job)


def expires_at(job: ExportJob) -> dt.datetime:
    return job.created_at + KEEP_FOR


def cleanup(now: dt.datetime | None = None) -> int:
    """Delete the files of jobs older than KEEP_FOR (the rows stay, as history); returns the files deleted."""
    old = list(ExportJob.objects.filter(created_at__lt=(now or timezone.now()) - KEEP_FOR).exclude(file=""))
    for job in old:
        try:
            job.file.delete(save=False)
        except OSError:
            log.warning("export file %s could not be deleted", job.file.name, exc_info=True)
            continue
        ExportJob.objects.filter(pk=job.pk).update(file="")
    return len(old)
