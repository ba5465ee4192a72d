"""The training pages' forms: they check the shape of the input; the services decide (P17)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.web.forms import style_form

from .models import SessionKind
from .selectors import kind_choices


class SessionFilterForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), required=False, min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=gettext_lazy("培训类别"), required=False)
    division = forms.ChoiceField(label=gettext_lazy("组织单位"), required=False)
    q = forms.CharField(label=gettext_lazy("培训内容"), required=False, max_length=40)

    def __init__(self, *args: Any, divisions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部")), *SessionKind.choices]
        self.fields["division"].choices = [("", _("全部")), *divisions]
        style_form(self)


class SessionForm(forms.Form):
    """A session and its list of attendees, picked from people the organiser may train (checkboxes: phones)."""

    division_code = forms.ChoiceField(label=gettext_lazy("组织单位"))
    # type=date takes only ISO dates: the locale's "2026/11/29" would leave the field empty and the form unsendable
    held_on = forms.DateField(
        label=gettext_lazy("培训日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    topic = forms.CharField(label=gettext_lazy("培训内容"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("培训类别"), choices=SessionKind.choices)
    trainer = forms.CharField(label=gettext_lazy("授课人"), max_length=64, required=False)
    hours = forms.DecimalField(
        label=gettext_lazy("学时"), min_value=Decimal(0), max_value=Decimal(100), decimal_places=1, initial=2
    )
    place = forms.CharField(label=gettext_lazy("培训地点"), max_length=200, required=False)
    materials = forms.FileField(label=gettext_lazy("培训材料（PDF、Word、PPT等，50MB以内）"), required=False)
    users = forms.MultipleChoiceField(
        label=gettext_lazy("参训工作人员"), required=False, widget=forms.CheckboxSelectMultiple
    )
    craftsmen = forms.MultipleChoiceField(
        label=gettext_lazy("参训建筑工匠"), required=False, widget=forms.CheckboxSelectMultiple
    )
    signed_in = forms.BooleanField(
        label=gettext_lazy("名单中的人员均已签到（预先登记的培训不勾选）"), required=False, initial=True
    )

    def __init__(
        self,
        *args: Any,
        divisions: list[tuple[str, str]],
        users: list[tuple[int, str]],
        craftsmen: list[tuple[int, str]],
        editing: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = divisions
        self.fields["users"].choices = users
        self.fields["craftsmen"].choices = craftsmen
        if editing:  # the organiser stays; new people join signed in, the others keep their sign-in
            del self.fields["division_code"], self.fields["signed_in"]
        style_form(self)


class LedgerFilterForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100, required=False)
    division = forms.ChoiceField(label=gettext_lazy("区划"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("人员类别"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("培训情况"),
        required=False,
        choices=[
            ("", gettext_lazy("全部")),
            ("trained", gettext_lazy("已培训")),
            ("untrained", gettext_lazy("未培训")),
        ],
    )
    q = forms.CharField(label=gettext_lazy("姓名"), required=False, max_length=40)

    def __init__(self, *args: Any, divisions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division"].choices = [("", _("全部")), *divisions]
        self.fields["kind"].choices = [("", _("全部")), *kind_choices()]
        style_form(self)
