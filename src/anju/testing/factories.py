"""Builders for tests: real rows through the real services (no mocks of our own code)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from anju.accounts.models import User
from anju.accounts.services import user_create
from anju.core import idnumber
from anju.divisions.models import Division, Level
from anju.registry import services as registry
from anju.registry.models import House, Household

PASSWORD = "test-password-2021"
_seq = itertools.count(1)

# Two counties and two towns of one county, so scope tests have a neighbour at each level.
YUYANG = "610802000000"
SHENMU = "610881000000"
YUYANG_TOWN = "610802001000"  # 鼓楼街道
YUYANG_TOWN_2 = "610802002000"  # 青山路街道
SHENMU_TOWN = "610881001000"


def village(town_code: str, number: int = 1, name: str | None = None) -> Division:
    """A village under `town_code` (NBS rural village numbers start at 2xx)."""
    code = town_code[:9] + f"{200 + number:03d}"
    division, _ = Division.objects.get_or_create(
        code=code,
        defaults={
            "name": name or f"测试{number}村",
            "level": Level.VILLAGE,
            "parent_id": town_code,
            "is_sample": True,
        },
    )
    return division


def user(username: str, division_code: str, *roles: str) -> User:
    return user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        division_code=division_code,
        roles=list(roles),
        full_name=username,
    )


def id_number(address_code: str = "610802") -> str:
    n = next(_seq)
    return idnumber.compose(address_code, dt.date(1960, 1, 1) + dt.timedelta(days=n), n)


def household(division: Division, *, actor: Any = None, **values: Any) -> Household:
    data = {
        "head_name": f"张{next(_seq)}",
        "id_number": id_number(division.code[:6]),
        "size": 3,
        "group_name": "一组",
    } | values
    return registry.household_create(actor=actor or _system(division), division_code=division.code, **data)


def house(owner: Household, *, actor: Any = None, **values: Any) -> House:
    data = {"structure": "earth_cave", "build_year": 1985, "floor_area": "60.5"} | values
    return registry.house_create(actor=actor or _system(owner.division), household=owner, **data)


def _system(division: Division) -> User:
    """A county manager of the row's county, created on first use, to write through the services."""
    county = division.code[:6] + "000000"
    username = f"builder_{county[:6]}"
    found = User.objects.filter(username=username).first()
    return found or user(username, county, "county_manager")


def trained(person: User, year: int | None = None) -> User:
    """P17: `person` signed in at a training session of `year` (default: this year) held by their county."""
    training_session(person.division_id, year).attendances.get_or_create(user=person, defaults={"signed_in": True})
    return person


def training_session(code: str, year: int | None = None) -> Any:
    """The builders' one session of `year` for the county of `code` (the city for city staff and for a user
    without a division), held on 2 January (so it counts for the whole year and is never in the future)."""
    from anju.training.models import Session
    from anju.training.services import organiser_for

    day = dt.date(year or dt.date.today().year, 1, 2)
    session, _ = Session.objects.get_or_create(
        division_id=organiser_for(code or "610800000000"), held_on=day, topic="年度培训（测试）", defaults={"hours": 4}
    )
    return session
