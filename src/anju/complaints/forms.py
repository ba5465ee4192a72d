"""Forms of complaints (P14), publicity and public opinion (P15): they check the shape of the input only; the
services decide. A form that moves a complaint carries its `version` as shown, so a stale page is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.accounts.permissions import ROLE_ACTIONS
from anju.core.scope import ancestor_codes
from anju.divisions.models import Division, Level
from anju.registry.filters import HouseholdFilterForm
from anju.web.forms import style_form

from .models import (
    Category,
    Channel,
    ComplaintState,
    OpinionSource,
    PublicityKind,
    ReplyMethod,
    ReviewResult,
    Satisfaction,
    Severity,
)
from .selectors import ComplaintFilters

INDENT = {Level.CITY: "", Level.COUNTY: "", Level.TOWN: "\u3000", Level.VILLAGE: "\u3000\u3000"}


def _date(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), **kwargs)


def _text(label: Any, limit: int, *, rows: int = 3, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=limit, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


def _blank(choices: Iterable[tuple[str, Any]], label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


def division_choices(actor: Any, levels: Iterable[str] = (Level.COUNTY, Level.TOWN, Level.VILLAGE)) -> list:
    """The counties, towns and villages of the actor's subtree, indented, for a <select> (one query)."""
    rows = Division.objects.visible_to(actor).filter(level__in=list(levels)).order_by("code")
    return [("", gettext("请选择"))] + [(d.code, INDENT.get(d.level, "") + d.display_name) for d in rows]


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class VersionForm(StyledForm):
    version = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, error_messages={"required": _("页面已过期，请刷新后重试")}
    )


class ComplaintFilterForm(forms.Form):
    q = forms.CharField(label=_("信访人"), required=False, max_length=40)
    division = forms.CharField(label=_("行政区划"), required=False, max_length=12)
    state = forms.ChoiceField(label=_("状态"), required=False, choices=_blank(ComplaintState.choices, _("全部")))
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=_blank(Channel.choices, _("全部")))
    category = forms.ChoiceField(label=_("类别"), required=False, choices=_blank(Category.choices, _("全部")))
    open = forms.BooleanField(label=_("未办结"), required=False)
    overdue = forms.BooleanField(label=_("逾期未答复"), required=False)
    review = forms.BooleanField(label=_("回头看"), required=False)
    mine = forms.BooleanField(label=_("我承办的"), required=False)

    _division_choices = HouseholdFilterForm._division_choices
    clean_division = HouseholdFilterForm.clean_division

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["division"].widget = forms.Select(choices=self._division_choices(actor))
        style_form(self)

    def filters(self) -> ComplaintFilters:
        """The valid fields of the query; a field that does not parse (shown as an error) narrows nothing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return ComplaintFilters(
            division=data["division"].code if data.get("division") else "",
            state=data.get("state") or "",
            channel=data.get("channel") or "",
            category=data.get("category") or "",
            overdue=bool(data.get("overdue")),
            open_only=bool(data.get("open")),
            review=bool(data.get("review")),
            handler=self.actor.pk if data.get("mine") else None,
            q=data.get("q") or "",
        )


class ComplaintForm(StyledForm):
    """P14: receiving a complaint (受理)."""

    division_code = forms.ChoiceField(label=_("所涉区划"), help_text=_("信访件归属的村、乡镇或县"))
    channel = forms.ChoiceField(label=_("来源渠道"), choices=_blank(Channel.choices, _("请选择")))
    received_on = _date(_("受理日期"), initial=dt.date.today)
    complainant_name = forms.CharField(label=_("信访人"), max_length=64, help_text=_("匿名的填写“匿名”"))
    phone = forms.CharField(
        label=_("联系电话"), max_length=30, required=False, help_text=_("加密保存，页面上只显示部分号码")
    )
    category = forms.ChoiceField(label=_("问题类别"), choices=_blank(Category.choices, _("请选择")))
    content = _text(_("反映内容"), 2000, rows=5)
    household = forms.IntegerField(
        label=_("关联农户编号"), required=False, min_value=1, help_text=_("从农户档案页登记信访件时自动填写")
    )
    case = forms.IntegerField(label=_("关联台账编号"), required=False, min_value=1)
    is_review = forms.BooleanField(label=_("回头看（历史信访件复查）"), required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = division_choices(actor)


class ComplaintEditForm(VersionForm):
    complainant_name = forms.CharField(label=_("信访人"), max_length=64)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False, help_text=_("留空则不修改"))
    category = forms.ChoiceField(label=_("问题类别"), choices=Category.choices)
    content = _text(_("反映内容"), 2000, rows=5)
    household = forms.IntegerField(label=_("关联农户编号"), required=False, min_value=1)
    case = forms.IntegerField(label=_("关联台账编号"), required=False, min_value=1)


def handler_choices(complaint: Any) -> list[tuple[str, str]]:
    """Active people who can see the complaint and whose roles handle complaints: the county's and town's staff
    above it (one query)."""
    roles = [role for role, actions in ROLE_ACTIONS.items() if "complaints.handle" in actions]
    codes = [complaint.division_id, *ancestor_codes(complaint.division_id)]
    people = (
        get_user_model()
        .objects.filter(is_active=True, division_id__in=codes)
        .order_by("division_id", "username")
        .only("pk", "username", "full_name", "roles", "division_id")
    )
    return [("", gettext("请选择承办人"))] + [
        (str(p.pk), f"{p.get_full_name() or p.username}（{p.username}）")
        for p in people
        if set(p.roles or []) & set(roles)
    ]


class AssignForm(VersionForm):
    handler = forms.ChoiceField(label=_("承办人"))
    assigned_on = _date(_("交办日期"), initial=dt.date.today)
    reply_due_on = _date(
        _("答复期限"), required=False, help_text=_("留空则按来源渠道的规定期限；延期须经批准，修改记入审计日志")
    )

    def __init__(self, *args: Any, complaint: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["handler"].choices = handler_choices(complaint)


class ReplyForm(VersionForm):
    reply_text = _text(_("答复内容"), 2000, rows=5, help_text=_("调查核实情况和处理意见"))
    reply_method = forms.ChoiceField(label=_("答复方式"), choices=_blank(ReplyMethod.choices, _("请选择")))
    replied_on = _date(_("答复日期"), initial=dt.date.today)


class CloseForm(VersionForm):
    satisfaction = forms.ChoiceField(label=_("信访人满意度"), choices=Satisfaction.choices, widget=forms.RadioSelect)
    closed_on = _date(_("办结日期"), initial=dt.date.today)
    close_note = _text(_("办结说明"), 1000, required=False, help_text=_("不满意的，须说明后续处理情况"))


class ReviewForm(VersionForm):
    review_result = forms.ChoiceField(label=_("回头看结果"), choices=_blank(ReviewResult.choices, _("请选择")))
    review_note = _text(_("回头看情况"), 1000)
    reviewed_on = _date(_("回头看日期"), initial=dt.date.today)


class OpenCaseForm(StyledForm):
    house = forms.ModelChoiceField(label=_("房屋"), required=False, queryset=None, empty_label=_("不关联房屋"))
    description = _text(_("问题描述"), 1000, required=False, help_text=_("留空则使用信访件的反映内容"))

    def __init__(self, *args: Any, houses: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["house"].queryset = houses


class HotlineForm(StyledForm):
    division_code = forms.ChoiceField(label=_("县（市、区）"))
    number = forms.CharField(label=_("监督举报电话"), max_length=40)
    published_on = _date(_("公布日期"), initial=dt.date.today)
    published_where = forms.CharField(
        label=_("公布渠道"), max_length=200, help_text=_("如县政府网站、村务公开栏、明白卡")
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = division_choices(actor, (Level.COUNTY,))


class PublicityForm(StyledForm):
    division_code = forms.ChoiceField(label=_("区划"))
    held_on = _date(_("日期"), initial=dt.date.today)
    kind = forms.ChoiceField(label=_("形式"), choices=_blank(PublicityKind.choices, _("请选择")))
    title = forms.CharField(label=_("主题"), max_length=200)
    audience = forms.IntegerField(label=_("受众人数"), min_value=0, max_value=1_000_000, initial=0)
    notes = _text(_("情况说明"), 2000, required=False)
    photo = forms.FileField(label=_("照片"), required=False, help_text=_("JPG、PNG 或 WebP，选填"))

    def __init__(self, *args: Any, actor: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["division_code"]
        else:
            self.fields["division_code"].choices = division_choices(actor)


class IncidentForm(StyledForm):
    division_code = forms.ChoiceField(label=_("区划"))
    found_on = _date(_("发现日期"), initial=dt.date.today)
    source = forms.ChoiceField(label=_("来源"), choices=_blank(OpinionSource.choices, _("请选择")))
    source_detail = forms.CharField(label=_("来源说明"), max_length=200, required=False)
    severity = forms.ChoiceField(label=_("等级"), choices=Severity.choices)
    summary = _text(_("舆情摘要"), 2000, rows=4)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = division_choices(actor)


class RespondForm(StyledForm):
    response = _text(_("回应处置情况"), 2000, rows=4)
    responded_on = _date(_("回应日期"), initial=dt.date.today)


class IncidentCloseForm(StyledForm):
    closed_on = _date(_("办结日期"), initial=dt.date.today)
