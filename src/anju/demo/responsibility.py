"""The demo's responsibility chain (P18 市包县、县包镇、镇包村户), assigned through the service as staff would.

The demo users answer for their own divisions: the county managers of 榆阳区 and 神木市 for their counties
(named by the city admin), the 镇川镇 staff for the town (named by 榆阳区), the village user for its village
(named by the town). They are the people the demo ledger has sign its 四清 (P2), so the signatures stay theirs.
The other counties, towns and villages stay unassigned on purpose: the demo shows `P18.unassigned` and the
fallback to the nearest role user.
Idempotent: a target that already has an active person is left alone.
"""

from __future__ import annotations

from anju.accounts.models import User
from anju.divisions.models import Division
from anju.responsibility.models import Assignment
from anju.responsibility.services import assignment_assign

REASON = "演示数据：包抓责任人"


def demo_chain_ensure() -> int:
    """Assign the demo chain; returns how many assignments were made now."""
    from .services import DEMO_TOWN_USER, SHENMU, YUYANG, demo_village_user

    county_users = {YUYANG: "yuyang_admin", SHENMU: "shenmu_admin"}
    town_user = DEMO_TOWN_USER
    village_user = getattr(demo_village_user(), "username", None)
    people = {u.username: u for u in User.objects.select_related("division").filter(is_active=True)}
    admin = people.get("admin")
    made = 0

    def assign(actor: User | None, person: User | None, division: Division) -> None:
        nonlocal made
        if actor is None or person is None:
            return
        if Assignment.objects.active().of_divisions().filter(division=division).exists():
            return
        assignment_assign(actor=actor, person=person, division=division, reason=REASON)
        made += 1

    for code, username in county_users.items():
        county = Division.objects.filter(code=code).first()
        if county is not None:
            assign(admin, people.get(username), county)
    town_staff = people.get(town_user)
    if town_staff is None or town_staff.division is None:
        return made
    town = town_staff.division
    assign(people.get(county_users.get(town.code[:6] + "000000", "")), town_staff, town)
    villager = people.get(village_user or "")
    if villager is not None and villager.division is not None:
        assign(town_staff, villager, villager.division)
    return made
