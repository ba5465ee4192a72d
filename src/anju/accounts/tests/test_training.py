"""The P17 gate (`require_trained`) reads the training ledger: signed in at a session of the year, nothing less."""

import datetime as dt

import pytest

from anju.accounts.training import is_trained, require_trained
from anju.core.errors import DomainError
from anju.testing import factories
from anju.training.models import Attendance
from anju.training.services import session_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return factories.user("yy", factories.YUYANG, "county_manager")


def test_gate_refuses_the_untrained_with_the_policy_reason(manager):
    """policy: P17 — untrained people may not take part in checks."""
    checker = factories.user("cun", factories.village(factories.YUYANG_TOWN).code, "village_staff")
    with pytest.raises(DomainError) as info:
        require_trained(checker, on=dt.date(2026, 4, 1), work="房屋安全核查")
    assert "2026年度培训" in info.value.message and "P17" in info.value.message
    session_create(
        actor=manager,
        division_code=factories.YUYANG,
        held_on=dt.date(2026, 3, 5),
        topic="核查培训",
        users=[checker],
    )
    require_trained(checker, on=dt.date(2026, 4, 1), work="房屋安全核查")
    # Last year's training does not cover next year.
    assert not is_trained(checker, 2027)


def test_on_the_list_but_not_signed_in_is_not_trained(manager):
    """policy: P17 — a session's list is not its sign-in sheet."""
    checker = factories.user("cun", factories.village(factories.YUYANG_TOWN).code, "village_staff")
    session_create(
        actor=manager,
        division_code=factories.YUYANG,
        held_on=dt.date(2026, 3, 5),
        topic="核查培训",
        users=[checker],
        signed_in=False,
    )
    assert not is_trained(checker, 2026)
    Attendance.objects.filter(user=checker).update(signed_in=True)
    assert is_trained(checker, 2026)
    assert not is_trained(None, 2026)
