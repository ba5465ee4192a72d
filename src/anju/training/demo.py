"""Demo data of the training ledger (P17): each county's (and the city's) yearly session for its field staff and
the sample craftsmen's sessions, recorded through the services like real ones and marked 示例."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.utils import timezone

from anju.accounts.models import User
from anju.accounts.permissions import Role
from anju.cases.models import Craftsman

from .models import Attendance, Session, SessionKind
from .services import attendee_add, organiser_for, session_create

STAFF_TOPIC = "农村住房安全核查与鉴定（演示）"
CRAFTSMAN_TOPIC = "农村危房改造工匠培训（演示）"
#: The demo's field staff: those who check, appraise or sign (the admin checks too in the demo journeys).
FIELD_ROLES = {Role.ADMIN, Role.COUNTY_MANAGER, Role.APPRAISER, Role.TOWN_STAFF, Role.VILLAGE_STAFF}


def _ensure(organiser: str, held_on: dt.date, topic: str, kind: str, users=(), craftsmen=()) -> None:
    session = Session.objects.filter(division_id=organiser, held_on=held_on, topic=topic).first()
    if session is None:
        session_create(
            actor=None,
            division_code=organiser,
            held_on=held_on,
            topic=topic,
            kind=kind,
            trainer="县住建局（示例）",
            hours=4,
            place="县住建局会议室（示例）",
            users=list(users),
            craftsmen=list(craftsmen),
            is_sample=True,
        )
        return
    have = set(session.attendances.values_list("user_id", "craftsman_id"))
    for user in users:
        if (user.pk, None) not in have:
            attendee_add(actor=None, session=session, user=user)
    for craftsman in craftsmen:
        if (None, craftsman.pk) not in have:
            attendee_add(actor=None, session=session, craftsman=craftsman)


def demo_staff_training_ensure(users: Iterable[User], years: Iterable[int]) -> None:
    """P17: the demo's field staff were trained on 20 February of each year (last year and this year)."""
    today = timezone.localdate()
    groups: dict[str, list[User]] = defaultdict(list)
    for user in users:
        if FIELD_ROLES & set(user.roles or []) and user.division_id:
            groups[organiser_for(user.division_id)].append(user)
    for organiser, people in sorted(groups.items()):
        for year in years:
            _ensure(organiser, min(dt.date(year, 2, 20), today), STAFF_TOPIC, SessionKind.CHECK, users=people)


def demo_craftsmen_training_ensure(craftsmen: list[Craftsman], years: Iterable[int], today: dt.date) -> None:
    """P17, P22: the county's sample craftsmen were trained on 10 March of every year of the demo's works."""
    for county in sorted({c.division_id for c in craftsmen}):
        people = [c for c in craftsmen if c.division_id == county]
        for year in years:
            trained = set(
                Attendance.objects.filter(
                    craftsman__in=people, signed_in=True, session__held_on__year=year
                ).values_list("craftsman_id", flat=True)
            )
            missing = [c for c in people if c.pk not in trained]
            if missing:
                held_on = min(dt.date(year, 3, 10), today)
                _ensure(county, held_on, CRAFTSMAN_TOPIC, SessionKind.CRAFTSMAN, craftsmen=missing)
