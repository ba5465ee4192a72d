"""One filter set for the household and house lists, shared by the web pages and the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core import idnumber
from anju.core.scope import scope_q
from anju.divisions.models import Division, Level
from anju.web.forms import style_form

from .models import Grade, House, HouseholdCategory, Structure, TargetCategory

BOOL_CHOICES = [("", _("全部")), ("1", _("是")), ("0", _("否"))]


class HouseholdFilterForm(forms.Form):
    division = forms.CharField(label=_("行政区划"), required=False, max_length=12)
    category = forms.ChoiceField(label=_("重点对象类型"), required=False)
    grade = forms.ChoiceField(label=_("安全等级"), required=False, choices=[("", _("全部")), *Grade.choices])
    structure = forms.ChoiceField(label=_("房屋结构"), required=False, choices=[("", _("全部")), *Structure.choices])
    idle = forms.ChoiceField(label=_("是否闲置"), required=False, choices=BOOL_CHOICES)
    target = forms.ChoiceField(label=_("重点对象"), required=False, choices=BOOL_CHOICES)
    to_verify = forms.ChoiceField(label=_("待核实"), required=False, choices=BOOL_CHOICES)
    q = forms.CharField(label=_("姓名或身份证号"), required=False, max_length=40)

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", gettext("全部"))] + [
            (c.code, c.name) for c in TargetCategory.objects.filter(is_active=True)
        ]
        if actor is not None:
            self.fields["division"].widget = forms.Select(choices=self._division_choices(actor))
        style_form(self)

    def _division_choices(self, actor: Any) -> list[tuple[str, str]]:
        """The pages offer a pick-list of the actor's counties and towns (and villages, for town and village
        users); the API takes any code. A code from a drill-down link that is not listed is kept selected."""
        levels = [Level.CITY, Level.COUNTY, Level.TOWN]
        if actor.division_id and actor.division.level in (Level.TOWN, Level.VILLAGE):
            levels.append(Level.VILLAGE)
        indent = {
            Level.CITY: "",
            Level.COUNTY: "\u3000",
            Level.TOWN: "\u3000\u3000",
            Level.VILLAGE: "\u3000\u3000\u3000",
        }
        rows = Division.objects.visible_to(actor).filter(level__in=levels).order_by("code")
        choices = [("", gettext("全部（本辖区）"))] + [(d.code, indent[d.level] + d.display_name) for d in rows]
        current = (self.data.get("division") or "").strip() if self.is_bound else ""
        if current and current not in {code for code, _label in choices}:
            found = Division.objects.visible_to(actor).filter(code=current).first()
            if found:
                choices.append((found.code, found.display_name))
        return choices

    def clean_division(self) -> Division | None:
        code = self.cleaned_data["division"].strip()
        if not code:
            return None
        division = Division.objects.filter(code=code).first()
        if division is None:
            raise forms.ValidationError(gettext("区划代码{code}不存在").format(code=code))
        return division


def _house_conditions(data: dict[str, Any]) -> Q | None:
    q = Q()
    if data.get("grade"):
        q &= Q(grade=data["grade"])
    if data.get("structure"):
        q &= Q(structure=data["structure"])
    if data.get("idle") in ("0", "1"):
        q &= Q(is_idle=data["idle"] == "1")
    return q if q else None


def search_condition(text: str, *, prefix: str = "") -> Q:
    """An ID number (full, any spelling) matches by keyed hash; anything else is a name prefix."""
    value = idnumber.normalize(text)
    if len(value) == 18 and value[:17].isdigit():
        return Q(**{f"{prefix}id_hash": idnumber.keyed_hash(value)})
    return Q(**{f"{prefix}head_name__startswith": text.strip()})


def _active_members(category: str | None = None) -> QuerySet:
    qs = HouseholdCategory.objects.filter(ended_on__isnull=True)
    if category:
        qs = qs.filter(category__code=category)
    return qs.values("household_id")


def filter_households(qs: QuerySet, data: dict[str, Any]) -> QuerySet:
    """House and category conditions are `id IN (subquery)`: both engines drive them from the small
    side's index (a correlated EXISTS made SQLite probe every household in scope)."""
    # Houses and category rows carry their household's division, so the division narrows the subqueries too.
    where = scope_q("division_id", data["division"].prefix) if data.get("division") else Q()
    qs = qs.filter(where)
    if data.get("category"):
        qs = qs.filter(pk__in=_active_members(data["category"]).filter(where))
    if data.get("target") in ("0", "1"):
        members = _active_members().filter(where)
        qs = qs.filter(pk__in=members) if data["target"] == "1" else qs.exclude(pk__in=members)
    if data.get("to_verify") in ("0", "1"):
        qs = qs.filter(to_verify=data["to_verify"] == "1")
    house_q = _house_conditions(data)
    if house_q is not None:
        qs = qs.filter(pk__in=House.objects.filter(house_q, where).values("household_id"))
    if data.get("q"):
        qs = qs.filter(search_condition(data["q"]))
    return qs


def filter_houses(qs: QuerySet, data: dict[str, Any]) -> QuerySet:
    if data.get("division"):
        qs = qs.filter(scope_q("division_id", data["division"].prefix))
    house_q = _house_conditions(data)
    if house_q is not None:
        qs = qs.filter(house_q)
    if data.get("category"):
        qs = qs.filter(household_id__in=_active_members(data["category"]))
    if data.get("q"):
        qs = qs.filter(search_condition(data["q"], prefix="household__"))
    return qs
