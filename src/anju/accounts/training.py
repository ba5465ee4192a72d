"""P17: only people trained this year may check, appraise or build. The one place that enforces it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from anju.core.errors import DomainError

from .models import TrainingRecord


def is_trained(user: Any, year: int) -> bool:
    return bool(user and getattr(user, "pk", None)) and TrainingRecord.objects.filter(user=user, year=year).exists()


def require_trained(user: Any, *, on: dt.date, work: str, field: str = "user") -> None:
    """Refuse `work` (e.g. "房屋安全核查") by someone without a training record for the year of `on`."""
    if not is_trained(user, on.year):
        name = user.get_full_name() if getattr(user, "pk", None) else _("该人员")
        raise DomainError(
            _("{name}未参加{year}年度培训，不能参与{work}（P17：未经培训不得参与核查、鉴定和改造）").format(
                name=name, year=on.year, work=work
            ),
            errors={field: _("未参加{year}年度培训").format(year=on.year)},
        )
