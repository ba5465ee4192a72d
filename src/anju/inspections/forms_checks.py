"""Check-record forms (the phone-friendly entry page) and the check list filter; rules live in `services/checks.py`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.divisions.models import Division, Level
from anju.web.forms import style_form

from .forms_campaigns import INDENT, DateInput
from .models import Campaign, SiteHazard, Verdict
from .services.checks import FLAGS
from .services.photos import MAX_PHOTO_BYTES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input (Django's documented pattern); each is checked by the photo service."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, (list, tuple)):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        for item in files:
            if item.size > MAX_PHOTO_BYTES:
                raise forms.ValidationError(gettext("「{name}」超过15 MB，请压缩后再上传").format(name=item.name))
        return files


def campaign_choices(actor: Any) -> list[tuple[str, str]]:
    """Campaigns the actor may record checks in: those already started, the running ones first."""
    today = timezone.localdate()
    rows = Campaign.objects.visible_to(actor).filter(starts_on__lte=today).order_by("-ends_on", "-id")[:50]
    return [(str(c.pk), c.name + ("" if c.ends_on >= today else gettext("（已截止）"))) for c in rows]


class CheckForm(forms.Form):
    """The household's check; the per-house checklists are `FindingForm`s with the prefix `house-<id>`."""

    campaign = forms.TypedChoiceField(label=_("核查批次"), coerce=int)
    household = forms.IntegerField(widget=forms.HiddenInput)
    checked_on = forms.DateField(label=_("核查日期"), widget=DateInput())
    verdict = forms.ChoiceField(label=_("核查结论"), choices=Verdict.choices, widget=forms.RadioSelect)
    latitude = forms.DecimalField(
        label=_("纬度"), required=False, widget=forms.NumberInput(attrs={"step": "any", "placeholder": _("纬度")})
    )
    longitude = forms.DecimalField(
        label=_("经度"), required=False, widget=forms.NumberInput(attrs={"step": "any", "placeholder": _("经度")})
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    photos = MultiplePhotoField(label=_("照片"), required=False, help_text=_("可多选，每张不超过15 MB"))

    def __init__(self, *args: Any, actor: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["checked_on"].initial = timezone.localdate()
        if editing:
            del self.fields["campaign"]
            del self.fields["household"]
        else:
            self.fields["campaign"].choices = campaign_choices(actor)
        style_form(self)
        self.fields["verdict"].widget.attrs["class"] = "form-check-input"


class FindingForm(forms.Form):
    """The short checklist for one house (big checkboxes on the phone)."""

    cracks = forms.BooleanField(label=_("墙体开裂"), required=False)
    tilt = forms.BooleanField(label=_("倾斜"), required=False)
    settlement = forms.BooleanField(label=_("不均匀沉降"), required=False)
    roof_leak = forms.BooleanField(label=_("屋面漏雨"), required=False)
    earth_wall_damp = forms.BooleanField(label=_("土墙受潮、冲刷侵蚀"), required=False)
    cave_arch_damage = forms.BooleanField(label=_("窑洞拱顶开裂或塌落"), required=False)
    site_hazard = forms.ChoiceField(label=_("场地隐患"), required=False, choices=SiteHazard.choices)
    occupied = forms.BooleanField(label=_("有人居住"), required=False, initial=True)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args: Any, house: Any, **kwargs: Any):
        kwargs.setdefault("prefix", f"house-{house.pk}")
        super().__init__(*args, **kwargs)
        self.house = house
        style_form(self)

    @property
    def flag_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FLAGS]

    def finding(self) -> dict[str, Any]:
        return {"house": self.house, **self.cleaned_data}


def finding_forms(data: Any, houses: list[Any], findings: dict[int, Any] | None = None) -> list[FindingForm]:
    """One form per house; when editing, each starts from the recorded finding."""
    forms_ = []
    for house in houses:
        initial = None
        found = (findings or {}).get(house.pk)
        if found is not None:
            initial = {name: getattr(found, name) for name in FindingForm.base_fields}
        forms_.append(FindingForm(data, house=house, initial=initial))
    return forms_


class CheckFilterForm(forms.Form):
    """The one filter of the check list page; the API passes the same names."""

    division = forms.CharField(label=_("行政区划"), required=False, max_length=12)
    campaign = forms.IntegerField(label=_("核查批次"), required=False, min_value=1)
    verdict = forms.ChoiceField(label=_("核查结论"), required=False)
    household = forms.IntegerField(label=_("农户"), required=False, min_value=1, widget=forms.HiddenInput)
    mine = forms.BooleanField(label=_("只看我核查的"), required=False)
    q = forms.CharField(label=_("姓名或身份证号"), required=False, max_length=40)

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["verdict"].choices = [("", gettext("全部")), *Verdict.choices]
        if actor is not None:
            self.fields["division"].widget = forms.Select(choices=self._division_choices(actor))
            self.fields["campaign"].widget = forms.Select(
                choices=[("", gettext("全部"))]
                + [
                    (c.pk, c.name)
                    for c in Campaign.objects.visible_to(actor).order_by("-starts_on", "-id").only("pk", "name")[:50]
                ]
            )
        style_form(self)

    def _division_choices(self, actor: Any) -> list[tuple[str, str]]:
        levels = [Level.CITY, Level.COUNTY, Level.TOWN]
        if actor.division_id and actor.division.level in (Level.TOWN, Level.VILLAGE):
            levels.append(Level.VILLAGE)
        rows = Division.objects.visible_to(actor).filter(level__in=levels).order_by("code")
        choices = [("", gettext("全部（本辖区）"))] + [(d.code, INDENT[d.level] + d.display_name) for d in rows]
        current = (self.data.get("division") or "").strip() if self.is_bound else ""
        if current and current not in {code for code, _label in choices}:
            found = Division.objects.visible_to(actor).filter(code=current).first()
            if found:
                choices.append((found.code, found.display_name))
        return choices

    def clean_division(self) -> Division | None:
        code = (self.cleaned_data["division"] or "").strip()
        if not code:
            return None
        division = Division.objects.filter(code=code).first()
        if division is None:
            raise forms.ValidationError(gettext("区划代码{code}不存在").format(code=code))
        return division
