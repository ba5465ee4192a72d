"""Reads on the division tree, scoped like every other model."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from anju.core.scope import PREFIX_LENGTH

from .models import Division


def division_list(*, actor: Any, parent: str | None = None, level: str | None = None) -> QuerySet[Division]:
    qs = Division.objects.visible_to(actor)
    if parent:
        qs = qs.filter(parent_id=parent)
    if level:
        qs = qs.filter(level=level)
    return qs.select_related("parent").order_by("code")


def division_get(*, actor: Any, code: str) -> Division:
    return get_object_or_404(Division.objects.visible_to(actor).select_related("parent"), code=code)


def division_path(division: Division) -> list[Division]:
    """Ancestors from the top down to `division` (for breadcrumbs); one query."""
    codes = [division.code[:n].ljust(12, "0") for n in PREFIX_LENGTH.values() if n <= len(division.prefix)]
    found = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [found[c] for c in dict.fromkeys(codes) if c in found]
