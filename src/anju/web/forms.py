"""Putting a service's DomainError back on the form, field by field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _

from anju.core.errors import DomainError

FIELD_ALIASES = {"division": "division_code", "division_id": "division_code"}


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """The service's errors next to their fields. Rules about something not on the form (the checker's P17
    training, the household's consent, the sign-offs) or only on a hidden field (a stale page's version) show at
    the top: the service's summary, then each of those messages."""
    off_form = []
    for field, message in exc.errors.items():
        field = FIELD_ALIASES.get(field, field)
        if field in form.fields and not form.fields[field].widget.is_hidden:
            form.add_error(field, message)
        else:
            off_form.append(message)
    for message in [exc.message] * (bool(off_form) or not exc.errors) + off_form:
        if message not in form.non_field_errors():
            form.add_error(None, message)


def style_form(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget and a Chinese label colon, so templates render fields uniformly; a
    date picker's value in ISO form, the only one `type=date` takes (the zh-hans default 2021/05/14 shows as
    blank and is sent back empty)."""
    form.label_suffix = _("：")
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.DateInput) and widget.input_type == "date" and not widget.format:
            widget.format = "%Y-%m-%d"
        if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect)):  # RadioSelect: CheckboxSelectMultiple too
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def paginate(request: HttpRequest, queryset: Any, size: int) -> tuple[Page, str]:
    """The requested page of a list, and the query string without `page` for the pager's links."""
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
