"""One filter set for the request and appraisal lists, shared by the web pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from anju.core.scope import scope_q
from anju.registry.filters import BOOL_CHOICES, HouseholdFilterForm
from anju.registry.models import Grade
from anju.web.forms import style_form

from .models import RequestStatus

PENDING = "pending"  # open or assigned: not appraised yet (the P8 overdue rule reads the same two statuses)
PENDING_STATUSES = (RequestStatus.OPEN, RequestStatus.ASSIGNED)
STATUS_CHOICES = [("", _("全部")), (PENDING, _("未完成（待指派、已指派）")), *RequestStatus.choices]


class _DivisionFilter(forms.Form):
    """The division pick-list of the registry lists (the actor's counties and towns; any code in the API)."""

    division = forms.CharField(label=_("行政区划"), required=False, max_length=12)

    _division_choices = HouseholdFilterForm._division_choices
    clean_division = HouseholdFilterForm.clean_division

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if actor is not None:
            self.fields["division"].widget = forms.Select(choices=self._division_choices(actor))
        style_form(self)


class RequestFilterForm(_DivisionFilter):
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)
    overdue = forms.ChoiceField(label=_("是否超期"), required=False, choices=BOOL_CHOICES)


class AppraisalFilterForm(_DivisionFilter):
    grade = forms.ChoiceField(label=_("鉴定等级"), required=False, choices=[("", _("全部")), *Grade.choices[:4]])
    flagged = forms.ChoiceField(label=_("调整等级待复核"), required=False, choices=BOOL_CHOICES)


def overdue_q(today: dt.date) -> Q:
    """P8: not appraised and past the due date (due on day 15 means late from day 16)."""
    return Q(status__in=PENDING_STATUSES, due_on__lt=today)


def filter_requests(qs: QuerySet, data: dict[str, Any], *, today: dt.date) -> QuerySet:
    if data.get("division"):
        qs = qs.filter(scope_q("division_id", data["division"].prefix))
    status = data.get("status")
    if status == PENDING:
        qs = qs.filter(status__in=PENDING_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if data.get("overdue") == "1":
        qs = qs.filter(overdue_q(today))
    elif data.get("overdue") == "0":
        qs = qs.exclude(overdue_q(today))
    return qs


def filter_appraisals(qs: QuerySet, data: dict[str, Any]) -> QuerySet:
    if data.get("division"):
        qs = qs.filter(scope_q("division_id", data["division"].prefix))
    if data.get("grade"):
        qs = qs.filter(final_grade=data["grade"])
    if data.get("flagged") in ("0", "1"):
        qs = qs.filter(flagged_for_review=data["flagged"] == "1")
    return qs
