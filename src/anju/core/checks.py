"""The checks every service starts with: the role and the subtree, a past date, a bounded text, and the one
"input is wrong" error carrying a message per field. One copy for every app (cases, disasters, complaints …)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from anju.accounts.permissions import require_action

from .errors import DomainError, ScopeError
from .scope import in_scope


def require(actor: Any, action: str, code: str, field: str | None = None) -> None:
    """The actor's roles allow `action` and `code` lies in the actor's subtree (no division: no subtree)."""
    require_action(actor, action)
    if not in_scope(code, actor.scope_prefix):
        message = _("不在您的管辖范围内")
        raise ScopeError(message, errors={field: message} if field else None)


def invalid(errors: dict[str, str], message: str | None = None) -> DomainError:
    return DomainError(message or _("输入有误，请检查标出的字段"), errors=errors)


def check_date(value: dt.date | None, field: str, label: str, *, required: bool = True) -> dict[str, str]:
    """A date that is given (when required) and not in the future."""
    if value is None:
        return {field: _("请填写{label}").format(label=label)} if required else {}
    if value > dt.date.today():
        return {field: _("{label}不能晚于今天").format(label=label)}
    return {}


def text(value: Any, limit: int) -> str:
    return (value or "").strip()[:limit]
