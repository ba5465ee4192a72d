"""Template helpers of the appraisal pages (and the two buttons on the household page)."""

from __future__ import annotations

from typing import Any

from django import template

from anju.web.templatetags.anju_tags import may

register = template.Library()
register.filter("may", may)


@register.filter
def grade_description(spec: Any, grade: str) -> str:
    """The description of the grade chosen for a component (`ComponentSpec.description`)."""
    return spec.description(grade) if grade else ""
