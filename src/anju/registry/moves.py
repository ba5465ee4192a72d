"""Rows that follow a household when it moves to another village (every scoped row keeps its scope right).

Found by walking foreign keys, so a capability that adds a model with a path to a household (a check, an
appraisal, an alert, later a ledger case) is moved too without being listed here.
"""

from __future__ import annotations

from functools import cache

from django.apps import apps
from django.db import models

from anju.core.scope import Scoped

from .models import Household

MAX_DEPTH = 3


def _paths(model: type[models.Model], depth: int) -> list[str]:
    found: list[str] = []
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.name == "division":
            continue
        target = field.related_model
        if target is Household:
            found.append(field.name)
        elif depth < MAX_DEPTH and isinstance(target, type) and issubclass(target, Scoped):
            found += [f"{field.name}__{rest}" for rest in _paths(target, depth + 1)]
    return found


@cache
def household_paths() -> dict[type[models.Model], tuple[str, ...]]:
    """Each scoped model (other than Household) and its foreign-key paths to a household."""
    out = {}
    for model in apps.get_models():
        if issubclass(model, Scoped) and model is not Household:
            paths = _paths(model, 1)
            if paths:
                out[model] = tuple(paths)
    return out


def move_household_rows(household: Household, division_code: str) -> dict[str, int]:
    """Re-scope every row that belongs to `household` to `division_code`; returns the counts per model."""
    counts = {}
    for model, paths in household_paths().items():
        where = models.Q()
        for path in paths:
            where |= models.Q(**{path: household})
        counts[model._meta.label] = model.objects.filter(where).update(division_id=division_code)
    return counts
