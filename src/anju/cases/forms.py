"""Forms for the ledger's moves: they check the shape of the input only; the services (`services/`) decide.

A form that moves a case carries the case's `version` as it was shown, so a stale page is refused by the
service (ConflictError) instead of moving the case twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.registry.models import House
from anju.web.forms import style_form

from .models import (
    CaseSource,
    DesignKind,
    HouseholdType,
    PhotoStage,
    RenovationMethod,
    SecureMeans,
    TransitionKind,
)

MONEY_LIMIT = 10_000_000


def _date(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), **kwargs)


def _text(label: Any, limit: int, *, rows: int = 3, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=limit, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


def _blank(choices: Iterable[tuple[str, Any]], label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class MoveForm(StyledForm):
    """A form that moves a case: the version it was shown at travels with it (hidden)."""

    version = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, error_messages={"required": _("页面已过期，请刷新后重试")}
    )


class CaseOpenForm(StyledForm):
    """P1, P19: a problem of one household goes into the ledger (a problem list item names its household type)."""

    source = forms.ChoiceField(label=_("问题来源"), choices=_blank(CaseSource.choices, _("请选择")))
    household_type = forms.ChoiceField(
        label=_("户类型"),
        required=False,
        choices=_blank(HouseholdType.choices, _("按重点对象类型自动判断")),
        help_text=_("问题清单必须注明户类型（P1）"),
    )
    house = forms.ModelChoiceField(
        label=_("房屋"), required=False, queryset=House.objects.none(), empty_label=_("不关联房屋")
    )
    description = _text(_("问题描述"), 1000)
    measures = _text(_("整改措施"), 1000, required=False)
    transferred_on = _date(_("移交日期"), required=False, help_text=_("问题清单的移交日期"))

    def __init__(self, *args: Any, houses: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["house"].queryset = houses
        self.fields["house"].label_from_instance = lambda h: f"{h}（{h.get_grade_display()}）"


class CaseEditForm(MoveForm):
    description = _text(_("问题描述"), 1000)
    measures = _text(_("整改措施"), 1000, required=False)


class RequestAppraisalForm(MoveForm):
    description = _text(_("需鉴定的情况"), 1000, required=False, help_text=_("留空则使用台账的问题描述"))


class UseAppraisalForm(MoveForm):
    appraisal = forms.ModelChoiceField(label=_("鉴定结果"), queryset=None, empty_label=_("请选择该房屋的鉴定"))

    def __init__(self, *args: Any, appraisals: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["appraisal"].queryset = appraisals
        self.fields["appraisal"].label_from_instance = lambda a: gettext("{date} 鉴定为{grade}级").format(
            date=a.appraised_on.isoformat(), grade=a.final_grade
        )


class ApplyForm(MoveForm):
    """P20: the household's application, its recorded will and choices."""

    applied_on = _date(_("申请日期"), initial=dt.date.today)
    application_note = _text(_("申请内容"), 1000, required=False)
    consent_on = _date(_("户意愿确认日期"), required=False, help_text=_("入户确认农户改造意愿的日期"))
    consent_by = forms.CharField(label=_("确认人（家庭成员）"), max_length=64, required=False)
    consent_note = _text(_("户意愿及选择"), 1000, required=False)
    household_chose_plan = forms.BooleanField(label=_("农户参与选择改造方案"), required=False)
    own_labour = forms.BooleanField(label=_("农户投工投劳"), required=False)
    self_funding = forms.DecimalField(
        label=_("自筹资金（元）"), min_value=0, max_value=MONEY_LIMIT, decimal_places=2, initial=0, required=False
    )


class PlanForm(MoveForm):
    method = forms.ChoiceField(label=_("改造方式"), choices=_blank(RenovationMethod.choices, _("请选择")))
    planned_on = _date(_("纳入计划日期"), initial=dt.date.today)


class DesignForm(MoveForm):
    design_kind = forms.ChoiceField(label=_("结构设计"), choices=DesignKind.choices, widget=forms.RadioSelect)
    design_reference = forms.CharField(
        label=_("图集编号/设计说明"), max_length=200, required=False, help_text=_("采用图集时填写图号")
    )
    design_file = forms.FileField(
        label=_("设计图"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.dwg"}),
        help_text=_("上传设计图时选择文件（PDF、图片或DWG，不超过20MB）"),
    )


class BuilderForm(MoveForm):
    builder = forms.TypedChoiceField(label=_("施工工匠"), coerce=int)

    def __init__(self, *args: Any, builders: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["builder"].choices = _blank(builders, _("请选择本县登记的工匠"))


class StartForm(MoveForm):
    started_on = _date(_("开工日期"), initial=dt.date.today)
    must_move_out = forms.BooleanField(label=_("施工期间需搬出（须安排安全的过渡住房）"), required=False, initial=True)
    energy_saving = forms.BooleanField(label=_("节能改造"), required=False)
    toilet_retrofit = forms.BooleanField(label=_("改厕（水冲式厕所入户）"), required=False)


class VisitForm(StyledForm):
    visited_on = _date(_("巡查日期"), initial=dt.date.today)
    findings = _text(_("巡查情况"), 1000)
    needs_fix = forms.BooleanField(label=_("需整改"), required=False)
    fix_due_on = _date(_("整改期限"), required=False)


class VisitFixForm(StyledForm):
    fixed_on = _date(_("整改完成日期"), initial=dt.date.today)
    fix_note = _text(_("整改情况"), 1000)


class CompleteForm(MoveForm):
    completed_on = _date(_("竣工日期"), initial=dt.date.today)


class AcceptForm(MoveForm):
    accepted_on = _date(_("验收日期"), initial=dt.date.today)
    acceptance_team = forms.CharField(label=_("验收人员"), max_length=300, help_text=_("如：县住建局、镇村干部、农户"))
    household_signed = forms.BooleanField(label=_("农户参加验收并签字确认"), required=False)
    note = _text(_("验收意见"), 1000, required=False)
    house_grade_after = forms.ChoiceField(
        label=_("验收后房屋等级"),
        required=False,
        choices=[("", _("不记录")), ("A", "A"), ("B", "B")],
        help_text=_("记入房屋的等级历史"),
    )


class PaymentForm(StyledForm):
    paid_on = _date(_("拨付日期"), initial=dt.date.today)
    amount = forms.DecimalField(label=_("拨付金额（元）"), min_value=0, max_value=MONEY_LIMIT, decimal_places=2)
    account = forms.CharField(
        label=_("收款账号"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_("保存时只保留后四位"),
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class TransitionalForm(StyledForm):
    kind = forms.ChoiceField(label=_("安置方式"), choices=_blank(TransitionKind.choices, _("请选择")))
    place = forms.CharField(label=_("安置地点"), max_length=200)
    from_on = _date(_("开始日期"), initial=dt.date.today)
    to_on = _date(_("结束日期"), required=False)
    safety_confirmed = forms.BooleanField(label=_("已确认过渡住房安全"), required=False)
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class TransitionalConfirmForm(StyledForm):
    confirmed_on = _date(_("确认日期"), initial=dt.date.today)


class PhotoForm(StyledForm):
    stage = forms.ChoiceField(label=_("阶段"), choices=_blank(PhotoStage.choices, _("请选择")))
    photo = forms.FileField(
        label=_("照片"), widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})
    )
    caption = forms.CharField(label=_("说明"), max_length=200, required=False)


class SecureForm(MoveForm):
    """P10, P19: made safe by other means, with evidence."""

    means = forms.ChoiceField(label=_("保障方式"), choices=_blank(SecureMeans.choices, _("请选择")))
    secured_on = _date(_("保障日期"), initial=dt.date.today)
    evidence = _text(_("保障证明"), 1000, help_text=_("如租房协议、公租房入住通知、亲友住房鉴定情况"))


class CancelForm(MoveForm):
    reason = _text(_("撤销理由"), 500, rows=2)


class CloseForm(MoveForm):
    closed_on = _date(_("销号日期"), initial=dt.date.today)


class SignForm(StyledForm):
    comment = _text(_("意见"), 500, rows=2, required=False)
