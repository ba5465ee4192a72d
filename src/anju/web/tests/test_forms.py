"""`style_form`: every widget gets the Bootstrap class its kind of input needs."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils import translation

from anju.cases.forms import DesignForm
from anju.web.forms import style_form


class Sample(forms.Form):
    name = forms.CharField()
    kind = forms.ChoiceField(choices=[("a", "甲"), ("b", "乙")])
    level = forms.ChoiceField(choices=[("a", "甲"), ("b", "乙")], widget=forms.RadioSelect)
    tags = forms.MultipleChoiceField(choices=[("a", "甲"), ("b", "乙")], widget=forms.CheckboxSelectMultiple)
    signed = forms.BooleanField()
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


def test_each_kind_of_widget_gets_its_class():
    """Radios are check inputs, not text boxes (RadioSelect is no Select, so it fell to form-control)."""
    form = Sample()
    style_form(form)
    classes = {name: field.widget.attrs["class"] for name, field in form.fields.items()}
    assert classes == {
        "name": "form-control",
        "kind": "form-select",
        "level": "form-check-input",
        "tags": "form-check-input",
        "signed": "form-check-input",
        "day": "form-control",
    }
    assert form.label_suffix == "："


def test_a_form_without_its_own_patch_renders_radios_as_radios():
    """The ledger's design step (cases) never set the class itself: its radios were drawn as empty text boxes."""
    html = str(DesignForm()["design_kind"])
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert radios and all('class="form-check-input"' in radio for radio in radios)


def test_a_date_picker_shows_its_value_in_iso_form():
    """type=date takes only 2021-05-14: in zh-hans Django would write 2021/05/14, which the browser shows as
    blank and sends back empty (a saved date lost on the edit form, a required one making Save do nothing)."""
    form = Sample(initial={"day": dt.date(2021, 5, 14)})
    style_form(form)
    with translation.override("zh-hans"):
        assert 'value="2021-05-14"' in str(form["day"])
