"""Jurisdiction: one queryset method scopes every model to the user's division subtree.

After NetBox `RestrictedQuerySet.restrict()`: a user without the action, or without a division,
gets `none()` (fail closed). The filter is a range on the 12-digit code, which a plain B-tree
index serves on SQLite and PostgreSQL alike (STYLE.md "Scope").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from anju.accounts.models import User

# Digits that identify a division at each level of the 12-digit statistical code.
PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}


def code_prefix(code: str, level: str) -> str:
    return code[: PREFIX_LENGTH[level]]


def code_range(prefix: str) -> tuple[str, str]:
    """All 12-digit codes that start with `prefix`, as an inclusive range."""
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def scope_q(field: str, prefix: str) -> models.Q:
    """`field` within the subtree of `prefix`, as gte/lte (foreign keys accept those, not `range`)."""
    low, high = code_range(prefix)
    return models.Q(**{f"{field}__gte": low, f"{field}__lte": high})


def ancestor_codes(code: str) -> list[str]:
    """The codes of the divisions above `code` (its province, city, county, town), top down."""
    return [
        code[:n].ljust(12, "0")
        for n in PREFIX_LENGTH.values()
        if n < 12 and code[:n].ljust(12, "0") != code and code[n:].strip("0")
    ]


def in_scope(code: str, prefix: str) -> bool:
    return bool(code) and code.startswith(prefix)


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: User | Any, action: str = "view") -> ScopedQuerySet:
        """Rows in the user's subtree, if the user's roles allow `<app_label>.<action>`."""
        from anju.accounts.permissions import has_action

        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not user.division_id or not has_action(user, f"{self.model._meta.app_label}.{action}"):
            return self.none()
        where = scope_q(self.model.scope_field, user.scope_prefix)
        if getattr(self.model, "scope_includes_ancestors", False):
            where |= models.Q(**{f"{self.model.scope_field}__in": ancestor_codes(user.division_id)})
        return self.filter(where)


def division_field(**options: Any) -> models.ForeignKey:
    """The foreign key to the division tree by code that every Scoped row has; `options` for a model that must
    differ (a findings table written in bulk from codes just read drops the index and the constraint)."""
    return models.ForeignKey(
        "divisions.Division",
        to_field="code",
        db_column="division_code",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("行政区划"),
        **options,
    )


class Scoped(models.Model):
    """Abstract base of every row that belongs to a division (its village or smallest division).

    `division_code` is a real foreign key to the division tree, so an unknown code cannot be stored.
    """

    division = division_field()

    scope_field: ClassVar[str] = "division_id"
    # Rows that an upper level sets for everyone below (a city campaign) are seen, not changed, down the tree.
    scope_includes_ancestors: ClassVar[bool] = False
    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def division_code(self) -> str:
        return self.division_id
