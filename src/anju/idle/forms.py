"""Forms of the idle dangerous house pages (P11): they check the shape of the input only; `services` decides.
Forms that change a listing carry its `version` as shown, so a stale page is refused instead of overwriting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.accounts.models import User
from anju.registry.filters import HouseholdFilterForm
from anju.web.forms import style_form

from .models import DEFAULT_VISIT_INTERVAL_DAYS, MAX_VISIT_INTERVAL_DAYS, EndReason, VisitResult
from .selectors import SECURE_GRACE_DAYS, IdleFilters


def date_field(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), **kwargs)


def text_field(label: Any, limit: int, *, rows: int = 2, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=limit, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        style_form(self)


class VersionedForm(StyledForm):
    version = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, error_messages={"required": _("页面已过期，请刷新后重试")}
    )


class IdleFilterForm(forms.Form):
    q = forms.CharField(label=_("户主姓名"), required=False, max_length=40)
    division = forms.CharField(label=_("行政区划"), required=False, max_length=12)
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("open", _("在册")), ("ended", _("已销号")), ("all", _("全部"))],
    )
    problem = forms.ChoiceField(
        label=_("问题"),
        required=False,
        choices=[
            ("", _("全部")),
            ("visit_missed", _("未按期巡查")),
            ("not_secured", _("{days}天内未封存或未设警示标识").format(days=SECURE_GRACE_DAYS)),
            ("occupied", _("发现有人居住")),
        ],
    )

    _division_choices = HouseholdFilterForm._division_choices
    clean_division = HouseholdFilterForm.clean_division

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division"].widget = forms.Select(choices=self._division_choices(actor))
        style_form(self)

    def filters(self) -> IdleFilters:
        """The valid fields of the query; a field that does not parse (shown as an error) narrows nothing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return IdleFilters(
            division=data["division"].code if data.get("division") else "",
            status=data.get("status") or "open",
            problem=data.get("problem") or "",
            q=data.get("q") or "",
        )


def watchers_for(code: str) -> Any:
    """Active users of the village `code` and of its town: the people who walk past the house."""
    return (
        User.objects.filter(is_active=True, division_id__in=[code, code[:9] + "000"])
        .select_related("division")
        .order_by("division_id", "full_name", "id")
    )


class WatchFields(StyledForm):
    watcher = forms.ModelChoiceField(
        label=_("巡查责任人（系统用户）"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("不选，填写姓名和电话"),
    )
    watcher_name = forms.CharField(label=_("巡查责任人姓名"), required=False, max_length=64)
    watcher_phone = forms.CharField(label=_("联系电话"), required=False, max_length=20)
    visit_interval_days = forms.IntegerField(
        label=_("巡查周期（天）"),
        min_value=1,
        max_value=MAX_VISIT_INTERVAL_DAYS,
        initial=DEFAULT_VISIT_INTERVAL_DAYS,
        help_text=_("默认每月巡查一次（30天）"),
    )
    note = text_field(_("备注"), 500, required=False)

    def __init__(self, *args: Any, code: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["watcher"].queryset = watchers_for(code)
        self.fields["watcher"].label_from_instance = lambda u: f"{u.full_name or u.username}（{u.division.name}）"


class IdleListForm(WatchFields):
    listed_on = date_field(_("列入日期"), initial=dt.date.today)
    field_order = ["listed_on", "watcher", "watcher_name", "watcher_phone", "visit_interval_days", "note"]


class IdleEditForm(WatchFields):
    version = VersionedForm.base_fields["version"]


class IdleSecureForm(VersionedForm):
    sealed_on = date_field(_("封存日期"), required=False)
    sealed_by = forms.CharField(label=_("封存人"), required=False, max_length=64)
    sign_posted_on = date_field(_("警示标识张贴日期"), required=False)
    sign_photo = forms.FileField(
        label=_("警示标识照片"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class IdleVisitForm(VersionedForm):
    """P11's monthly visit, filled in on a phone at the house: a date, one tap for the result, two short texts."""

    visited_on = date_field(_("巡查日期"), initial=dt.date.today)
    result = forms.ChoiceField(label=_("巡查结果"), choices=VisitResult.choices, widget=forms.RadioSelect)
    note = text_field(_("现场情况"), 500, required=False)
    action_taken = text_field(
        _("处置措施"), 500, required=False, help_text=_("发现有人居住、倒塌等情况时必填（如劝离、设置围挡、报告乡镇）")
    )


class IdleEndForm(VersionedForm):
    ended_on = date_field(_("销号日期"), initial=dt.date.today)
    end_reason = forms.ChoiceField(label=_("销号原因"), choices=[("", "—"), *EndReason.choices])
    end_note = text_field(_("销号说明"), 500, required=False)
