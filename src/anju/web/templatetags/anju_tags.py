"""Template helpers shared by every page."""

from __future__ import annotations

from typing import Any

from django import template

from anju.accounts.permissions import has_action

register = template.Library()


@register.filter
def may(user: Any, action: str) -> bool:
    """`{% if user|may:"inspections.report" %}`: the role table, for showing a link (the view still checks)."""
    return has_action(user, action)
