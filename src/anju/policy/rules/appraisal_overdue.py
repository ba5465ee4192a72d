"""P8: a suspected dangerous house is appraised within the configured days (default 15) of its report."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.inspections.models import AppraisalRequest, RequestStatus

from . import Context, Finding, rule

STATUS_LABELS = dict(RequestStatus.choices)


@rule(
    id="P8.appraisal_overdue",
    policy_ids=("P8",),
    severity="critical",
    title=gettext_lazy("疑似危房鉴定超期"),
)
def appraisal_overdue(context: Context) -> Iterator[Finding]:
    """P8: a request for appraisal still open or assigned after its due date (`due_on`, set when it was
    reported: reported_on + ANJU_APPRAISAL_DUE_DAYS). Due on day 15 means late from day 16."""
    requests = context.limit(
        AppraisalRequest.objects.filter(
            status__in=[RequestStatus.OPEN, RequestStatus.ASSIGNED], due_on__lt=context.today
        ),
        "house__household_id",
    ).values_list("pk", "division_id", "house__household_id", "reported_on", "due_on", "status")
    for pk, division, household, reported_on, due_on, status in context.rows(requests.order_by()):
        yield Finding(
            object_type="inspections.appraisalrequest",
            object_id=pk,
            household_id=household,
            division_code=division,
            due_on=due_on,
            message=_("疑似危房{reported}上报，应于{due}前完成鉴定，至今未鉴定（{status}）").format(
                reported=reported_on.isoformat(), due=due_on.isoformat(), status=STATUS_LABELS[status]
            ),
        )
