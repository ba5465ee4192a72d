"""Putting a service's DomainError back on the form, field by field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from anju.core.errors import DomainError

FIELD_ALIASES = {"division": "division_code", "division_id": "division_code"}


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    if not exc.errors:
        form.add_error(None, exc.message)
    for field, message in exc.errors.items():
        field = FIELD_ALIASES.get(field, field)
        form.add_error(field if field in form.fields else None, message)


def style_form(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget and a Chinese label colon, so templates render fields uniformly."""
    form.label_suffix = _("：")
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")
