"""Campaign forms and the list filter: they check the shape of input; the rules live in `services/campaigns.py`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.divisions.models import Division, Level
from anju.web.forms import style_form

from .models import CampaignKind, TargetSet
from .services.campaigns import annual_period

INDENT = {
    Level.PROVINCE: "",
    Level.CITY: "",
    Level.COUNTY: "\u3000",
    Level.TOWN: "\u3000\u3000",
    Level.VILLAGE: "\u3000\u3000\u3000",
}


def division_choices(actor: Any, current: str = "") -> list[tuple[str, str]]:
    """The actor's own division and the counties and towns below it; a posted code not listed is kept (the
    service decides whether it is in scope)."""
    rows = Division.objects.visible_to(actor).filter(level__in=[Level.CITY, Level.COUNTY, Level.TOWN]).order_by("code")
    choices = [(d.code, INDENT[d.level] + d.display_name) for d in rows]
    if actor.division_id and actor.division_id not in {c for c, _label in choices}:
        choices.insert(0, (actor.division_id, actor.division.display_name))
    if current and current not in {c for c, _label in choices}:
        found = Division.objects.filter(code=current).first()
        choices.append((current, found.display_name if found else current))
    return choices


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CampaignForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=CampaignKind.choices, initial=CampaignKind.ANNUAL)
    name = forms.CharField(label=_("名称"), required=False, max_length=100, help_text=_("留空则按年度和类型自动命名"))
    division_code = forms.CharField(label=_("核查范围"), max_length=12)
    starts_on = forms.DateField(label=_("开始日期"), widget=DateInput())
    ends_on = forms.DateField(label=_("截止日期"), widget=DateInput(), help_text=_("截止后仍未核查的农户将产生预警"))
    target_set = forms.ChoiceField(label=_("核查对象"), choices=TargetSet.choices, initial=TargetSet.ALL)
    note = forms.CharField(label=_("说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        starts_on, ends_on = annual_period(timezone.localdate().year)
        self.fields["starts_on"].initial, self.fields["ends_on"].initial = starts_on, ends_on
        self.fields["division_code"].initial = actor.division_id
        current = (self.data.get("division_code") or "").strip() if self.is_bound else ""
        self.fields["division_code"].widget = forms.Select(choices=division_choices(actor, current))
        style_form(self)


class CampaignEditForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    starts_on = forms.DateField(label=_("开始日期"), widget=DateInput())
    ends_on = forms.DateField(label=_("截止日期"), widget=DateInput())
    note = forms.CharField(label=_("说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class CampaignFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), required=False)
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", gettext("全部")), *CampaignKind.choices]
        style_form(self)
