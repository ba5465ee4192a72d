"""P17: only people trained this year may check, appraise or build. The one place that enforces it for staff;
"trained" is read from the training ledger (`anju.training`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from anju.core.errors import DomainError


def is_trained(user: Any, year: int) -> bool:
    """Signed in at a training session of `year` (the ledger's one condition)."""
    from anju.training.selectors import user_is_trained

    return bool(user) and user_is_trained(user, year)


def require_trained(user: Any, *, on: dt.date, work: str, field: str = "user") -> None:
    """Refuse `work` (e.g. "房屋安全核查") by someone not trained in the year of `on`."""
    if not is_trained(user, on.year):
        name = user.get_full_name() if getattr(user, "pk", None) else _("该人员")
        raise DomainError(
            _("{name}未参加{year}年度培训，不能参与{work}（P17：未经培训不得参与核查、鉴定和改造）").format(
                name=name, year=on.year, work=work
            ),
            errors={field: _("未参加{year}年度培训").format(year=on.year)},
        )
