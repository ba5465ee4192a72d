"""`style_form`: every widget gets the Bootstrap class its kind of input needs."""

from __future__ import annotations

import re

from django import forms

from anju.cases.forms import DesignForm
from anju.web.forms import style_form


class Sample(forms.Form):
    name = forms.CharField()
    kind = forms.ChoiceField(choices=[("a", "甲"), ("b", "乙")])
    level = forms.ChoiceField(choices=[("a", "甲"), ("b", "乙")], widget=forms.RadioSelect)
    tags = forms.MultipleChoiceField(choices=[("a", "甲"), ("b", "乙")], widget=forms.CheckboxSelectMultiple)
    signed = forms.BooleanField()


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
    }
    assert form.label_suffix == "："


def test_a_form_without_its_own_patch_renders_radios_as_radios():
    """The ledger's design step (cases) never set the class itself: its radios were drawn as empty text boxes."""
    html = str(DesignForm()["design_kind"])
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert radios and all('class="form-check-input"' in radio for radio in radios)
