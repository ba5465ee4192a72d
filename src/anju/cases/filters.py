"""The ledger page's filter form: it only parses the query string into `selectors.CaseFilters`, so the page, the
export links and the API narrow the ledger through the same `case_filter` (P19 late / due soon)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.registry.filters import HouseholdFilterForm
from anju.web.forms import style_form

from .models import CaseSource, CaseState
from .selectors import DUE_SOON_DAYS, CaseFilters, cases_visible

MINE = "me"
GRADE_CHOICES = [("", _("全部")), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("户主姓名"), required=False, max_length=40)
    division = forms.CharField(label=_("行政区划"), required=False, max_length=12)
    state = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *CaseState.choices])
    source = forms.ChoiceField(label=_("问题来源"), required=False, choices=[("", _("全部")), *CaseSource.choices])
    grade = forms.ChoiceField(label=_("鉴定等级"), required=False, choices=GRADE_CHOICES)
    responsible = forms.ChoiceField(label=_("责任人"), required=False)
    late = forms.BooleanField(label=_("逾期"), required=False)
    due_soon = forms.BooleanField(label=_("{days}天内到期").format(days=DUE_SOON_DAYS), required=False)

    _division_choices = HouseholdFilterForm._division_choices
    clean_division = HouseholdFilterForm.clean_division

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["division"].widget = forms.Select(choices=self._division_choices(actor))
        self.fields["responsible"].choices = self._responsible_choices(actor)
        style_form(self)

    @staticmethod
    def _responsible_choices(actor: Any) -> list[tuple[str, str]]:
        """The choice 我负责的, then everyone named responsible for a case the actor can see (one query)."""
        people = (
            cases_visible(actor)
            .filter(responsible__isnull=False)
            .values_list("responsible_id", "responsible_name")
            .order_by("responsible_name", "responsible_id")
            .distinct()
        )
        return [("", gettext("全部")), (MINE, gettext("我负责的"))] + [
            (str(pk), name or str(pk)) for pk, name in people if pk != actor.pk
        ]

    def filters(self) -> CaseFilters:
        """The valid fields of the query; a field that does not parse (shown as an error) narrows nothing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        responsible = data.get("responsible") or ""
        return CaseFilters(
            division=data["division"].code if data.get("division") else "",
            state=data.get("state") or "",
            source=data.get("source") or "",
            grade=data.get("grade") or "",
            late=bool(data.get("late")),
            due_soon=bool(data.get("due_soon")),
            responsible=self.actor.pk if responsible == MINE else int(responsible) if responsible.isdigit() else None,
            q=data.get("q") or "",
        )
