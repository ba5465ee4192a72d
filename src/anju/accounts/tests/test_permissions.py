"""The role table, cell by cell: written out here independently of the code's table."""

import pytest

from anju.accounts.models import User
from anju.accounts.permissions import ROLE_ACTIONS, Role, has_action

ACTIONS = [
    "divisions.view",
    "divisions.import",
    "registry.view",
    "registry.add",
    "registry.change",
    "registry.view_id",
    "audit.view",
    "accounts.manage",
    "inspections.view",
    "inspections.manage",
    "inspections.check",
    "inspections.report",
    "inspections.assign",
    "inspections.appraise",
    "inspections.review",
    "policy.view",
    "policy.refresh",
    "cases.view",
    "cases.open",
    "cases.apply",
    "cases.manage",
    "cases.visit",
    "cases.sign",
    "cases.configure",
    "exchange.view",
    "exchange.compare",
    "exchange.apply",
    "exchange.task",
    "training.view",
    "training.manage",
    "responsibility.view",
    "responsibility.assign",
    "disasters.view",
    "disasters.report",
    "disasters.manage",
    "complaints.view",
    "complaints.handle",
    "complaints.publicity",
    "supervision.view",
    "supervision.inspect",
    "supervision.rectify",
    "idle.view",
    "idle.manage",
    "returns.view",
    "returns.track",
    "cards.view",
    "cards.configure",
    "cards.distribute",
]
# Columns in ACTIONS order; Y = allowed.
EXPECTED = {
    # div reg vid aud acc | insp | pol | cases: v o a m vi s c | exchange: v c a t
    # 2nd line: train v m | resp v a | disasters v r m | complaints v h p | supervision v i r | idle v m
    #           returns v t | cards v c d
    Role.ADMIN:           "Y Y  Y Y Y  Y  Y  Y  Y Y Y Y Y Y Y  Y Y  Y Y Y Y Y . Y  Y Y Y Y"
                          "  Y Y  Y Y  Y Y Y  Y Y Y  Y Y Y  Y Y  Y Y  Y Y Y",
    Role.CITY_SUPERVISOR: "Y .  Y . .  .  Y  .  Y . . . . . .  Y .  Y . . . . . .  Y . . ."
                          "  Y .  Y .  Y . .  Y . .  Y Y .  Y .  Y .  Y . .",
    Role.COUNTY_MANAGER:  "Y Y  Y Y Y  Y  Y  .  Y Y Y Y Y . Y  Y .  Y Y Y Y Y Y .  Y Y Y Y"
                          "  Y Y  Y Y  Y Y Y  Y Y Y  Y . Y  Y Y  Y Y  Y . Y",
    Role.APPRAISER:       "Y .  Y . .  .  .  .  Y . . . . Y .  Y .  Y . . . . . .  Y . . ."
                          "  Y .  Y .  Y . .  Y . .  Y . .  Y .  Y .  Y . .",
    Role.TOWN_STAFF:      "Y .  Y Y Y  Y  .  .  Y . Y Y . . .  Y .  Y Y Y . . Y .  Y . . Y"
                          "  Y .  Y Y  Y Y .  Y Y Y  Y . .  Y Y  Y Y  Y . Y",
    Role.VILLAGE_STAFF:   "Y .  Y Y Y  .  .  .  Y . Y Y . . .  Y .  Y Y Y . . Y .  Y . . Y"
                          "  Y .  Y .  Y Y .  Y . .  Y . .  Y Y  Y Y  Y . Y",
    Role.DEPARTMENT:      "Y .  Y . .  .  .  .  Y . . . . . .  Y .  Y . . . . . .  Y Y . ."
                          "  Y .  Y .  Y . .  Y . .  Y . .  Y .  Y .  Y . .",
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", ACTIONS)
def test_cell(role, action):
    user = User(username="x", roles=[role.value], is_active=True)
    expected = EXPECTED[role].split()[ACTIONS.index(action)] == "Y"
    assert has_action(user, action) is expected


def test_table_has_no_unlisted_actions():
    listed = set(ACTIONS)
    for role, actions in ROLE_ACTIONS.items():
        assert actions <= listed, f"{role}: {actions - listed} not covered by this test"


def test_several_roles_add_up():
    user = User(username="x", roles=[Role.APPRAISER, Role.VILLAGE_STAFF], is_active=True)
    assert has_action(user, "registry.add")
    assert not has_action(user, "registry.view_id")


@pytest.mark.parametrize("roles", [[], ["unknown"]])
def test_no_or_unknown_role_allows_nothing(roles):
    user = User(username="x", roles=roles, is_active=True)
    assert not any(has_action(user, a) for a in ACTIONS)


def test_inactive_user_allows_nothing():
    user = User(username="x", roles=[Role.ADMIN], is_active=False)
    assert not has_action(user, "registry.view")
