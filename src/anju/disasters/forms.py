"""Forms of special periods and disasters: they check the shape of the input only; `services` decides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.divisions.models import Division, Level
from anju.registry.models import House
from anju.web.forms import style_form

from .models import DamageLevel, Department, DisasterKind, ResettlementMethod, Season


def _date(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), **kwargs)


def _text(label: Any, limit: int, *, rows: int = 3, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=limit, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input (the phone's camera or gallery); each is checked by the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


class Styled(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_form(self)


class PlanForm(Styled):
    county = forms.ModelChoiceField(label=_("县（市、区）"), queryset=Division.objects.none(), to_field_name="code")
    season = forms.ChoiceField(label=_("时段"), choices=Season.choices)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("预案名称"), max_length=200)
    filed_on = _date(_("印发日期"))
    document = forms.FileField(label=_("预案文件"), help_text=_("PDF、Word、WPS、OFD或图片，不超过20MB"))

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("year", dt.date.today().year)
        super().__init__(*args, **kwargs)
        counties = Division.objects.visible_to(actor).filter(level=Level.COUNTY).order_by("code")
        self.fields["county"].queryset = counties
        if actor.division_id and actor.division.level == Level.COUNTY:
            self.fields["county"].initial = actor.division_id


class SeasonForm(Styled):
    county = forms.ModelChoiceField(label=_("县（市、区）"), queryset=Division.objects.none(), to_field_name="code")
    season = forms.ChoiceField(label=_("时段"), choices=Season.choices)
    start_month = forms.IntegerField(label=_("开始月"), min_value=1, max_value=12)
    start_day = forms.IntegerField(label=_("开始日"), min_value=1, max_value=31)
    end_month = forms.IntegerField(label=_("结束月"), min_value=1, max_value=12)
    end_day = forms.IntegerField(
        label=_("结束日"), min_value=1, max_value=31, help_text=_("结束早于开始时跨年（如冻融期11月15日至次年3月15日）")
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = Division.objects.visible_to(actor).filter(level=Level.COUNTY).order_by("code")
        if actor.division_id and actor.division.level == Level.COUNTY:
            self.fields["county"].initial = actor.division_id


class EventForm(Styled):
    kind = forms.ChoiceField(label=_("灾害类型"), choices=DisasterKind.choices)
    name = forms.CharField(label=_("名称"), max_length=200, help_text=_("例如：2026年7月榆阳区强降雨"))
    started_on = _date(_("发生日期"))
    ended_on = _date(_("结束日期"), required=False)
    affected_codes = forms.MultipleChoiceField(
        label=_("受灾区划"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("受灾的县（市、区）或乡镇（街道）"),
    )
    description = _text(_("灾情描述"), 2000, required=False)

    def __init__(self, *args: Any, actor: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        below = Division.objects.visible_to(actor).filter(level__in=[Level.COUNTY, Level.TOWN]).order_by("code")
        self.fields["affected_codes"].choices = [(d.code, d.name) for d in below.only("code", "name")]
        if editing:
            for name in ("kind", "started_on"):
                del self.fields[name]


class ReportForm(Styled):
    house = forms.ModelChoiceField(label=_("房屋"), queryset=House.objects.none())
    level = forms.ChoiceField(label=_("受损程度"), choices=DamageLevel.choices, widget=forms.RadioSelect)
    people_affected = forms.IntegerField(label=_("受灾人数"), min_value=0, max_value=100, initial=0)
    casualties = forms.IntegerField(label=_("伤亡人数"), min_value=0, max_value=100, initial=0)
    needs_resettlement = forms.BooleanField(label=_("需要过渡安置"), required=False)
    description = _text(_("受损情况"), 1000, required=False)
    photos = MultipleImageField(label=_("现场照片"), required=False, help_text=_("可多选，最多9张"))

    def __init__(self, *args: Any, houses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["house"].queryset = houses
        self.fields["house"].label_from_instance = lambda h: f"{h.household.head_name} · {h.division.name} · {h}"


class ResettlementForm(Styled):
    method = forms.ChoiceField(label=_("安置方式"), choices=ResettlementMethod.choices)
    place = forms.CharField(label=_("安置地点"), max_length=200)
    since = _date(_("安置日期"), initial=dt.date.today)
    is_safe = forms.BooleanField(label=_("安置点经确认安全"), required=False)
    confirmed_by = forms.CharField(label=_("安全确认人"), max_length=64, required=False)


class PhotoForm(Styled):
    photos = MultipleImageField(label=_("现场照片"))


class NoteForm(Styled):
    department = forms.ChoiceField(label=_("部门"), choices=Department.choices)
    noted_on = _date(_("日期"), initial=dt.date.today)
    content = _text(_("协调内容"), 2000, rows=4)
