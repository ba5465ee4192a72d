"""Reads of department comparisons and registration tasks, scoped to the actor's subtree (`exchange.view`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Comparison, ComparisonItem, RegistrationTask


def _visible(qs: QuerySet, actor: Any) -> QuerySet:
    return qs if actor is None else qs.visible_to(actor)


def comparison_list(*, actor: Any) -> QuerySet[Comparison]:
    return _visible(Comparison.objects.select_related("division", "created_by"), actor)


def comparison_get(*, actor: Any, pk: int) -> Comparison:
    """Raises Comparison.DoesNotExist outside the actor's subtree (a 404 for views)."""
    return comparison_list(actor=actor).get(pk=pk)


def comparison_items(*, actor: Any, comparison: Comparison, result: str | None = None) -> QuerySet[ComparisonItem]:
    items = _visible(ComparisonItem.objects.filter(comparison=comparison), actor)
    if result:
        items = items.filter(result=result)
    return items.select_related("household", "division").order_by("id")


def task_list(*, actor: Any, status: str | None = None) -> QuerySet[RegistrationTask]:
    tasks = _visible(RegistrationTask.objects.select_related("division", "household"), actor)
    return tasks.filter(status=status) if status else tasks


def task_get(*, actor: Any, pk: int) -> RegistrationTask:
    return task_list(actor=actor).get(pk=pk)
