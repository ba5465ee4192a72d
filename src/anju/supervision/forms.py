"""Forms of the supervision pages: they check the shape of the input; the services check the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.accounts.models import User
from anju.divisions.models import Division
from anju.web.forms import style_form

from .models import FilingStatus, FindingState, MeasureKind, Severity, Verdict, VisitLevel, VisitMode

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _area(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


EVIDENCE_ACCEPT = "image/*,.pdf,.doc,.docx,.wps,.ofd"


def _county_choices(counties: list[Division], blank: str | None = None) -> list[tuple[str, str]]:
    return ([("", blank)] if blank is not None else []) + [(d.code, d.name) for d in counties]


class RoundForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=gettext_lazy("名称"), max_length=200)
    deadline = forms.DateField(label=gettext_lazy("备案截止日期"), widget=DATE)
    note = forms.CharField(label=gettext_lazy("要求"), max_length=1000, required=False, widget=_area(3))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class FilingForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("县（市、区）"))
    title = forms.CharField(label=gettext_lazy("方案名称"), max_length=200)
    filed_on = forms.DateField(label=gettext_lazy("报送日期"), widget=DATE, initial=dt.date.today)
    document = forms.FileField(label=gettext_lazy("方案文件（PDF、Word、WPS、OFD或图片，20MB以内）"))

    def __init__(self, *args: Any, counties: list[Division], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = _county_choices(counties)
        style_form(self)


class FilingReviewForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("处理"),
        choices=[(FilingStatus.RECEIVED, gettext_lazy("备案")), (FilingStatus.RETURNED, gettext_lazy("退回修改"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=gettext_lazy("意见"), max_length=1000, required=False, widget=_area(3))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class VisitForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("被督导县（市、区）"))
    level = forms.ChoiceField(label=gettext_lazy("层级"), choices=VisitLevel.choices)
    mode = forms.ChoiceField(label=gettext_lazy("方式"), choices=VisitMode.choices)
    starts_on = forms.DateField(label=gettext_lazy("开始日期"), widget=DATE)
    ends_on = forms.DateField(label=gettext_lazy("结束日期"), widget=DATE)
    places = forms.CharField(
        label=gettext_lazy("督导乡镇、村（区划代码，多个用逗号或空格分隔）"), max_length=2000, required=False
    )
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("督导组成员（系统用户）"), queryset=User.objects.none(), required=False
    )
    member_names = forms.CharField(label=gettext_lazy("其他组员"), max_length=500, required=False)
    scope_note = forms.CharField(label=gettext_lazy("督导内容"), max_length=2000, required=False, widget=_area(3))

    def __init__(self, *args: Any, counties: list[Division], team: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = _county_choices(counties)
        self.fields["members"].queryset = team
        style_form(self)

    def clean_places(self) -> list[str]:
        raw = self.cleaned_data.get("places") or ""
        return [p for p in raw.replace("，", ",").replace("、", ",").replace(",", " ").split() if p]


class FindingForm(forms.Form):
    """Phone-friendly: one column, the division from the visit's places or any code of the county."""

    division_code = forms.ChoiceField(label=gettext_lazy("问题所在区划"))
    household = forms.CharField(
        label=gettext_lazy("涉及农户（户主姓名、身份证号或农户编号，可选）"), max_length=40, required=False
    )
    description = forms.CharField(label=gettext_lazy("问题描述"), max_length=2000, widget=_area(4))
    severity = forms.ChoiceField(label=gettext_lazy("严重程度"), choices=Severity.choices)
    fed_back_on = forms.DateField(label=gettext_lazy("反馈日期"), widget=DATE, initial=dt.date.today)

    def __init__(self, *args: Any, divisions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = divisions
        style_form(self)


class RectificationForm(forms.Form):
    """Phone-friendly: the evidence field opens the camera on a phone."""

    done_on = forms.DateField(label=gettext_lazy("整改完成日期"), widget=DATE, initial=dt.date.today)
    description = forms.CharField(label=gettext_lazy("整改情况"), max_length=2000, widget=_area(4))
    evidence = forms.FileField(
        label=gettext_lazy("佐证材料（照片或文件，可选）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        label=gettext_lazy("验收结论"),
        choices=[(Verdict.ACCEPTED, gettext_lazy("通过")), (Verdict.RETURNED, gettext_lazy("退回"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=gettext_lazy("意见"), max_length=1000, required=False, widget=_area(2))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class FindingCaseForm(forms.Form):
    description = forms.CharField(label=gettext_lazy("问题描述（默认用督导问题描述）"), max_length=1000, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class FindingFilterForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("县（市、区）"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    severity = forms.ChoiceField(label=gettext_lazy("严重程度"), required=False)
    late = forms.BooleanField(label=gettext_lazy("逾期未整改"), required=False)

    def __init__(self, *args: Any, counties: list[Division], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = _county_choices(counties, _("全部"))
        self.fields["state"].choices = [("", _("全部")), *FindingState.choices]
        self.fields["severity"].choices = [("", _("全部")), *Severity.choices]
        style_form(self)


class VisitFilterForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("县（市、区）"), required=False)
    level = forms.ChoiceField(label=gettext_lazy("层级"), required=False)
    mode = forms.ChoiceField(label=gettext_lazy("方式"), required=False)
    year = forms.IntegerField(label=gettext_lazy("年度"), required=False, min_value=2000, max_value=2100)

    def __init__(self, *args: Any, counties: list[Division], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = _county_choices(counties, _("全部"))
        self.fields["level"].choices = [("", _("全部")), *VisitLevel.choices]
        self.fields["mode"].choices = [("", _("全部")), *VisitMode.choices]
        style_form(self)


class MeasureForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("县（市、区）"))
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=MeasureKind.choices)
    person = forms.CharField(label=gettext_lazy("对象（单位或人员）"), max_length=200)
    held_on = forms.DateField(label=gettext_lazy("日期"), widget=DATE, initial=dt.date.today)
    reason = forms.CharField(label=gettext_lazy("事由"), max_length=2000, widget=_area(3))
    findings = forms.CharField(
        label=gettext_lazy("相关督导问题编号（多个用逗号分隔，可选）"), max_length=500, required=False
    )
    conducted_by = forms.CharField(label=gettext_lazy("实施单位或人员"), max_length=200)
    outcome = forms.CharField(label=gettext_lazy("结果"), max_length=2000, required=False, widget=_area(3))

    def __init__(self, *args: Any, counties: list[Division], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = _county_choices(counties)
        style_form(self)

    def clean_findings(self) -> list[int]:
        raw = (self.cleaned_data.get("findings") or "").replace("，", ",").replace("、", ",").replace(",", " ")
        ids = []
        for part in raw.split():
            if not part.lstrip("#").isdigit():
                raise forms.ValidationError(_("问题编号应为数字"))
            ids.append(int(part.lstrip("#")))
        return ids


class MeasureFilterForm(forms.Form):
    county = forms.ChoiceField(label=gettext_lazy("县（市、区）"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), required=False)
    year = forms.IntegerField(label=gettext_lazy("年度"), required=False, min_value=2000, max_value=2100)

    def __init__(self, *args: Any, counties: list[Division], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = _county_choices(counties, _("全部"))
        self.fields["kind"].choices = [("", _("全部")), *MeasureKind.choices]
        style_form(self)


class WeightsForm(forms.Form):
    check_coverage = forms.IntegerField(label=gettext_lazy("年度核查覆盖率"), min_value=0, max_value=100)
    cases_on_time = forms.IntegerField(label=gettext_lazy("台账按期完成率"), min_value=0, max_value=100)
    complaints_on_time = forms.IntegerField(label=gettext_lazy("信访按期答复率"), min_value=0, max_value=100)
    findings_on_time = forms.IntegerField(label=gettext_lazy("督导问题按期整改率"), min_value=0, max_value=100)
    training_coverage = forms.IntegerField(label=gettext_lazy("培训覆盖率"), min_value=0, max_value=100)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)
