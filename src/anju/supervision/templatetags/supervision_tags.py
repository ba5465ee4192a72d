"""Lookups the assessment table needs in a template."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def cells(row: Any, keys: list[str]) -> list[tuple[str, Any]]:
    return row.cells(keys)
