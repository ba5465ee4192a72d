"""Builders for the complaint tests: real rows through the real services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from anju.accounts.models import User
from anju.divisions.models import Division
from anju.testing import factories

from .. import services
from ..models import Complaint, ComplaintState, OpinionIncident, PublicityActivity

TODAY = dt.date.today()


def county_manager(division: Division | str) -> User:
    """The county manager of the row's county (the factories' builder user)."""
    code = division if isinstance(division, str) else division.code
    return factories._system(Division.objects.get(code=code))


def complaint(village: Division, **values: Any) -> Complaint:
    data = {
        "division_code": village.code,
        "channel": "hotline",
        "received_on": TODAY,
        "complainant_name": "李群众",
        "phone": "13800001234",
        "content": "反映房屋墙体开裂，担心不安全",
        "category": "housing_safety",
    } | values
    return services.complaint_register(actor=county_manager(village), **data)


def advance(item: Complaint, to: str, *, on: dt.date | None = None, satisfaction: str = "satisfied") -> Complaint:
    """Move a complaint through assign, reply and close until it is in state `to`, everything dated `on`."""
    on = on or item.received_on
    actor = county_manager(item.division_id)
    order = [ComplaintState.RECEIVED, ComplaintState.HANDLING, ComplaintState.REPLIED, ComplaintState.CLOSED]
    while order.index(item.state) < order.index(to):
        if item.state == ComplaintState.RECEIVED:
            item = services.complaint_assign(actor=actor, complaint=item, handler=actor, assigned_on=on)
        elif item.state == ComplaintState.HANDLING:
            item = services.complaint_reply(
                actor=actor, complaint=item, reply_text="经核实已安排鉴定", reply_method="phone", replied_on=on
            )
        else:
            item = services.complaint_close(actor=actor, complaint=item, satisfaction=satisfaction, closed_on=on)
    return Complaint.objects.get(pk=item.pk)


def activity(village: Division, **values: Any) -> PublicityActivity:
    data = {"held_on": TODAY, "kind": "door_to_door", "title": "农村住房安全政策入户宣传", "audience": 40} | values
    return services.publicity_record(actor=county_manager(village), division_code=village.code, **data)


def incident(village: Division, **values: Any) -> OpinionIncident:
    data = {"found_on": TODAY, "source": "social", "summary": "网传某村危房改造补助未发放"} | values
    return services.incident_record(actor=county_manager(village), division_code=village.code, **data)
