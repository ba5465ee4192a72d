"""Forms check the shape of input only; business rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.divisions.models import Division, Level
from anju.web.forms import style_form

from .models import Grade, House, SecurityMethod, Structure, TargetCategory


def village_choices(actor: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Villages in the actor's subtree, grouped by town, for a <select>."""
    villages = Division.objects.visible_to(actor).filter(level=Level.VILLAGE).select_related("parent").order_by("code")
    groups: dict[str, list[tuple[str, str]]] = {}
    for v in villages:
        groups.setdefault(v.parent.name if v.parent else "", []).append((v.code, v.display_name))
    return [("", [("", gettext("请选择行政村"))]), *list(groups.items())]


class HouseholdForm(forms.Form):
    division_code = forms.ChoiceField(label=_("行政村"))
    group_name = forms.CharField(label=_("村民小组"), required=False, max_length=32)
    head_name = forms.CharField(label=_("户主姓名"), max_length=64)
    id_number = forms.CharField(
        label=_("户主身份证号码"), max_length=40, help_text=_("18位，末位可为X；全角数字和空格会自动规范")
    )
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=20)
    size = forms.IntegerField(label=_("家庭人口"), min_value=1, max_value=30)
    security_method = forms.ChoiceField(label=_("住房保障方式"), choices=SecurityMethod.choices)
    categories = forms.ModelMultipleChoiceField(
        label=_("重点对象类型"),
        required=False,
        queryset=TargetCategory.objects.filter(is_active=True),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
    )
    certified_on = forms.DateField(label=_("认定日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("备注"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, actor: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = village_choices(actor)
        if editing:
            self.fields["to_verify"] = forms.BooleanField(
                label=_("待核实"),
                required=False,
                help_text=_("来自问题清单等外部名单、尚未入户核实；核实后取消勾选"),
            )
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = gettext("不修改请留空")
            del self.fields["categories"]
            del self.fields["certified_on"]
        style_form(self)


class HouseForm(forms.ModelForm):
    grade = forms.ChoiceField(label=_("安全等级"), choices=Grade.choices, initial=Grade.UNRATED)
    graded_on = forms.DateField(label=_("鉴定日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    appraiser = forms.CharField(label=_("鉴定人"), required=False, max_length=64)

    class Meta:
        model = House
        fields = ["structure", "build_year", "storeys", "floor_area", "is_idle", "longitude", "latitude", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["structure"].choices = Structure.choices
        if self.instance.pk:
            self.fields["grade"].initial = self.instance.grade
            self.fields["grade"].help_text = gettext("修改等级将记入等级历史")
        style_form(self)
