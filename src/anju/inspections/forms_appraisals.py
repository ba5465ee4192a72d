"""Forms for suspected dangers and appraisals: they check the shape of the input; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.registry.models import Grade
from anju.web.forms import style_form

from .models import ComponentSpec, DisasterPrevention

HOUSE_GRADES = [(g, label) for g, label in Grade.choices if g != Grade.UNRATED]
GRADE_LETTERS = ("a", "b", "c", "d")


def _date(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), **kwargs)


class RequestForm(forms.Form):
    description = forms.CharField(
        label=_("疑似危险情况"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("例如：后墙纵向开裂，屋面下沉漏雨；窑脸鼓闪，拱顶掉土"),
    )
    reported_on = _date(_("上报日期"), initial=dt.date.today)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class AssignForm(forms.Form):
    appraiser = forms.ChoiceField(label=_("鉴定人员"))
    assigned_on = _date(_("指派日期"), initial=dt.date.today)

    def __init__(self, *args: Any, appraisers: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        people = [(str(p.pk), f"{p.get_full_name()}（{p.division.name if p.division_id else ''}）") for p in appraisers]
        self.fields["appraiser"].choices = [("", gettext("请选择已参加本年度培训的鉴定人员")), *people]
        self.fields["appraiser"].help_text = gettext("只列出本县（市、区）及以上、已参加本年度培训的鉴定人员（P17）")
        style_form(self)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("撤销理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input (checked as pictures by the photo service)."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


class AppraisalForm(forms.Form):
    """One radio group per component of the house's structure, with the a–d descriptions as labels."""

    appraised_on = _date(_("鉴定日期"), initial=dt.date.today)
    site_dangerous = forms.TypedChoiceField(
        label=_("场地安全"),
        choices=[("0", _("场地安全或基本安全")), ("1", _("场地危险（滑坡、崩塌、地面塌陷、洪水冲刷等）"))],
        coerce=lambda v: v == "1",
        initial="0",
        widget=forms.RadioSelect,
    )
    site_note = forms.CharField(label=_("场地情况说明"), required=False, max_length=500)
    disaster_prevention = forms.ChoiceField(
        label=_("防灾措施"), choices=DisasterPrevention.choices, widget=forms.RadioSelect
    )
    final_grade = forms.ChoiceField(
        label=_("鉴定等级"),
        required=False,
        choices=[("", _("与计算等级一致")), *HOUSE_GRADES],
        help_text=_("与按构件计算的等级不同时，须填写调整理由，并由县级复核"),
    )
    override_reason = forms.CharField(
        label=_("调整等级理由"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    co_appraisers = forms.CharField(label=_("其他鉴定人员"), required=False, max_length=200)
    conclusion = forms.CharField(
        label=_("鉴定结论及处理建议"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = MultipleImageField(label=_("现场照片"), help_text=_("可一次选择多张，JPG、PNG或WebP，每张不超过15 MB"))

    def __init__(self, *args: Any, specs: list[ComponentSpec], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.specs = specs
        for spec in specs:
            self.fields[f"component_{spec.code}"] = forms.ChoiceField(
                label=spec.name,
                required=False,
                choices=[(g, spec.description(g)) for g in GRADE_LETTERS],
                widget=forms.RadioSelect,
            )
            self.fields[f"note_{spec.code}"] = forms.CharField(
                label=gettext("{name}危险点说明").format(name=spec.name), required=False, max_length=500
            )
        style_form(self)
        self.fields["photos"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"

    def components(self) -> dict[str, str]:
        """The grades chosen so far (valid or not: the service names what is missing)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {s.code: data.get(f"component_{s.code}") or "" for s in self.specs}

    def raw_components(self) -> dict[str, str]:
        """Grades straight from the submitted data (the live preview runs before the form is complete)."""
        return {s.code: (self.data.get(f"component_{s.code}") or "") for s in self.specs}

    def component_rows(self) -> list[tuple[ComponentSpec, Any, Any]]:
        return [(s, self[f"component_{s.code}"], self[f"note_{s.code}"]) for s in self.specs]

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "appraised_on": data["appraised_on"],
            "site_dangerous": data["site_dangerous"],
            "site_note": data["site_note"],
            "disaster_prevention": data["disaster_prevention"],
            "components": {code: grade for code, grade in self.components().items() if grade},
            "notes": {s.code: data.get(f"note_{s.code}", "") for s in self.specs},
            "final_grade": data["final_grade"] or None,
            "override_reason": data["override_reason"],
            "co_appraisers": data["co_appraisers"],
            "conclusion": data["conclusion"],
            "photos": data["photos"],
        }


class ReviewForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("复核结论"),
        choices=[("1", _("同意调整后的等级")), ("0", _("不同意，需重新鉴定"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("复核意见"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class ComponentForm(forms.ModelForm):
    confirm = forms.BooleanField(label=_("已与市住建局确认，取消“本地默认，待确认”标记"), required=False)

    class Meta:
        model = ComponentSpec
        fields = ["name", "sort_order", "desc_a", "desc_b", "desc_c", "desc_d", "is_active"]
        widgets = {f"desc_{g}": forms.Textarea(attrs={"rows": 2}) for g in GRADE_LETTERS}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.instance.is_local_default:
            del self.fields["confirm"]
        style_form(self)
