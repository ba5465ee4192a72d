"""Template helpers of the appraisal pages (and the two buttons on the household page)."""

from __future__ import annotations

from typing import Any

from django import template

from anju.accounts.permissions import has_action

register = template.Library()


@register.filter
def may(user: Any, action: str) -> bool:
    """`{% if user|may:"inspections.report" %}`: the role table, for showing a button (the view still checks)."""
    return has_action(user, action)


@register.filter
def grade_description(spec: Any, grade: str) -> str:
    """The description of the grade chosen for a component (`ComponentSpec.description`)."""
    return spec.description(grade) if grade else ""
