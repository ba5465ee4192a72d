"""Forms of P10's tracking pages: they check the shape of the input only; `services` decides. Forms that change a
record carry its `version` as shown, so a stale page is refused instead of overwriting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.idle.forms import StyledForm, VersionedForm, date_field, text_field
from anju.registry.filters import HouseholdFilterForm
from anju.web.forms import style_form

from .models import Housing, TrackingKind, TrackingState
from .selectors import REAPPLICATION_DAYS, TrackingFilters


class TrackingFilterForm(forms.Form):
    q = forms.CharField(label=_("户主姓名"), required=False, max_length=40)
    division = forms.CharField(label=_("行政区划"), required=False, max_length=12)
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部")), *TrackingKind.choices])
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("open", _("跟踪中（未结束）")), *TrackingState.choices],
    )
    housing = forms.ChoiceField(label=_("现住房情况"), required=False, choices=[("", _("全部")), *Housing.choices])
    stalled = forms.BooleanField(
        label=_("确认意愿超过{days}天未登记台账").format(days=REAPPLICATION_DAYS), required=False
    )

    _division_choices = HouseholdFilterForm._division_choices
    clean_division = HouseholdFilterForm.clean_division

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division"].widget = forms.Select(choices=self._division_choices(actor))
        style_form(self)

    def filters(self) -> TrackingFilters:
        """The valid fields of the query; a field that does not parse (shown as an error) narrows nothing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return TrackingFilters(
            division=data["division"].code if data.get("division") else "",
            kind=data.get("kind") or "",
            state=data.get("state") or "",
            housing=data.get("housing") or "",
            stalled=bool(data.get("stalled")),
            q=data.get("q") or "",
        )


class FollowFields(StyledForm):
    housing = forms.ChoiceField(label=_("现住房情况"), choices=[("", "—"), *Housing.choices], required=False)
    housed_since = date_field(_("起始日期"), required=False, help_text=_("按现住房情况居住的起始日期"))
    returned_on = date_field(_("返乡日期"), required=False, help_text=_("返乡户必填"))
    followed_by_code = forms.ChoiceField(label=_("跟踪单位"))
    follower_name = forms.CharField(label=_("跟踪人"), required=False, max_length=64)
    notes = text_field(_("情况说明"), 1000, required=False)

    def __init__(self, *args: Any, followers: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["followed_by_code"].choices = followers


class TrackingStartForm(FollowFields):
    kind = forms.ChoiceField(label=_("类型"), choices=TrackingKind.choices)
    field_order = ["kind", "housing", "housed_since", "returned_on", "followed_by_code", "follower_name", "notes"]


class TrackingEditForm(FollowFields):
    last_contact_on = date_field(_("最近联系日期"), required=False)
    version = VersionedForm.base_fields["version"]


class ExplainForm(VersionedForm):
    explained_on = date_field(_("政策解释日期"), initial=dt.date.today)
    explained_by = forms.CharField(label=_("解释人"), max_length=64)
    explanation = text_field(_("解释内容"), 1000, rows=4, help_text=_("补助标准、改造方式、申请程序、农户责任等"))


class WishForm(VersionedForm):
    confirmed_on = date_field(_("确认日期"), initial=dt.date.today)
    signed_by = forms.CharField(label=_("签字确认的家庭成员"), max_length=64)
    signed = forms.BooleanField(label=_("农户已签字确认改造意愿"), required=False)
    note = text_field(_("改造意愿"), 1000, required=False, help_text=_("如希望的改造方式、自筹能力"))


class OpenCaseForm(StyledForm):
    house = forms.ModelChoiceField(label=_("房屋"), required=False, queryset=None, empty_label=_("不指定"))
    description = text_field(_("问题描述"), 1000, required=False, help_text=_("不填则按重新申请情况自动生成"))

    def __init__(self, *args: Any, houses: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["house"].queryset = houses


class CloseForm(VersionedForm):
    closed_on = date_field(_("结束日期"), initial=dt.date.today)
    reason = text_field(_("结束原因"), 500)
