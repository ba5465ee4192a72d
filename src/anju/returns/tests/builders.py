"""Builders for P10's tests: real households, ledger cases and tracking records through the real services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from anju.cases.models import Case
from anju.cases.services import cases as case_services
from anju.divisions.models import Division
from anju.returns import services
from anju.returns.models import Tracking
from anju.testing import cases, factories

SINCE = dt.date(2025, 1, 15)


def secured_case(village: Division, means: str = "relatives") -> Case:
    """A D house's case made safe by living with relatives (保障安全)."""
    case = cases.dangerous_case(factories.house(factories.household(village)), grade="D")
    return case_services.case_secure(
        actor=cases.manager(case), case=case, means=means, secured_on=dt.date.today(), evidence="亲友住房经鉴定为A级"
    )


def returned(village: Division, **values: Any) -> Tracking:
    """A migrant worker's household back home since SINCE, living in its old house, followed by its village."""
    data = {"kind": "returned", "housing": "own_dangerous", "housed_since": SINCE, "returned_on": SINCE} | values
    return services.tracking_start(actor=factories._system(village), household=factories.household(village), **data)


def explained(tracking: Tracking, on: dt.date = SINCE) -> Tracking:
    return services.tracking_explain(
        actor=factories._system(tracking.division),
        tracking=tracking,
        explained_on=on,
        explained_by="镇干部",
        explanation="补助标准与改造方式",
    )


def wish_confirmed(tracking: Tracking, on: dt.date = SINCE) -> Tracking:
    tracking = explained(tracking, on)
    return services.tracking_confirm_wish(
        actor=factories._system(tracking.division), tracking=tracking, confirmed_on=on, signed_by="户主", signed=True
    )
