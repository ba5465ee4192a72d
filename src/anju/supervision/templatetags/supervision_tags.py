"""Lookups the assessment table and the findings' state badges need in a template."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def cells(row: Any, keys: list[str]) -> list[tuple[str, Any]]:
    return row.cells(keys)


@register.filter
def late(finding: Any, today: dt.date) -> bool:
    """`Finding.is_late`, for the state badge: the rule stays in the model."""
    return finding.is_late(today)
