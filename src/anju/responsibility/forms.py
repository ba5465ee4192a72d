"""Forms of the chain pages: they check the shape of the input; the services decide (P18 level rule)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.web.forms import style_form

from .selectors import eligible_people


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        where = obj.division.name if obj.division_id else ""
        return f"{obj.get_full_name()}（{where}）" if where else obj.get_full_name()


class AssignForm(forms.Form):
    person = PersonChoice(label=_("责任人"), queryset=None, empty_label=_("请选择"))
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False, help_text=_("留空则取该用户的联系电话"))
    reason = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, code: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = eligible_people(code).select_related("division")
        style_form(self)


class EndForm(forms.Form):
    reason = forms.CharField(label=_("解除原因"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_form(self)
