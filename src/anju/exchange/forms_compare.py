"""Forms of the department comparison pages (P6) and of the villages' registration tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anju.divisions.models import Division, Level
from anju.registry.models import Department, Household
from anju.web.forms import style_form

from .models import TaskStatus
from .reader import SUFFIXES

INDENT = {Level.CITY: "", Level.COUNTY: "\u3000", Level.TOWN: "\u3000\u3000", Level.VILLAGE: "\u3000\u3000\u3000"}


def division_choices(actor: Any, *, empty: str) -> list[tuple[str, str]]:
    """The actor's city, counties and towns (villages too for town and village users): a county has hundreds of
    villages, too many for a pick-list."""
    levels = [Level.CITY, Level.COUNTY, Level.TOWN]
    if actor.division_id and actor.division.level in (Level.TOWN, Level.VILLAGE):
        levels.append(Level.VILLAGE)
    rows = Division.objects.visible_to(actor).filter(level__in=levels).order_by("code")
    return [("", empty), *((d.code, INDENT.get(d.level, "") + d.display_name) for d in rows)]


class ComparisonForm(forms.Form):
    """A department's list (DESIGN.md "Department lists"), its department, and the part of the registry to compare
    with (the user's whole subtree by default)."""

    file = forms.FileField(
        label=_("部门名单"),
        help_text=_(
            "Excel（.xlsx、.xls）或 CSV 文件。列：姓名、身份证号码、类别、认定日期；"
            "可选县（市、区）、乡镇（街道）、行政村"
        ),
    )
    source = forms.ChoiceField(label=_("来源部门"), choices=Department.choices)
    division = forms.ChoiceField(label=_("比对范围"), required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        own = actor.division.name if actor.division_id else ""
        self.fields["division"].choices = division_choices(actor, empty=str(_("本辖区全部（{name}）")).format(name=own))
        self.fields["file"].widget.attrs["accept"] = ",".join(SUFFIXES)
        style_form(self)

    def clean_file(self) -> Any:
        """A wrong file type is refused at once (the reader refuses it too, after the job has started)."""
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in SUFFIXES:
            raise forms.ValidationError(
                _("不支持的文件类型「{suffix}」，请使用 .xlsx、.xls 或 .csv 文件").format(suffix=suffix or upload.name)
            )
        return upload


class TaskFilterForm(forms.Form):
    """Status (open by default) and division of the registration task list."""

    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *TaskStatus.choices], initial=TaskStatus.OPEN
    )
    division = forms.ChoiceField(label=_("行政区划"), required=False)

    def __init__(self, data: Any, *, actor: Any):
        if "status" not in data:
            data = data.copy()
            data["status"] = TaskStatus.OPEN
        super().__init__(data)
        self.fields["division"].choices = division_choices(actor, empty=str(_("全部（本辖区）")))
        style_form(self)

    def clean_division(self) -> Division | None:
        code = self.cleaned_data["division"]
        return Division.objects.get(code=code) if code else None


class TaskCloseForm(forms.Form):
    """Registered (the household is the one with the task's ID number) or checked and not to be registered."""

    status = forms.ChoiceField(
        label=_("处理结果"),
        choices=[(TaskStatus.DONE, _("已登记")), (TaskStatus.DISMISSED, _("核实无需登记"))],
        widget=forms.RadioSelect,
    )
    household = forms.ModelChoiceField(
        label=_("已登记的农户"),
        queryset=Household.objects.none(),
        required=False,
        empty_label=_("按身份证号码自动查找"),
    )
    note = forms.CharField(
        label=_("处理说明"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("核实无需登记时必须填写原因（如已迁出、已死亡、非农村户籍）"),
    )

    def __init__(self, *args: Any, households: QuerySet, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["household"]
        field.queryset = households
        field.label_from_instance = lambda h: f"{h.head_name}（{h.id_masked}，{h.division.name}）"
        style_form(self)
        self.fields["status"].widget.attrs["class"] = "form-check-input"
